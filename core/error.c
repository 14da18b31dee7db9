/* Errors of the core: code, field path, message and limit id travel together (dmilab/error.h). */
#include <stdio.h>
#include <string.h>
#include "dmilab/error.h"

static int fail(dml_error *err, dml_code code, int limit, const char *field, const char *fmt, va_list ap)
{
    if (!err) return -1;
    err->code = code;
    err->limit = limit;
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    return -1;
}

int dml_fail(dml_error *err, dml_code code, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail(err, code, 0, field, fmt, ap);
    va_end(ap);
    return -1;
}

int dml_fail_limit(dml_error *err, int limit, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail(err, DML_ERR_LIMIT, limit, field, fmt, ap);
    va_end(ap);
    return -1;
}

void dml_error_clear(dml_error *err)
{
    if (!err) return;
    err->code = DML_OK;
    err->limit = 0;
    err->field[0] = 0;
    err->message[0] = 0;
}

const char *dml_code_name(dml_code code)
{
    switch (code) {
    case DML_OK: return "ok";
    case DML_ERR_INVALID_JSON: return "invalid_json";
    case DML_ERR_INVALID_SPEC: return "invalid_spec";
    case DML_ERR_LIMIT: return "limit_exceeded";
    case DML_ERR_IO: return "io_error";
    case DML_ERR_NUMERIC: return "numerical_error";
    case DML_ERR_NOMEM: return "out_of_memory";
    case DML_ERR_CANCELLED: return "cancelled";
    case DML_ERR_INTERNAL: break;
    }
    return "internal";
}
