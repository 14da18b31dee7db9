/* dmilab: the model object of a spec ("models") and of a kernel request ("model") as JSON: parsing with every
 * default filled in (a preset `arch` or an explicit `layers` list, docs/spec.md), and back. No limits here:
 * see dml_model_admit (limits.h). */
#ifndef DMILAB_MODEL_JSON_H
#define DMILAB_MODEL_JSON_H

#include <cjson/cJSON.h>
#include "dmilab/error.h"
#include "dmilab/model.h"

/** Largest `width` a model or a layer may declare (it is stored in an int); a server's --max-width is at most
 *  this. */
#define DML_WIDTH_MAX (1 << 30)

/** Parse a model object. `path` is the field path used in errors ("models[0]", "model"). Fills the
 *  defaults of dml_model_defaults first; a layer's missing fields come from the model's fields of the same
 *  name. Unknown fields, wrong types and out-of-range values (depth outside [0, 1000000], width outside
 *  [1, DML_WIDTH_MAX], an unknown layer kind, a last layer that is not dense, ...) are DML_ERR_INVALID_SPEC
 *  naming the field ("models[0].layers[3].conv.filter"). Whether the model fits an input shape is
 *  dml_model_layers' question, and server limits (depth, width) are admission's (dml_model_admit).
 *  Returns 0 or -1 with err. */
int dml_model_parse(const cJSON *obj, const char *path, dml_model *m, dml_error *err);

/** One model as JSON with every field: a preset as its arch and fields (which define its list), a list of
 *  its own as its layers with every layer's fields. It parses back to the same model. Caller frees with
 *  cJSON_Delete. */
cJSON *dml_model_json(const dml_model *m);

#endif
