/* dmilab server: the coordinator and the server side of the shard protocol. See cluster.h and docs/cluster.md. */
#include "cluster.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_tiles.h"
#include "dmilab/json.h"
#include "dmilab/spec.h"
#include "dmilab/tile_cache.h"
#include "metrics.h"
#include "provenance.h"
#include "shard_wire.h"
#include "store_shard_tiles.h"
#include "store_shards.h"
#include "ticker.h"
#include "util.h"

/* The largest inflated result a report may carry (points with training curves). */
#define RESULT_MAX ((size_t)256 << 20)

/* An experiment this process coordinates: its experiment lease, renewed by the keeper. */
typedef struct held {
    lease_claim claim;
    struct held *next;
} held;

struct cluster {
    app *a;
    lease_keeper *keeper;
    pthread_mutex_t mu;   /* planning (one experiment at a time) and the list of held experiments */
    held *held;
    ticker *t;
    void (*on_requeue)(void *ctx);
    void *ctx;
};

static int64_t lease_ms(const app *a)
{
    return (int64_t)a->cfg->lease_seconds * 1000;
}

/* ---- ending experiments ---- */

static void forget(cluster *c, const char *id)
{
    pthread_mutex_lock(&c->mu);
    for (held **p = &c->held; *p; p = &(*p)->next)
        if (strcmp((*p)->claim.id, id) == 0) {
            held *h = *p;
            *p = h->next;
            lease_keeper_remove(c->keeper, &h->claim);
            free(h);
            break;
        }
    pthread_mutex_unlock(&c->mu);
}

static void finish(cluster *c, const char *id, const char *status, const char *code, const char *field, const char *msg)
{
    char now[UTIL_TIME_LEN];
    util_now(now);
    int r = store_finish(c->a->st, id, lease_owner_self(), status, code, field, msg, now);
    if (r == 1) {
        util_log("experiment %s: %s%s%s", id, status, msg ? ": " : "", msg ? msg : "");
        metrics_finished(status);
        forget(c, id);
        app_changed(c->a);
    } else if (r < 0) {
        util_log("experiment %s: cannot record its end (%s); the next sweep tries again", id, store_error_text(r));
    }
}

/* End experiment `id` when its shards are all in (succeeded) or, cancel requested, none runs (cancelled). */
static void check_end(cluster *c, const char *id)
{
    long n[3], claims;
    long total = store_shards_count(c->a->st, id, n, &claims, NULL);
    if (total < 0)
        return;
    if (n[0] + n[1] == 0) {
        finish(c, id, "succeeded", NULL, NULL, NULL);
        return;
    }
    if (n[1] == 0 && store_cancel_requested(c->a->st, id) == 1)
        finish(c, id, "cancelled", NULL, NULL, NULL);
}

/* ---- planning ---- */

static char *unit_text(int d, int m, int rep, int i, int j)
{
    char buf[160];
    if (i < 0)
        snprintf(buf, sizeof buf, "{\"data\":%d,\"model\":%d,\"repeat\":%d}", d, m, rep);
    else
        snprintf(buf, sizeof buf, "{\"data\":%d,\"model\":%d,\"repeat\":%d,\"inference\":%d,\"n_train\":%d}", d, m, rep, i, j);
    return strdup(buf);
}

static int have(app *a, const char *id, const dml_spec *s, int d, int m, int i, int j, int rep)
{
    char arm[DML_ARM_MAX];
    snprintf(arm, sizeof arm, "%s/%s/%s", s->data[d].name, s->models[m].name, s->inference[i].name);
    return store_have_point(a->st, id, arm, s->data[d].n_train[j], rep) == 1;
}

/* A growable shard list. */
typedef struct {
    store_shard_plan *v;
    int n, cap, oom;
} plan_list;

static void push_w(plan_list *l, const char *kind, char *unit, int points, int done, int after_from, int after_to,
                   double weight)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        store_shard_plan *v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) {
            free(unit);
            l->oom = 1;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    if (!unit)
        l->oom = 1;
    l->v[l->n++] = (store_shard_plan){kind, unit, points, done, after_from, after_to, weight};
}

static void push(plan_list *l, const char *kind, char *unit, int points, int done, int after_from, int after_to)
{
    push_w(l, kind, unit, points, done, after_from, after_to, 0);
}

/* The kernel unit (d, m, rep) of `kpoints` points: one kernel shard, or (a kernel of at least two tile shards' worth,
 * cluster_tile_groups) its tile shards and a solve that waits for them. */
static void plan_kernel(app *a, const dml_spec *s, int d, int m, int rep, int kpoints, int kdone, plan_list *l)
{
    size_t rows, *bounds = NULL;
    int g = cluster_tile_groups(a, s, d, m, &rows, &bounds);
    if (g < 2) {
        free(bounds);
        push(l, "kernel", unit_text(d, m, rep, -1, -1), kpoints, kdone, 0, 0);
        return;
    }
    dml_tiling tg;
    dml_tiling_init(&tg, s->data[d].n_train[s->data[d].nn_train - 1], s->data[d].n_test, rows);
    /* progress: the unit's points shared between its tiles (by pairs) and its solve, by the cost model's seconds */
    double w = cluster_tile_share(a, s, d, m), all = 0, pairs[g];
    for (int k = 0; k < g; k++) {
        pairs[k] = dml_tiling_pairs(&tg, bounds[k], bounds[k + 1]);
        all += pairs[k];
    }
    int from = l->n;
    for (int k = 0; k < g; k++)
        push_w(l, "tile", cluster_tile_unit(d, m, rep, &tg, bounds[k], bounds[k + 1]), 0, kdone, 0, 0,
               fmax(kpoints * w * pairs[k] / fmax(all, 1), 1e-9));
    push_w(l, "solve", cluster_tile_unit(d, m, rep, &tg, 0, 0), kpoints, kdone, from, from + g, fmax(kpoints * (1 - w), 1e-9));
    free(bounds);
}

/* Split experiment `e` into its shards, in the order a single process runs them: per (data, model, repeat) its kernel
 * unit (one shard, or tile shards and their solve), then each trained (inference, size), then (repeat 0) the audit of
 * each arm of (data, model). Points stored before (a resumed experiment) make their shards done. */
static int plan(app *a, const store_experiment *e, char *err, size_t cap)
{
    const char *text = e->resolved_spec ? e->resolved_spec : e->spec ? e->spec : "";
    dml_spec s;
    dml_error de;
    memset(&s, 0, sizeof s);
    if (dml_spec_parse(text, strlen(text), a->cfg->data_root, &s, &de) != 0) {
        snprintf(err, cap, "cannot load the stored spec: %.400s", de.message);
        return -1;
    }
    plan_list l = {0};
    int rc = -1;
    for (int d = 0; d < s.ndata; d++)
        for (int m = 0; m < s.nmodels; m++)
            for (int rep = 0; rep < (int)s.repeats; rep++) {
                int kpoints = 0, kdone = 1;
                for (int i = 0; i < s.ninference; i++)
                    if (dml_method_is_kernel(s.inference[i].method))
                        for (int j = 0; j < s.data[d].nn_train; j++) {
                            kpoints++;
                            kdone &= have(a, e->id, &s, d, m, i, j, rep);
                        }
                /* repeat 0's kernel unit also computes the spectral readout of its arms (docs/spectrum.md) */
                for (int i = 0; rep == 0 && s.spectrum_n > 0 && i < s.ninference; i++)
                    if (dml_method_is_kernel(s.inference[i].method)) {
                        char arm[DML_ARM_MAX];
                        snprintf(arm, sizeof arm, "%s/%s/%s", s.data[d].name, s.models[m].name, s.inference[i].name);
                        kdone &= store_have_spectrum(a->st, e->id, arm) == 1;
                    }
                if (kpoints)
                    plan_kernel(a, &s, d, m, rep, kpoints, kdone, &l);
                for (int i = 0; i < s.ninference; i++)
                    if (!dml_method_is_kernel(s.inference[i].method))
                        for (int j = 0; j < s.data[d].nn_train; j++)
                            push(&l, "train", unit_text(d, m, rep, i, j), 1, have(a, e->id, &s, d, m, i, j, rep), 0, 0);
                /* the audit (docs/audit.md): one shard per arm of (data, model), measuring its cells under every group
                 * on repeat 0's data (the cells of one arm share its fits) */
                for (int i = 0; rep == 0 && s.audit.ngroups > 0 && i < s.ninference; i++) {
                    char arm[DML_ARM_MAX], buf[160];
                    snprintf(arm, sizeof arm, "%s/%s/%s", s.data[d].name, s.models[m].name, s.inference[i].name);
                    int adone = 1;
                    for (int g = 0; g < s.audit.ngroups; g++)
                        adone &= store_have_audit(a->st, e->id, arm, dml_transform_name(s.audit.groups[g].kind)) == 1;
                    snprintf(buf, sizeof buf, "{\"data\":%d,\"model\":%d,\"repeat\":0,\"inference\":%d}", d, m, i);
                    push(&l, "audit", strdup(buf), 0, adone, 0, 0);
                }
            }
    if (l.oom) {
        snprintf(err, cap, "out of memory");
        goto out;
    }
    int n = l.n;
    store_shard_plan *v = l.v;
    int k = store_shards_plan(a->st, e->id, v, n);
    if (k < 0) {
        snprintf(err, cap, "cannot store the shards: %s", store_error_text(k));
        rc = -2;
        goto out;
    }
    if (k == 1)
        util_log("experiment %s: split into %d shard(s)", e->id, n);
    for (int i = 0; k == 0 && i < n; i++)   /* planned before: a shard done whose results are not all stored runs again */
        if (!v[i].done && strcmp(v[i].kind, "tile") != 0 && store_shard_reopen(a->st, e->id, i, v[i].unit) == 1)
            util_log("experiment %s: shard %d is done but its results are not all stored: it runs again", e->id, i);
    rc = 0;
out:
    for (int i = 0; i < l.n; i++)
        free(l.v[i].unit);
    free(l.v);
    dml_spec_free(&s);
    return rc;
}

/* Take the oldest queued experiment as its coordinator and split it into shards. Returns 1 when one was taken, 0 when
 * none is queued, or a negative store error. */
static int take_next(cluster *c)
{
    app *a = c->a;
    char now[UTIL_TIME_LEN];
    util_now(now);
    store_experiment e;
    int r = store_claim(a->st, lease_owner_self(), util_now_ms(), lease_ms(a), now, &e);
    if (r != 1)
        return r;
    held *h = calloc(1, sizeof *h);
    if (h) {
        snprintf(h->claim.id, sizeof h->claim.id, "%s", e.id);
        lease_keeper_add(c->keeper, &h->claim);
        h->next = c->held;
        c->held = h;
    }
    app_changed(a);   /* it started running */
    if (!e.provenance) {
        cJSON *prov = provenance_json(a->cfg->threads, a->cfg->workers, a->version, NULL, 0);
        char *t = prov ? dml_json_print(prov) : NULL;
        if (t)
            store_set_provenance(a->st, e.id, lease_owner_self(), t);
        cJSON_free(t);
        cJSON_Delete(prov);
    }
    char err[512];
    int p = plan(a, &e, err, sizeof err);
    pthread_mutex_unlock(&c->mu);   /* finish and forget take the lock */
    if (p == -1)
        finish(c, e.id, "failed", "invalid_spec", NULL, err);
    else if (p == -2)
        store_release(a->st, e.id, lease_owner_self());
    else
        check_end(c, e.id);
    pthread_mutex_lock(&c->mu);
    store_experiment_free(&e);
    return p == -2 ? STORE_ERROR : 1;
}

/* ---- the protocol ---- */

static const char *str_field(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) && v->valuestring[0] && strlen(v->valuestring) < LEASE_OWNER_MAX ? v->valuestring : NULL;
}

static int bad(char *err, size_t cap, char field[64], const char *f, const char *msg)
{
    snprintf(field, 64, "%s", f);
    snprintf(err, cap, "%s", msg);
    return CLUSTER_BAD;
}

static int store_status(int r, char *err, size_t cap)
{
    snprintf(err, cap, "the database refused: %s", store_error_text(r));
    return CLUSTER_UNAVAILABLE;
}

static int do_claim(app *a, const cJSON *req, cJSON **answer, char *err, size_t cap, char field[64])
{
    const char *worker = str_field(req, "worker"), *slurm = str_field(req, "slurm_job");
    const cJSON *th = cJSON_GetObjectItemCaseSensitive(req, "threads");
    if (!worker)
        return bad(err, cap, field, "worker", "worker: expected the worker's id, a string of 1 to 255 bytes");
    int threads = cJSON_IsNumber(th) && th->valuedouble >= 1 && th->valuedouble <= 4096 ? (int)th->valuedouble : 0;
    cluster *c = a->cl;
    store_shard sh;
    int r = 0;
    pthread_mutex_lock(&c->mu);
    for (int tries = 0; tries < 16; tries++) {
        r = store_shard_claim(a->st, worker, threads, slurm, util_now_ms(), lease_ms(a), &sh);
        if (r != 0 || atomic_load(&a->stopping))
            break;
        int t = take_next(c);   /* nothing queued: split the next experiment */
        if (t <= 0) {
            r = t;
            break;
        }
    }
    pthread_mutex_unlock(&c->mu);
    if (r < 0)
        return store_status(r, err, cap);
    if (r == 0)
        return CLUSTER_NONE;
    cJSON *o = cJSON_CreateObject(), *s = cJSON_AddObjectToObject(o, "shard"), *x = cJSON_AddObjectToObject(o, "experiment");
    cJSON_AddStringToObject(s, "experiment_id", sh.experiment_id);
    cJSON_AddNumberToObject(s, "index", sh.idx);
    cJSON_AddStringToObject(s, "kind", sh.kind);
    cJSON_AddItemToObject(s, "unit", cJSON_Parse(sh.unit));
    cJSON_AddNumberToObject(s, "points", sh.points);
    cJSON_AddNumberToObject(s, "claims", sh.claims);
    if ((r = cluster_claim_tiles(a, &sh, s)) < 0) {   /* the shard's lease lapses and it is claimed again */
        cJSON_Delete(o);
        store_shard_free(&sh);
        return store_status(r, err, cap);
    }
    cJSON_AddItemToObject(x, "resolved_spec", sh.resolved_spec ? cJSON_Parse(sh.resolved_spec) : cJSON_CreateNull());
    cJSON *prov = sh.provenance ? cJSON_Parse(sh.provenance) : NULL;
    cJSON *files = prov ? cJSON_DetachItemFromObjectCaseSensitive(prov, "data_files") : NULL;
    cJSON_AddItemToObject(x, "data_files", files ? files : cJSON_CreateArray());
    cJSON_Delete(prov);
    cJSON_AddStringToObject(o, "data_root", a->cfg->data_root);
    cJSON_AddNumberToObject(o, "lease_seconds", a->cfg->lease_seconds);
    cJSON_AddNumberToObject(o, "renew_seconds", a->cfg->lease_seconds / 6.0);
    if (sh.claims > 1)
        util_log("experiment %s: shard %d (%s) claimed again by %s (claim %d)", sh.experiment_id, sh.idx, sh.kind, worker,
                 sh.claims);
    store_shard_free(&sh);
    *answer = o;
    return CLUSTER_OK;
}

/* The shard a renew or report names: (experiment_id, index, worker). */
static int shard_ref(const cJSON *req, const char **id, int *idx, const char **worker, char *err, size_t cap, char field[64])
{
    const cJSON *ix = cJSON_GetObjectItemCaseSensitive(req, "index");
    *id = str_field(req, "experiment_id");
    *worker = str_field(req, "worker");
    if (!*worker)
        return bad(err, cap, field, "worker", "worker: expected the worker's id, a string of 1 to 255 bytes");
    if (!*id || strlen(*id) > UTIL_ID_LEN + 4)
        return bad(err, cap, field, "experiment_id", "experiment_id: expected the id of the shard's experiment");
    if (!cJSON_IsNumber(ix) || ix->valuedouble < 0 || ix->valuedouble > 1e9 || ix->valuedouble != floor(ix->valuedouble))
        return bad(err, cap, field, "index", "index: expected the shard's index, a non-negative integer");
    *idx = (int)ix->valuedouble;
    return 0;
}

static int do_renew(app *a, const cJSON *req, cJSON **answer, char *err, size_t cap, char field[64])
{
    const char *id, *worker;
    int idx, cancel = 0;
    if (shard_ref(req, &id, &idx, &worker, err, cap, field))
        return CLUSTER_BAD;
    /* optional: how far the shard is (its kernel tiles) and the time left of them */
    const cJSON *fr = cJSON_GetObjectItemCaseSensitive(req, "fraction"), *eta = cJSON_GetObjectItemCaseSensitive(req, "eta_seconds");
    if (fr && !(cJSON_IsNumber(fr) && fr->valuedouble >= 0 && fr->valuedouble <= 1))
        return bad(err, cap, field, "fraction", "fraction: expected the done fraction of the shard, a number in [0, 1]");
    if (eta && !(cJSON_IsNumber(eta) && isfinite(eta->valuedouble) && eta->valuedouble >= 0))
        return bad(err, cap, field, "eta_seconds", "eta_seconds: expected the seconds left of the shard, a number >= 0");
    int r = store_shard_renew(a->st, id, idx, worker, util_now_ms(), lease_ms(a), fr ? fr->valuedouble : -1,
                              eta ? eta->valuedouble : -1, &cancel);
    if (r < 0)
        return store_status(r, err, cap);
    if (r == 0) {
        snprintf(err, cap, "the lease on shard %d of %s is lost (re-queued, taken by another worker, or its experiment ended)",
                 idx, id);
        return CLUSTER_LOST;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "held", 1);
    cJSON_AddBoolToObject(o, "cancel", cancel);
    *answer = o;
    return CLUSTER_OK;
}

/* provenance[key] = item (taken) in experiment `id`'s provenance; only_empty: unless it holds a non-empty array. */
static void provenance_put(app *a, const char *id, const char *key, cJSON *item, int only_empty)
{
    store_experiment e;
    if (store_get_experiment(a->st, id, &e) != 1) {
        cJSON_Delete(item);
        return;
    }
    cJSON *prov = e.provenance ? cJSON_Parse(e.provenance) : NULL;
    const cJSON *have = prov ? cJSON_GetObjectItemCaseSensitive(prov, key) : NULL;
    if (prov && !(only_empty && cJSON_IsArray(have) && cJSON_GetArraySize(have) > 0)) {
        cJSON_DeleteItemFromObjectCaseSensitive(prov, key);
        cJSON_AddItemToObject(prov, key, item);
        item = NULL;
        char *t = dml_json_print(prov);
        if (t)
            store_set_provenance(a->st, id, lease_owner_self(), t);
        cJSON_free(t);
    }
    cJSON_Delete(item);
    cJSON_Delete(prov);
    store_experiment_free(&e);
}

/* The first data files reported become the experiment's provenance (the later shards are checked against them). */
static void record_files(app *a, const char *id, const cJSON *files)
{
    if (cJSON_IsArray(files) && cJSON_GetArraySize(files) > 0)
        provenance_put(a, id, "data_files", cJSON_Duplicate(files, 1), 1);
}

/* provenance edits by concurrent reports: read, change, write under one lock */
static pthread_mutex_t prov_mu = PTHREAD_MUTEX_INITIALIZER;

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

cJSON *cluster_kernels_json(store *st, const char *id)
{
    char *text = store_shards_kernels(st, id);
    cJSON *recs = text ? cJSON_Parse(text) : NULL, *out = cJSON_CreateArray();
    free(text);
    for (const cJSON *r = recs ? recs->child : NULL; r; r = r->next) {
        cJSON *hit = NULL;
        for (cJSON *q = out->child; q && !hit; q = q->next)
            if (cJSON_Compare(cJSON_GetObjectItemCaseSensitive(q, "key"), cJSON_GetObjectItemCaseSensitive(r, "key"), 1) &&
                cJSON_Compare(cJSON_GetObjectItemCaseSensitive(q, "data"), cJSON_GetObjectItemCaseSensitive(r, "data"), 1) &&
                cJSON_Compare(cJSON_GetObjectItemCaseSensitive(q, "model"), cJSON_GetObjectItemCaseSensitive(r, "model"), 1) &&
                num(q, "repeat") == num(r, "repeat"))
                hit = q;
        if (!hit) {
            cJSON_AddItemToArray(out, cJSON_Duplicate(r, 1));
            continue;
        }
        const char *k[] = {"tiles", "stored", "computed"};
        for (int i = 0; i < 3; i++) {
            double v = num(hit, k[i]) + num(r, k[i]);
            cJSON_DeleteItemFromObjectCaseSensitive(hit, k[i]);
            cJSON_AddNumberToObject(hit, k[i], v);
        }
        double shards = num(hit, "shards") > 0 ? num(hit, "shards") + 1 : 2;
        cJSON_DeleteItemFromObjectCaseSensitive(hit, "shards");
        cJSON_AddNumberToObject(hit, "shards", shards);
        double t = num(hit, "tiles"), sd = num(hit, "stored");
        cJSON_DeleteItemFromObjectCaseSensitive(hit, "kernel_cache");
        cJSON_AddStringToObject(hit, "kernel_cache", sd >= t ? "hit" : sd > 0 ? "partial" : "miss");
    }
    cJSON_Delete(recs);
    return out;
}

static int do_report(app *a, const cJSON *req, cJSON **answer, char *err, size_t cap, char field[64])
{
    const char *id, *worker, *status = str_field(req, "status");
    int idx;
    if (shard_ref(req, &id, &idx, &worker, err, cap, field))
        return CLUSTER_BAD;
    if (!status || (strcmp(status, "done") && strcmp(status, "failed") && strcmp(status, "cancelled") &&
                    strcmp(status, "released")))
        return bad(err, cap, field, "status", "status: expected done, failed, cancelled or released");
    cluster *c = a->cl;
    int r;
    if (strcmp(status, "done") == 0) {
        cJSON *res = wire_unpack(req, RESULT_MAX, err, cap, field);
        if (!res)
            return CLUSTER_BAD;
        point_list pl = {0};
        const cJSON *pts = cJSON_GetObjectItemCaseSensitive(res, "points");
        r = cJSON_IsArray(pts) ? 0 : bad(err, cap, field, "data", "data: the result has no points array");
        for (const cJSON *p = r ? NULL : pts->child; p && r == 0; p = p->next)
            if (wire_point_parse(p, &pl, err, cap)) {
                snprintf(field, 64, "data");
                r = CLUSTER_BAD;
            }
        /* the kernel shard's spectral readouts, stored (once: INSERT OR IGNORE) under this coordinator's lease */
        spectrum_list sl = {0};
        const cJSON *sps = cJSON_GetObjectItemCaseSensitive(res, "spectra");
        for (const cJSON *p = r == 0 && cJSON_IsArray(sps) ? sps->child : NULL; p && r == 0; p = p->next)
            if (wire_spectrum_parse(p, &sl, err, cap)) {
                snprintf(field, 64, "data");
                r = CLUSTER_BAD;
            }
        for (size_t i = 0; r == 0 && i < sl.n; i++) {
            int k = store_report_spectrum(a->st, id, lease_owner_self(), util_now_ms(), lease_ms(a), sl.v[i]->arm_index,
                                          &sl.v[i]->a);
            if (k < 0)
                r = store_status(k, err, cap);
            else if (k == 0)
                util_log("experiment %s: a spectrum of shard %d is not stored: this server does not coordinate it", id, idx);
        }
        spectrum_list_free(&sl);
        /* its audit cells (docs/audit.md), stored the same way */
        audit_list al = {0};
        const cJSON *aus = cJSON_GetObjectItemCaseSensitive(res, "audits");
        for (const cJSON *p = r == 0 && cJSON_IsArray(aus) ? aus->child : NULL; p && r == 0; p = p->next)
            if (wire_audit_parse(p, &al, err, cap)) {
                snprintf(field, 64, "data");
                r = CLUSTER_BAD;
            }
        for (size_t i = 0; r == 0 && i < al.n; i++) {
            int k = store_report_audit(a->st, id, lease_owner_self(), util_now_ms(), lease_ms(a), al.arm_index[i], &al.v[i]);
            if (k < 0)
                r = store_status(k, err, cap);
            else if (k == 0)
                util_log("experiment %s: an audit cell of shard %d is not stored: this server does not coordinate it", id, idx);
        }
        audit_list_free(&al);
        if (r == 0) {
            const cJSON *kern = cJSON_GetObjectItemCaseSensitive(res, "kernel");
            char *ktext = cJSON_IsObject(kern) ? dml_json_print(kern) : NULL;
            r = store_shard_report(a->st, id, idx, worker, &pl, ktext);
            cJSON_free(ktext);
            if (r == 1) {
                pthread_mutex_lock(&prov_mu);
                record_files(a, id, cJSON_GetObjectItemCaseSensitive(res, "data_files"));
                pthread_mutex_unlock(&prov_mu);
            }
            char kind[16] = "", *unit = NULL;
            if (r == 1 && cJSON_IsObject(kern) == 0 && store_shard_unit(a->st, id, idx, NULL, kind, &unit) == 1 &&
                strcmp(kind, "solve") == 0)
                dml_tile_cache_evict(a->tile_dir, (double)a->cfg->cache_bytes);   /* uploaded kernels, within budget */
            free(unit);
            r = r < 0 ? store_status(r, err, cap) : r == 0 ? CLUSTER_LOST : CLUSTER_OK;
            if (r == CLUSTER_LOST)
                snprintf(err, cap, "shard %d of %s is not held by %s: nothing stored", idx, id, worker);
        }
        point_list_free(&pl);
        cJSON_Delete(res);
        if (r != CLUSTER_OK)
            return r;
        app_changed(a);
    } else {
        r = store_shard_release(a->st, id, idx, worker);
        if (r < 0)
            return store_status(r, err, cap);
        if (r == 1 && strcmp(status, "failed") == 0) {
            const cJSON *e = cJSON_GetObjectItemCaseSensitive(req, "error");
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
            const char *code = str_field(e, "code"), *msg = cJSON_IsString(m) ? m->valuestring : NULL, *f = str_field(e, "field");
            char full[1024];
            snprintf(full, sizeof full, "%s", msg && *msg ? msg : "the shard failed");
            util_log("experiment %s: shard %d failed on %s", id, idx, worker);
            finish(c, id, "failed", code ? code : "internal", f, full);
        }
        if (r == 1 && strcmp(status, "released") == 0 && a->cl->on_requeue)
            a->cl->on_requeue(a->cl->ctx);
    }
    check_end(c, id);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "stored", 1);
    *answer = o;
    return CLUSTER_OK;
}

int cluster_call(app *a, const char *op, const cJSON *req, cJSON **answer, char *err, size_t cap, char field[64])
{
    *answer = NULL;
    field[0] = '\0';
    err[0] = '\0';
    if (!a->cl) {
        snprintf(err, cap, "the coordinator is not running");
        return CLUSTER_UNAVAILABLE;
    }
    if (!cJSON_IsObject(req))
        return bad(err, cap, field, "", "the request body must be a JSON object");
    if (strcmp(op, "claim") == 0)
        return atomic_load(&a->stopping) ? CLUSTER_NONE : do_claim(a, req, answer, err, cap, field);
    if (strcmp(op, "renew") == 0)
        return do_renew(a, req, answer, err, cap, field);
    if (strcmp(op, "report") == 0)
        return do_report(a, req, answer, err, cap, field);
    if (strcmp(op, "tile") == 0) {
        const char *id, *worker;
        int idx;
        if (shard_ref(req, &id, &idx, &worker, err, cap, field))
            return CLUSTER_BAD;
        return cluster_tile_report(a, id, idx, worker, req, answer, err, cap, field);
    }
    if (strcmp(op, "tiles") == 0) {
        const char *id, *worker;
        int idx;
        if (shard_ref(req, &id, &idx, &worker, err, cap, field))
            return CLUSTER_BAD;
        return cluster_tile_have(a, id, idx, worker, req, answer, err, cap, field);
    }
    if (strcmp(op, "fetch") == 0)
        return cluster_tile_fetch(a, req, answer, err, cap, field);
    return bad(err, cap, field, "", "unknown protocol request");
}

/* ---- the sweep ---- */

static int gone_cb(void *ctx, const char *owner)
{
    (void)ctx;
    return lease_owner_gone(owner);
}

static void sweep(void *p)
{
    cluster *c = p;
    int n = store_shards_expire(c->a->st, util_now_ms(), gone_cb, NULL);
    if (n > 0) {
        metrics_lease_expiries(n);
        util_log("re-queued %d shard(s) whose lease lapsed or whose worker is gone", n);
        if (c->on_requeue)
            c->on_requeue(c->ctx);
    }
    char ids[64][UTIL_ID_LEN + 8];
    int k = store_running_of(c->a->st, lease_owner_self(), ids, 64);
    for (int i = 0; i < k; i++)
        check_end(c, ids[i]);
    /* experiments whose experiment lease this process lost: stop renewing them */
    pthread_mutex_lock(&c->mu);
    for (held **q = &c->held; *q;) {
        if (atomic_load(&(*q)->claim.lost)) {
            held *h = *q;
            *q = h->next;
            lease_keeper_remove(c->keeper, &h->claim);
            free(h);
        } else {
            q = &(*q)->next;
        }
    }
    pthread_mutex_unlock(&c->mu);
}

cluster *cluster_start(app *a, lease_keeper *keeper, void (*on_requeue)(void *ctx), void *ctx)
{
    cluster *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->a = a;
    c->keeper = keeper;
    c->on_requeue = on_requeue;
    c->ctx = ctx;
    pthread_mutex_init(&c->mu, NULL);
    /* experiments this process coordinated before a restart under the same owner id cannot exist: the keeper
     * re-queued them (their owner is gone) and they are planned again at their next claim, keeping their shards */
    a->cl = c;
    if (!(c->t = ticker_start(a->cfg->lease_seconds / 6.0, sweep, c))) {
        a->cl = NULL;
        pthread_mutex_destroy(&c->mu);
        free(c);
        return NULL;
    }
    return c;
}

void cluster_stop(cluster *c)
{
    if (!c)
        return;
    ticker_stop(c->t);
    c->a->cl = NULL;
    while (c->held) {   /* the experiments it coordinates go back to the queue, for another server or the next start */
        held *h = c->held;
        c->held = h->next;
        lease_keeper_remove(c->keeper, &h->claim);
        if (!atomic_load(&h->claim.lost) && store_release(c->a->st, h->claim.id, lease_owner_self()) == 1)
            util_log("experiment %s: given back to the queue (its shards keep their state)", h->claim.id);
        free(h);
    }
    pthread_mutex_destroy(&c->mu);
    free(c);
}

cJSON *cluster_shards_json(store *st, const char *id)
{
    long n[3], claims, exp;
    long total = store_shards_count(st, id, n, &claims, &exp);
    if (total <= 0)
        return NULL;
    long started = n[1] + n[2];   /* shards claimed at least once (a queued one may have been claimed before) */
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "total", (double)total);
    cJSON_AddNumberToObject(o, "queued", (double)n[0]);
    cJSON_AddNumberToObject(o, "running", (double)n[1]);
    cJSON_AddNumberToObject(o, "done", (double)n[2]);
    cJSON_AddNumberToObject(o, "claims", (double)claims);
    cJSON_AddNumberToObject(o, "reruns", (double)(claims > started ? claims - started : 0));
    cJSON_AddNumberToObject(o, "lease_expiries", (double)exp);
    long stored = 0, rerun = 0, found = 0, again = 0;
    if (store_shard_tiles_count(st, id, &stored, &rerun, &found, &again) == 0 && stored + again > 0) {
        cJSON *t = cJSON_AddObjectToObject(o, "tiles");
        cJSON_AddNumberToObject(t, "stored", (double)stored);
        cJSON_AddNumberToObject(t, "from_reruns", (double)rerun);
        cJSON_AddNumberToObject(t, "found", (double)found);
        cJSON_AddNumberToObject(t, "again", (double)again);
    }
    char jobs[4096];
    cJSON *a = cJSON_AddArrayToObject(o, "slurm_jobs");
    if (store_shards_slurm_jobs(st, id, jobs, sizeof jobs) > 0)
        for (char *save = NULL, *t = strtok_r(jobs, ",", &save); t; t = strtok_r(NULL, ",", &save))
            cJSON_AddItemToArray(a, cJSON_CreateString(t));
    return o;
}
