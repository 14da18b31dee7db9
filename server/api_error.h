/* dmilab server: the one mapping of errors to the API's error codes and HTTP statuses, shared by the routes and the
 * CLI: the core's dml_code, and the store's database faults. */
#ifndef DMILAB_SERVER_API_ERROR_H
#define DMILAB_SERVER_API_ERROR_H

#include "dmilab/error.h"
#include "reply.h"

/** An HTTP status and the API's error code (DESIGN section 4: invalid_json, invalid_spec, limit_exceeded, internal). */
typedef struct {
    unsigned status;
    const char *code;
} api_error;

/** The API's answer to a core error: invalid JSON, an invalid spec (also data that cannot be read and numbers the
 *  kernels cannot take: both are the request's) and a limit are 400 with their code; out of memory, a cancelled call
 *  and internal errors are 500 internal. */
api_error api_error_of(dml_code code);

/** Reply with the core error `err` as api_error_of maps it, its message followed by `suffix` (NULL for none), naming
 *  its field. */
void reply_dml_error(reply *r, const dml_error *err, const char *suffix);

/** Reply to a negative store result (store.h): a database locked by another process or a full disk is 503 with
 *  Retry-After (2 s and 30 s), a corrupted database 503 naming the file, anything else 500 internal. */
void reply_store_error(reply *r, int rc, const char *db_path);

#endif
