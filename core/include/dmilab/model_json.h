/* dmilab: the model object of the spec ("models") and of the kernel request ("model") as JSON: parsing with
 * defaults (DESIGN section 3) and printing with every field. No limits here: see admission.h. */
#ifndef DMILAB_MODEL_JSON_H
#define DMILAB_MODEL_JSON_H

#include <cjson/cJSON.h>
#include "dmilab/error.h"
#include "dmilab/model.h"

/** Largest `width` a model may declare (it is stored in an int); a server's --max-width is at most this. */
#define DML_WIDTH_MAX (1 << 30)

/** Parse a model object. `path` is the field path used in errors ("models[0]", "model"). Fills the
 *  defaults of dml_model_defaults first; unknown fields, wrong types and out-of-range values (depth outside
 *  [0, 1000000], width outside [1, DML_WIDTH_MAX], ...) are DML_ERR_INVALID_SPEC naming the field. Whether
 *  the model fits an input shape is dml_model_layers' question, and server limits (depth, width) are
 *  admission's (dml_model_admit). Returns 0 or -1 with err. */
int dml_model_parse(const cJSON *obj, const char *path, dml_model *m, dml_error *err);

/** One model as JSON with every field (caller frees with cJSON_Delete). */
cJSON *dml_model_json(const dml_model *m);

#endif
