/* dmilab server: what a shard's results look like on the wire between a worker and the server: points as JSON (both
 * ways) and the report payload, the result JSON compressed with zlib, base64-encoded and checksummed (SHA-256). */
#ifndef DMILAB_SERVER_SHARD_WIRE_H
#define DMILAB_SERVER_SHARD_WIRE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include "dmilab/audit.h"
#include "points.h"
#include "spectra.h"

/** A point with its grid position as JSON: dml_point_json plus "arm_index". NULL when out of memory. */
cJSON *wire_point_json(const dml_point *p, int arm_index);

/** The inverse of wire_point_json: append the point to `out` (null numbers read as NaN). Returns 0, or -1 with a
 *  message in err[cap] when a field is missing or of the wrong type. */
int wire_point_parse(const cJSON *o, point_list *out, char *err, size_t cap);

/** A kernel arm's spectral readout with its grid position as JSON (its spectrum's arrays in full, numbers printed to
 *  round-trip). NULL when out of memory. */
cJSON *wire_spectrum_json(const dml_arm_spectrum *a, int arm_index);

/** The inverse of wire_spectrum_json: append the readout to `out` (spectra.h; it owns the arrays). Returns 0, or -1
 *  with a message in err[cap]. */
int wire_spectrum_parse(const cJSON *o, spectrum_list *out, char *err, size_t cap);

/** A growable list of audit cells (docs/audit.md) with the grid positions of their arms; zero-initialize, free
 *  with audit_list_free. */
typedef struct {
    dml_audit_entry *v;
    int *arm_index;
    size_t n, cap;
} audit_list;

/** Append a copy of `e`. Returns 0, or -1 when out of memory. */
int audit_list_add(audit_list *l, const dml_audit_entry *e, int arm_index);
void audit_list_free(audit_list *l);

/** An audit cell with its arm's grid position as JSON: {"arm", "data", "model", "inference", "arm_index", "group",
 *  "method", "n_train", "gap" (the string "inf" for an infinite gap), "seed_gap", "threshold", "invariant" (bool),
 *  "seconds"}. NULL when out of memory. */
cJSON *wire_audit_json(const dml_audit_entry *e, int arm_index);

/** The inverse of wire_audit_json: append the cell to `out` (null numbers read as NaN). Returns 0, or -1 with a
 *  message in err[cap]. */
int wire_audit_parse(const cJSON *o, audit_list *out, char *err, size_t cap);

/** Pack `result` (any JSON) for a report: {"encoding": "zlib+base64", "size": bytes of the JSON text, "sha256": hex of
 *  the JSON text, "data": base64 of its zlib stream} added to `body`. Returns 0 or -1 (out of memory). */
int wire_pack(cJSON *body, const cJSON *result);

/** Unpack what wire_pack added to `body`: inflate, check the size and the SHA-256, parse. Returns the result JSON
 *  (caller frees), or NULL with the reason in err[cap] (a corrupt or truncated payload, a checksum mismatch) and the
 *  offending field name in field[64]. `max_size` bounds the inflated text. */
cJSON *wire_unpack(const cJSON *body, size_t max_size, char *err, size_t cap, char field[64]);

/** wire_pack for `n` raw bytes (a kernel tile's halves) at zlib level `level` (1: fast, 6: the default). */
int wire_pack_bytes(cJSON *body, const void *bytes, size_t n, int level);

/** wire_unpack for raw bytes: the inflated payload (malloc'd, NUL-terminated, caller frees) of *len bytes, between
 *  min_size and max_size, or NULL with err and field as wire_unpack. */
void *wire_unpack_bytes(const cJSON *body, size_t min_size, size_t max_size, size_t *len, char *err, size_t cap,
                        char field[64]);

#endif
