/* JSON in and out (see dmilab/json.h): the shortest round-trip printer and the one-value parser that
 * refuses \u0000 in strings. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/json.h"

void dml_format_double(char *buf, size_t size, double v)
{
    if (!isfinite(v)) {
        snprintf(buf, size, "null");
        return;
    }
    if (v == floor(v) && fabs(v) < 1e21) {   /* as JavaScript writes integers */
        snprintf(buf, size, "%.0f", v);
        return;
    }
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, size, "%.*g", digits, v);
        if (strtod(buf, NULL) == v) return;
    }
}

/* ---- printer ---- */

typedef struct {
    char *p;
    size_t n, cap;
    int failed;
} buf;

static int grow(buf *b, size_t more)
{
    if (b->failed) return -1;
    if (b->n + more + 1 <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + more + 1) cap *= 2;
    char *q = realloc(b->p, cap);
    if (!q) {
        b->failed = 1;
        return -1;
    }
    b->p = q;
    b->cap = cap;
    return 0;
}

static void put(buf *b, const char *s, size_t n)
{
    if (grow(b, n)) return;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void put_string(buf *b, const char *s)
{
    put(b, "\"", 1);
    if (s) {
        const char *run = s;
        for (; *s; s++) {
            unsigned char c = (unsigned char)*s;
            const char *esc = NULL;
            char u[8];
            switch (c) {
            case '"': esc = "\\\""; break;
            case '\\': esc = "\\\\"; break;
            case '\b': esc = "\\b"; break;
            case '\f': esc = "\\f"; break;
            case '\n': esc = "\\n"; break;
            case '\r': esc = "\\r"; break;
            case '\t': esc = "\\t"; break;
            default:
                if (c < 0x20) {
                    snprintf(u, sizeof u, "\\u%04x", c);
                    esc = u;
                }
            }
            if (!esc) continue;
            put(b, run, (size_t)(s - run));
            put(b, esc, strlen(esc));
            run = s + 1;
        }
        put(b, run, (size_t)(s - run));
    }
    put(b, "\"", 1);
}

static void put_item(buf *b, const cJSON *it)
{
    char num[40];
    switch (it->type & 0xff) {
    case cJSON_NULL: put(b, "null", 4); break;
    case cJSON_False: put(b, "false", 5); break;
    case cJSON_True: put(b, "true", 4); break;
    case cJSON_Number:
        dml_format_double(num, sizeof num, it->valuedouble);
        put(b, num, strlen(num));
        break;
    case cJSON_String: put_string(b, it->valuestring); break;
    case cJSON_Raw:
        if (it->valuestring) put(b, it->valuestring, strlen(it->valuestring));
        else b->failed = 1;
        break;
    case cJSON_Array:
    case cJSON_Object: {
        int obj = (it->type & 0xff) == cJSON_Object;
        put(b, obj ? "{" : "[", 1);
        for (const cJSON *c = it->child; c; c = c->next) {
            if (obj) {
                put_string(b, c->string);
                put(b, ":", 1);
            }
            put_item(b, c);
            if (c->next) put(b, ",", 1);
        }
        put(b, obj ? "}" : "]", 1);
        break;
    }
    default: b->failed = 1;
    }
}

char *dml_json_print(const cJSON *item)
{
    if (!item) return NULL;
    buf b = {0};
    put_item(&b, item);
    if (b.failed || !b.p) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* ---- parser ---- */

/* One level of the container stack of the \u0000 scan: an object (with the key being read) or a list. */
typedef struct {
    int obj, index, want_key;
    char key[65];
} level;

/* "<path>" of the value (or key) being read at the top of the stack, in the spec's field syntax. */
static void level_path(const level *lv, int depth, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = 0;
    for (int d = 0; d < depth && n < cap; d++) {
        int w = lv[d].obj ? snprintf(out + n, cap - n, "%s%s", n ? "." : "", lv[d].key)
                          : snprintf(out + n, cap - n, "[%d]", lv[d].index);
        if (w < 0) break;
        n += (size_t)w;
    }
}

/* Scan valid JSON text for a string or key holding the escape \u0000. Returns 0, or -1 with err. */
static int find_nul_escape(const char *t, size_t len, dml_error *err)
{
    int depth = 0, cap = 16, rc = 0;
    level *lv = malloc(sizeof *lv * (size_t)cap);
    if (!lv) return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
    for (size_t i = 0; i < len && rc == 0; i++) {
        char c = t[i];
        if (c == '{' || c == '[') {
            if (depth == cap) {
                level *q = realloc(lv, sizeof *lv * (size_t)(cap *= 2));
                if (!q) {
                    rc = dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
                    break;
                }
                lv = q;
            }
            lv[depth] = (level){.obj = c == '{', .index = 0, .want_key = c == '{'};
            depth++;
        } else if (c == '}' || c == ']') {
            depth--;
        } else if (c == ',' && depth > 0) {
            if (lv[depth - 1].obj) lv[depth - 1].want_key = 1;
            else lv[depth - 1].index++;
        } else if (c == ':' && depth > 0) {
            lv[depth - 1].want_key = 0;
        } else if (c == '"') {
            int is_key = depth > 0 && lv[depth - 1].obj && lv[depth - 1].want_key, nul = 0;
            char key[65];
            size_t k = 0;
            for (i++; i < len && t[i] != '"'; i++) {
                if (t[i] == '\\' && i + 1 < len) {
                    if (t[i + 1] == 'u' && i + 5 < len && memcmp(t + i + 2, "0000", 4) == 0) nul = 1;
                    i++;
                    continue;
                }
                if (!nul && k < sizeof key - 1) key[k++] = t[i];
            }
            key[k] = 0;
            if (is_key) memcpy(lv[depth - 1].key, key, sizeof key);
            if (nul) {
                char f[160];
                level_path(lv, depth, f, sizeof f);
                rc = dml_fail(err, DML_ERR_INVALID_SPEC, f,
                              "%s%s holds the character \\u0000, which strings may not contain", f[0] ? f : "a string",
                              is_key ? " (a key)" : "");
            }
        }
    }
    free(lv);
    return rc;
}

int dml_json_parse(const char *text, size_t len, cJSON **out, dml_error *err)
{
    *out = NULL;
    if (memchr(text, '\0', len))
        return dml_fail(err, DML_ERR_INVALID_JSON, NULL, "the body is not valid JSON (a NUL byte at byte %ld)",
                        (long)((const char *)memchr(text, '\0', len) - text));
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root)
        return dml_fail(err, DML_ERR_INVALID_JSON, NULL, "the body is not valid JSON (near byte %ld)",
                        end ? (long)(end - text) : 0L);
    while (end < text + len && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')) end++;
    if (end != text + len) {
        cJSON_Delete(root);
        return dml_fail(err, DML_ERR_INVALID_JSON, NULL, "the body is not one JSON value (more text at byte %ld)",
                        (long)(end - text));
    }
    /* cheap test first: the full scan only runs when the text holds "\u0000" somewhere */
    for (const char *p = text; (p = memchr(p, '\\', (size_t)(text + len - p))) != NULL; p++)
        if (text + len - p >= 6 && memcmp(p, "\\u0000", 6) == 0) {
            if (find_nul_escape(text, len, err)) {
                cJSON_Delete(root);
                return -1;
            }
            break;
        }
    *out = root;
    return 0;
}

cJSON *dml_json_number(double v) { return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull(); }

double dml_json_get_number(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

void dml_csv_number(char *buf, size_t size, double v)
{
    if (isfinite(v))
        dml_format_double(buf, size, v);
    else
        buf[0] = 0;
}
