/* dmilab internal: the grid expansion of swept model and inference fields (spec_sweep.c, DESIGN 3.1), for the
 * spec parser. */
#ifndef DMILAB_SPEC_SWEEP_H
#define DMILAB_SPEC_SWEEP_H

#include <cjson/cJSON.h>
#include "dmilab/error.h"
#include "dmilab/spec.h"

/** The sweep expansion of one model or inference entry `o` at path `path` ("models[0]"): every key of o whose
 *  value is a list, other than the keys in `lists` (fields whose value is a list anyway, e.g. a model's
 *  `filter`), is swept. *out receives a JSON array of the expanded entries (the grid of the swept fields, the
 *  first swept field varying slowest), each a copy of o with one value per swept field and, unless o has no
 *  swept field, a generated `name`: the entry's name (or `base`) followed by ".field=value" per swept field in
 *  the order of o's keys, values printed as in the resolved spec ("fcn.width=256", "sgd.lr=0.5.batch=32").
 *  swept[] receives, per expanded entry, a bit mask of o's swept keys in order (for error paths).
 *  Returns the count (1 without sweeps), or -1 with err: a swept list that is empty, longer than
 *  DML_SWEEP_MAX values or holding a list or object ("<path>.<key>[i]"), a grid above `max` entries, or a
 *  generated name longer than 64 characters ("<path>.name"). */
#define DML_SWEEP_MAX 64
int dml_sweep_expand(const cJSON *o, const char *path, const char *base, const char *const *lists, int max,
                     cJSON **out, dml_error *err);

/** Where expanded entry `e` of entry `index` (o, as given to dml_sweep_expand) came from: the index and each
 *  swept key with the position of the value this entry took, for the field paths of errors. */
void dml_sweep_origin(const cJSON *o, const char *const *lists, int index, int e, dml_entry_origin *out);

#endif
