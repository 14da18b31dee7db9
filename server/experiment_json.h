/* dmilab server: the experiment object of the API (DESIGN section 4) from a stored row. */
#ifndef DMILAB_SERVER_EXPERIMENT_JSON_H
#define DMILAB_SERVER_EXPERIMENT_JSON_H

#include <cjson/cJSON.h>
#include "store.h"

/** {"id", "name", "status", "progress", "created_at", "started_at", "finished_at", "error", "error_detail", "spec",
 *  "resolved_spec", "version", "provenance", "lease"}: timestamps, error and provenance null when unset;
 *  error_detail {"code", "message", "field"} (the core's code, the spec field or null) of a failed experiment, else
 *  null; lease {"owner", "expires_at"} of a running one, else null; spec,
 *  resolved_spec and provenance are their stored JSON text, added raw (cJSON_CreateRaw: printed as is, not
 *  parsed again; the server stores only JSON it printed itself). Caller frees (NULL when out of memory). */
cJSON *experiment_json(const store_experiment *e);

/** experiment_json with its "shards" (cluster_shards_json: counts, reruns, lease expiries, Slurm jobs; null before it
 *  is split), as GET /api/v1/experiments/{id} and .../wait answer. NULL when out of memory. */
cJSON *experiment_json_shards(store *st, const store_experiment *e);

#endif
