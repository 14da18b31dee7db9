/* dmilab internal: the data part of the spec parser (spec_data.c): one data variant from its JSON, every file
 * opened inside the data root, and back to the resolved JSON. */
#ifndef DMILAB_SPEC_DATA_H
#define DMILAB_SPEC_DATA_H

#include <cjson/cJSON.h>
#include "dmilab/data_spec.h"
#include "dmilab/error.h"

/** Parse one data variant at field path `path` ("data[1]"). With a data root every file is resolved and opened
 *  inside it and the headers are read (IDX: image side and counts; npy: shapes, dtypes, lengths); without one
 *  (NULL) no file is touched. Returns 0, or -1 with DML_ERR_INVALID_SPEC naming the field. */
int dml_spec_parse_data(const cJSON *o, const char *path, const char *root, dml_data_spec *d, dml_error *err);

/** The resolved JSON of one data variant (every default written out; parses back to the same variant). */
cJSON *dml_spec_data_json(const dml_data_spec *d);

#endif
