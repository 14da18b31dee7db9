/* dmilab server: the /api/v1/experiments routes (submit, list, get, results). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmilab/admission.h"
#include "dmilab/cost.h"
#include "dmilab/json.h"
#include "dmilab/results.h"
#include "dmilab/sha256.h"
#include "dmilab/spec.h"
#include "api_error.h"
#include "experiment_json.h"
#include "queue.h"
#include "routes.h"
#include "util.h"

#define LIST_DEFAULT 50
#define LIST_MAX 1000
/* Tags of one experiment read from its resolved spec, and tags of one list filter. */
#define TAGS_MAX 64
#define FILTER_TAGS_MAX 16

/* Reply with a core error of spec validation; a limit names the flag that sets it. */
static void spec_error(const app *a, reply *r, const dml_error *err)
{
    char hint[96] = "";
    if (err->code == DML_ERR_LIMIT)
        limit_hint(a, err, hint, sizeof hint);
    reply_dml_error(r, err, hint);
}

/* Reply with the stored experiment `id` (status given), or an error (routes.h). */
void reply_experiment(const request *rq, reply *r, unsigned status, const char *id)
{
    store_experiment e;
    int k = store_get_experiment(rq->a->st, id, &e);
    if (k < 0) {
        reply_store_error(r, k, store_path(rq->a->st));
        return;
    }
    if (k == 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "no experiment '%s'", id);
        reply_error(r, 404, "not_found", msg, NULL);
        return;
    }
    reply_json(r, status, experiment_json(&e));
    store_experiment_free(&e);
}

/* "true"/"1" -> 1, "false"/"0"/"" -> 0, NULL -> 0, anything else -> -1. */
static int parse_bool(const char *v)
{
    if (!v || !*v || strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
        return 0;
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
        return 1;
    return -1;
}

/* An Idempotency-Key is 1 to 255 visible ASCII characters. */
static int valid_key(const char *k)
{
    size_t n = strlen(k);
    if (n < 1 || n > 255)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (k[i] < 0x21 || k[i] > 0x7e)
            return 0;
    return 1;
}

void h_post_experiments(const request *rq, reply *r)
{
    app *a = rq->a;
    int dry = parse_bool(request_query(rq, "dry_run"));
    if (dry < 0) {
        reply_error(r, 400, "invalid_spec", "dry_run must be true or false", "dry_run");
        return;
    }
    const char *key = request_header(rq, "Idempotency-Key");
    if (key && !valid_key(key)) {
        reply_error(r, 400, "invalid_spec", "Idempotency-Key must be 1 to 255 visible ASCII characters",
                    "Idempotency-Key");
        return;
    }
    if (!dry && atomic_load(&a->stopping)) {
        reply_error(r, 503, "internal", "the server is shutting down; submit again when it is back", NULL);
        r->retry_after = 5;
        return;
    }
    char why[400];
    int health = dry ? 0 : store_health(a->st, why, sizeof why);
    if (health == STORE_CORRUPT) {   /* accept nothing into a database that cannot be read back */
        reply_error(r, 503, "internal", why, NULL);
        return;
    }
    /* The body is parsed once: the tree gives the spec, and the body itself, exactly as submitted, is the
     * stored `spec` (DESIGN 4), embedded as it is in replies. */
    dml_error err;
    dml_error_clear(&err);
    cJSON *root = NULL;
    if (dml_json_parse(rq->body, rq->body_len, &root, &err) != 0) {
        spec_error(a, r, &err);
        return;
    }
    dml_spec spec;
    int rc = dml_spec_from_json(root, a->cfg->data_root, &spec, &err);
    cJSON_Delete(root);
    if (rc != 0) {
        spec_error(a, r, &err);
        return;
    }
    if (dml_spec_admit(&spec, &a->cfg->limits, &err) != 0) {
        dml_spec_free(&spec);
        spec_error(a, r, &err);
        return;
    }
    cJSON *resolved = dml_spec_resolved_json(&spec);
    if (dry) {
        cJSON *o = cJSON_CreateObject(), *cost = dml_spec_cost_json(&spec, a->cfg->threads);
        dml_spec_free(&spec);
        if (!o || !resolved || !cost) {
            cJSON_Delete(o);
            cJSON_Delete(resolved);
            cJSON_Delete(cost);
            reply_error(r, 500, "internal", "out of memory", NULL);
            return;
        }
        cJSON_AddTrueToObject(o, "dry_run");
        cJSON_AddItemToObject(o, "resolved_spec", resolved);
        cJSON_AddItemToObject(o, "cost", cost);
        reply_json(r, 200, o);
        return;
    }
    char *resolved_text = resolved ? dml_json_print(resolved) : NULL;
    /* the tags of the list filter ?tag=, as the resolved spec has them */
    const char *tags[TAGS_MAX + 1];
    int ntags = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(resolved, "tags"))
        if (cJSON_IsString(t) && ntags < TAGS_MAX)
            tags[ntags++] = t->valuestring;
    tags[ntags] = NULL;
    if (!resolved_text) {
        cJSON_Delete(resolved);
        dml_spec_free(&spec);
        reply_error(r, 500, "internal", "cannot render the resolved spec", NULL);
        return;
    }
    char hash[DML_SHA256_HEX] = "";
    if (key && dml_sha256_hex(rq->body, rq->body_len, hash) != 0) {
        cJSON_Delete(resolved);
        dml_spec_free(&spec);
        free(resolved_text);
        reply_error(r, 500, "internal", "cannot hash the body", NULL);
        return;
    }
    char id[UTIL_ID_LEN], now[UTIL_TIME_LEN], existing[UTIL_ID_LEN + 8] = "";
    int k = STORE_ID_TAKEN;
    for (int attempt = 0; attempt < 5 && k == STORE_ID_TAKEN; attempt++) {
        if (util_new_id(id) != 0) {
            k = -1;
            break;
        }
        util_now(now);
        k = store_insert(a->st, id, spec.name, now, rq->body, rq->body_len, resolved_text, a->version, tags, key,
                         key ? hash : NULL, existing);
    }
    cJSON_Delete(resolved);   /* after the insert: the tags point into it */
    dml_spec_free(&spec);
    free(resolved_text);
    if (k == STORE_KEY_SAME) {
        snprintf(r->location, sizeof r->location, "/api/v1/experiments/%s", existing);
        reply_experiment(rq, r, 200, existing);
        return;
    }
    if (k == STORE_KEY_CONFLICT) {
        char msg[512];
        snprintf(msg, sizeof msg, "Idempotency-Key '%.255s' was used with a different body (experiment %s)", key,
                 existing);
        reply_error(r, 409, "conflict", msg, "Idempotency-Key");
        return;
    }
    if (k < 0) {
        reply_store_error(r, k, store_path(a->st));
        return;
    }
    if (k != STORE_INSERTED) {
        reply_error(r, 500, "internal", "cannot store the experiment", NULL);
        return;
    }
    util_log("experiment %s: queued", id);
    queue_notify(a->q);
    snprintf(r->location, sizeof r->location, "/api/v1/experiments/%s", id);
    reply_experiment(rq, r, 201, id);
}

static int valid_status(const char *s)
{
    static const char *const all[] = {"queued", "running", "succeeded", "failed", "cancelled"};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(s, all[i]) == 0)
            return 1;
    return 0;
}

/* The opaque cursor: hex of "<created_at>\n<id>" of the last experiment of the previous page. */
static char *cursor_encode(const store_experiment *e)
{
    char buf[UTIL_TIME_LEN + sizeof e->id + 2];
    snprintf(buf, sizeof buf, "%s\n%s", e->created_at ? e->created_at : "", e->id);
    return util_hex_encode(buf, strlen(buf));
}

void h_list_experiments(const request *rq, reply *r)
{
    const char *status = request_query(rq, "status");
    const char *limit_s = request_query(rq, "limit");
    const char *cursor = request_query(rq, "cursor");
    if (status && !*status)
        status = NULL;
    if (status && !valid_status(status)) {
        reply_error(r, 400, "invalid_spec", "status must be one of queued, running, succeeded, failed, cancelled",
                    "status");
        return;
    }
    int limit = LIST_DEFAULT;
    if (limit_s && *limit_s) {
        char *end;
        long v = strtol(limit_s, &end, 10);
        if (*end || v < 1 || v > LIST_MAX) {
            reply_error(r, 400, "invalid_spec", "limit must be an integer from 1 to 1000", "limit");
            return;
        }
        limit = (int)v;
    }
    char *decoded = NULL, *after_id = NULL;
    if (cursor && *cursor) {
        decoded = util_hex_decode(cursor, NULL);
        after_id = decoded ? strchr(decoded, '\n') : NULL;
        if (!after_id) {
            free(decoded);
            reply_error(r, 400, "invalid_spec", "invalid cursor", "cursor");
            return;
        }
        *after_id++ = '\0';
    }
    const char *q = request_query(rq, "q");
    const char *tags[FILTER_TAGS_MAX + 1];
    int ntags = request_query_all(rq, "tag", tags, FILTER_TAGS_MAX + 1);
    if (ntags > FILTER_TAGS_MAX) {
        free(decoded);
        reply_error(r, 400, "invalid_spec", "at most 16 tag parameters", "tag");
        return;
    }
    tags[ntags] = NULL;
    store_filter f = {.status = status, .name_contains = q && *q ? q : NULL, .tags = tags, .after_created = decoded,
                      .after_id = after_id};
    store_experiment *v;
    int n;
    int rc = store_list_experiments(rq->a->st, &f, limit + 1, &v, &n);
    free(decoded);
    if (rc != 0) {
        reply_store_error(r, rc, store_path(rq->a->st));
        return;
    }
    cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "experiments");
    int shown = n > limit ? limit : n;
    for (int i = 0; i < shown; i++)
        cJSON_AddItemToArray(arr, experiment_json(&v[i]));
    char *next = n > limit ? cursor_encode(&v[shown - 1]) : NULL;
    if (next)
        cJSON_AddStringToObject(root, "next_cursor", next);
    else
        cJSON_AddNullToObject(root, "next_cursor");
    free(next);
    store_experiments_free(v, n);
    reply_json(r, 200, root);
}

void h_get_experiment(const request *rq, reply *r)
{
    reply_experiment(rq, r, 200, rq->id);
}

void h_get_results(const request *rq, reply *r)
{
    int csv = request_format(rq, r, "csv"), k;
    store_experiment e;
    if (csv < 0 || !request_experiment(rq, r, &e))
        return;
    store_experiment_free(&e);
    point_list pl = {0};
    if ((k = store_points(rq->a->st, rq->id, &pl)) != 0) {
        point_list_free(&pl);
        reply_store_error(r, k, store_path(rq->a->st));
        return;
    }
    dml_point dummy, *arr = point_list_array(&pl);
    size_t n = pl.n;
    if (n > 0 && !arr) {
        point_list_free(&pl);
        reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    const dml_point *pts = arr ? arr : &dummy;
    if (csv) {
        reply_text(r, 200, "text/csv; charset=utf-8", dml_results_csv(pts, n));
    } else {
        cJSON *o = dml_results_json(rq->id, pts, n);
        spectrum_list sl = {0};   /* the predicted curves of the kernel arms with a spectrum, beside the measured */
        if ((k = store_spectra(rq->a->st, rq->id, 0, &sl)) != 0) {
            cJSON_Delete(o);
            spectrum_list_free(&sl);
            free(arr);
            point_list_free(&pl);
            reply_store_error(r, k, store_path(rq->a->st));
            return;
        }
        dml_arm_spectrum *sa = spectrum_list_array(&sl);
        if (sa)
            dml_curves_add_predicted(cJSON_GetObjectItemCaseSensitive(o, "curves"), sa, sl.n);
        free(sa);
        spectrum_list_free(&sl);
        reply_json(r, 200, o);
    }
    free(arr);
    point_list_free(&pl);   /* after the reply: the array borrows the list's training curves */
}
