/* dmilab server: the experiment object of the API (DESIGN section 4) from a stored row. */
#ifndef DMILAB_SERVER_EXPERIMENT_JSON_H
#define DMILAB_SERVER_EXPERIMENT_JSON_H

#include <cjson/cJSON.h>
#include "store.h"

/** {"id", "name", "status", "progress", "created_at", "started_at", "finished_at", "error", "spec",
 *  "resolved_spec", "version"}: timestamps and error null when unset; spec and resolved_spec parsed
 *  back from their stored JSON text. Caller frees (NULL when out of memory). */
cJSON *experiment_json(const store_experiment *e);

#endif
