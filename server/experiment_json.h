/* dmilab server: the experiment object of the API (DESIGN section 4) from a stored row. */
#ifndef DMILAB_SERVER_EXPERIMENT_JSON_H
#define DMILAB_SERVER_EXPERIMENT_JSON_H

#include <cjson/cJSON.h>
#include "store.h"

/** {"id", "name", "status", "progress", "created_at", "started_at", "finished_at", "error", "spec",
 *  "resolved_spec", "version", "provenance"}: timestamps, error and provenance null when unset; spec,
 *  resolved_spec and provenance are their stored JSON text, added raw (cJSON_CreateRaw: printed as is, not
 *  parsed again; the server stores only JSON it printed itself). Caller frees (NULL when out of memory). */
cJSON *experiment_json(const store_experiment *e);

#endif
