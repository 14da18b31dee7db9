/* dmilab internal: typed, path-aware access to JSON object fields for spec validation.
 * Each getter returns 0 when the key is absent (output untouched), 1 when it was read, -1 on error
 * with `err` naming "<path>.<key>" (DML_ERR_INVALID_SPEC). */
#ifndef DMILAB_JFIELD_H
#define DMILAB_JFIELD_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "dmilab/error.h"

/** "<path>.<key>" or "<key>" when path is empty, into buf. Returns buf. */
const char *jf_path(char *buf, size_t size, const char *path, const char *key);
/** "<path>[i]" into buf. */
const char *jf_index(char *buf, size_t size, const char *path, int i);

/** Reject keys of obj not in the NULL-terminated `allowed` list; obj must be an object. */
int jf_object(const cJSON *obj, const char *path, const char *const *allowed, dml_error *err);

int jf_number(const cJSON *obj, const char *key, const char *path, double lo, double hi, double *out,
              dml_error *err);
/** An integer-valued number in [lo, hi]. */
int jf_int(const cJSON *obj, const char *key, const char *path, long long lo, long long hi, long long *out,
           dml_error *err);
int jf_bool(const cJSON *obj, const char *key, const char *path, int *out, dml_error *err);
/** A string of 1..size-1 bytes copied into out. */
int jf_string(const cJSON *obj, const char *key, const char *path, char *out, size_t size, dml_error *err);
/** A string that must be one of names[0..n); *out gets its index. */
int jf_enum(const cJSON *obj, const char *key, const char *path, const char *const *names, int n, int *out,
            dml_error *err);
/** An integer or a list of 1..maxn integers, each in [lo, hi]; *n gets the count (1 for a scalar). */
int jf_int_list(const cJSON *obj, const char *key, const char *path, int maxn, long long lo, long long hi,
                long long *out, int *n, dml_error *err);

/** Names: 1 to 64 of letters, digits, '-', '_', '.', '=' (the names of swept entries, "fcn.width=256"). */
int jf_valid_name(const char *s);

#endif
