/* dmilab: the model object of a spec ("models") and of a kernel request ("model") as JSON: parsing with every
 * default filled in (a preset `arch` or an explicit `layers` list, docs/spec.md), and back. */
#ifndef DMILAB_MODEL_JSON_H
#define DMILAB_MODEL_JSON_H

#include <cjson/cJSON.h>
#include "dmilab/error.h"
#include "dmilab/model.h"

/** The server's bounds on a model (0: none beyond the valid ranges): the depth of a preset or the number of
 *  hidden dense/conv/conv-local layers of a list, and every width. Exceeding one is DML_ERR_LIMIT naming the
 *  field ("models[0].depth", "model.layers[2].dense.width"). */
typedef struct {
    int max_depth, max_width;
} dml_model_limits;

/** Parse a model object. `path` is the field path used in errors ("models[0]", "model"); `lim` may be NULL.
 *  Unknown fields are errors. Fills defaults first; a layer's missing fields come from the model's fields of
 *  the same name. Returns 0, or -1 with err (DML_ERR_INVALID_SPEC naming the field, DML_ERR_LIMIT). */
int dml_model_parse(const cJSON *obj, const char *path, const dml_model_limits *lim, dml_model *m, dml_error *err);

/** One model as JSON with every field: a preset as its arch and fields (which define its list), a list of
 *  its own as its layers with every layer's fields. It parses back to the same model. Caller frees with
 *  cJSON_Delete. */
cJSON *dml_model_json(const dml_model *m);

#endif
