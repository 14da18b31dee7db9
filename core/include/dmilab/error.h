/* dmilab: error reporting shared by the whole core. */
#ifndef DMILAB_ERROR_H
#define DMILAB_ERROR_H

#include <stdarg.h>

/** Error codes, matching the HTTP API's `error.code` values where one applies. */
typedef enum {
    DML_OK = 0,
    DML_ERR_INVALID_JSON,   /**< the text is not JSON */
    DML_ERR_INVALID_SPEC,   /**< a field is missing, of the wrong type, unknown or out of range */
    DML_ERR_LIMIT,          /**< valid, but beyond a configured limit */
    DML_ERR_IO,             /**< a data file could not be read */
    DML_ERR_NUMERIC,        /**< a numerical failure (matrix not positive definite, ...) */
    DML_ERR_NOMEM,          /**< allocation failed */
    DML_ERR_CANCELLED,      /**< the caller asked to stop */
    DML_ERR_INTERNAL
} dml_code;

/** An error: its code, the JSON path of the offending field ("" when none, e.g. "models[1].filter"),
 *  a human-readable message and, for DML_ERR_LIMIT, which limit was exceeded (a dml_limit_id of
 *  dmilab/limits.h; 0 otherwise), so that a server can name the flag that set it without reading the message. */
typedef struct {
    dml_code code;
    char field[160];
    char message[512];
    int limit;
} dml_error;

/** Set `err` (may be NULL) and return -1, so callers can write `return dml_fail(err, ...)`.
 *  `field` may be NULL. `fmt` is a printf format for the message. */
int dml_fail(dml_error *err, dml_code code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/** As dml_fail with code DML_ERR_LIMIT and err->limit = `limit` (a dml_limit_id). */
int dml_fail_limit(dml_error *err, int limit, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/** Clear an error to DML_OK with empty field and message. */
void dml_error_clear(dml_error *err);

/** The API name of a code: "invalid_spec", "limit_exceeded", "internal", ... */
const char *dml_code_name(dml_code code);

#endif
