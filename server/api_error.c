/* dmilab server: errors as the API answers them. See api_error.h. */
#include "api_error.h"

#include <stdio.h>

#include "store.h"

api_error api_error_of(dml_code code)
{
    switch (code) {
    case DML_ERR_INVALID_JSON: return (api_error){400, "invalid_json"};
    case DML_ERR_INVALID_SPEC:
    case DML_ERR_IO:
    case DML_ERR_NUMERIC: return (api_error){400, "invalid_spec"};
    case DML_ERR_LIMIT: return (api_error){400, "limit_exceeded"};
    case DML_OK:
    case DML_ERR_NOMEM:
    case DML_ERR_CANCELLED:
    case DML_ERR_INTERNAL: break;
    }
    return (api_error){500, "internal"};
}

void reply_dml_error(reply *r, const dml_error *err, const char *suffix)
{
    api_error e = api_error_of(err->code);
    char msg[sizeof err->message + 160];
    snprintf(msg, sizeof msg, "%s%s", err->message[0] ? err->message : dml_code_name(err->code), suffix ? suffix : "");
    reply_error(r, e.status, e.code, msg, err->field);
}

void reply_store_error(reply *r, int rc, const char *db_path)
{
    char msg[600];
    switch (rc) {
    case STORE_BUSY:
        reply_error(r, 503, "internal", "the database is locked by another process; retry shortly", NULL);
        r->retry_after = 2;
        break;
    case STORE_FULL:
        reply_error(r, 503, "internal", "the database's disk is full; retry when space is freed", NULL);
        r->retry_after = 30;
        break;
    case STORE_CORRUPT:
        snprintf(msg, sizeof msg, "the database %s is corrupted: restore it from a backup", db_path ? db_path : "");
        reply_error(r, 503, "internal", msg, NULL);
        break;
    default:
        reply_error(r, 500, "internal", "database error", NULL);
    }
}
