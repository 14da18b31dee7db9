/* dmilab: JSON in and out: one parser entry for request bodies and specs, one printer whose numbers read
 * back as the same doubles (cJSON prints 15 significant digits when they are "close enough"). */
#ifndef DMILAB_JSON_H
#define DMILAB_JSON_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "dmilab/error.h"

/** Print a double in the shortest round-trip form: integer-valued numbers of magnitude below 1e21 as
 *  integers ("%.0f": 9007199254740991, -0), otherwise the first of %.15g, %.16g, %.17g that strtod reads
 *  back as exactly v. NaN and infinities print "null" (JSON has no such numbers). `size` >= 32. */
void dml_format_double(char *buf, size_t size, double v);

/** A JSON number, or null for NaN and infinities (the API's outputs write missing numbers as null). */
cJSON *dml_json_number(double v);

/** The number member `key` of object `o`, or NaN when it is missing or not a number (null). */
double dml_json_get_number(const cJSON *o, const char *key);

/** A CSV cell of a number: dml_format_double, or empty for NaN and infinities. `size` >= 32. */
void dml_csv_number(char *buf, size_t size, double v);

/** The compact JSON text of `item` (no whitespace), as cJSON_PrintUnformatted writes it except for
 *  numbers, which are printed by dml_format_double so that every number reads back as the same double.
 *  Strings are escaped as cJSON does (quote, backslash, \b \f \n \r \t, other bytes below 0x20 as \u00XX);
 *  raw items (cJSON_CreateRaw) are copied verbatim. Returns a malloc'd NUL-terminated string, or NULL
 *  when out of memory (or `item` is NULL). */
char *dml_json_print(const cJSON *item);

/** Parse `len` bytes as exactly one JSON value (surrounding whitespace allowed). Returns 0 and the tree in
 *  *out (caller frees with cJSON_Delete), or -1 with `err`:
 *  DML_ERR_INVALID_JSON when the text is not one JSON value (a NUL byte, trailing text, or more nesting
 *  than cJSON allows), DML_ERR_INVALID_SPEC naming the field path ("data[0].path", "name") of a string or
 *  key that holds the escape \u0000, which C strings would silently cut there. */
int dml_json_parse(const char *text, size_t len, cJSON **out, dml_error *err);

#endif
