/* dmilab server: a worker of the shard protocol. See worker.h. */
#include "worker.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster.h"
#include "cluster_tiles.h"
#include "dmilab/error.h"
#include "dmilab/sha256.h"
#include "dmilab/tile_cache.h"
#include "shard_exec.h"
#include "shard_wire.h"
#include "util.h"

typedef struct {
    const worker_transport *t;
    const worker_opts *o;
    const char *id;
    int idx;
    double renew_s, lease_s;
    atomic_int lost, cancel, done;
    double fraction, eta;   /* of the shard's kernel tiles (under mu), -1 unknown: sent with each renewal */
    pthread_mutex_t mu;
    pthread_cond_t cv;
} running;

static cJSON *ref_json(const running *r)
{
    cJSON *q = cJSON_CreateObject();
    cJSON_AddStringToObject(q, "worker", r->o->owner);
    cJSON_AddStringToObject(q, "experiment_id", r->id);
    cJSON_AddNumberToObject(q, "index", r->idx);
    return q;
}

static void *renewer(void *p)
{
    running *r = p;
    pthread_mutex_lock(&r->mu);
    while (!atomic_load(&r->done)) {
        struct timespec dl;
        clock_gettime(CLOCK_MONOTONIC, &dl);
        double s = dl.tv_sec + dl.tv_nsec * 1e-9 + r->renew_s;
        dl.tv_sec = (time_t)s;
        dl.tv_nsec = (long)((s - floor(s)) * 1e9);
        while (!atomic_load(&r->done) && pthread_cond_timedwait(&r->cv, &r->mu, &dl) != ETIMEDOUT) {
        }
        if (atomic_load(&r->done))
            break;
        double fraction = r->fraction, eta = r->eta;
        pthread_mutex_unlock(&r->mu);
        cJSON *q = ref_json(r), *ans = NULL;
        if (fraction >= 0) cJSON_AddNumberToObject(q, "fraction", fraction);
        if (eta >= 0) cJSON_AddNumberToObject(q, "eta_seconds", eta);
        int st = r->t->call(r->t->ctx, "renew", q, &ans);
        cJSON_Delete(q);
        if (st == CLUSTER_LOST) {
            if (!atomic_exchange(&r->lost, 1))
                util_log("shard %d of %s: its lease is lost; stopping", r->idx, r->id);
        } else if (st != CLUSTER_OK) {
            util_log("shard %d of %s: cannot renew its lease (%s); retrying at the next renewal", r->idx, r->id,
                     st == CLUSTER_UNAVAILABLE ? "the server's database refused" : "the server cannot be reached");
        } else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ans, "cancel"))) {
            if (!atomic_exchange(&r->cancel, 1))
                util_log("shard %d of %s: its experiment is being cancelled; stopping", r->idx, r->id);
        }
        cJSON_Delete(ans);
        pthread_mutex_lock(&r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static void on_tiles(void *p, double fraction, double eta_seconds)
{
    running *r = p;
    pthread_mutex_lock(&r->mu);
    r->fraction = fraction;
    r->eta = eta_seconds;
    pthread_mutex_unlock(&r->mu);
}

static int should_stop(void *p)
{
    running *r = p;
    return atomic_load(&r->lost) || atomic_load(&r->cancel) || (r->o->stopping && atomic_load(r->o->stopping));
}

/* Send the report, retrying what did not reach the server or what it could not store, for one lease period. */
static void report(running *r, cJSON *q)
{
    double wait = 0.25, spent = 0;
    for (int attempt = 1;; attempt++) {
        cJSON *ans = NULL;
        int st = r->t->call(r->t->ctx, "report", q, &ans);
        cJSON_Delete(ans);
        if (st == CLUSTER_OK || st == CLUSTER_LOST || st == CLUSTER_BAD) {
            if (st != CLUSTER_OK)
                util_log("shard %d of %s: the report was refused (%d): %s", r->idx, r->id, st,
                         st == CLUSTER_LOST ? "the lease is lost, another worker reruns it" : "malformed");
            else if (attempt > 1)
                util_log("shard %d of %s: reported at attempt %d", r->idx, r->id, attempt);
            return;
        }
        if (spent + wait > r->lease_s || atomic_load(&r->lost)) {
            util_log("shard %d of %s: cannot report it after %d attempts: its lease lapses and it is rerun", r->idx, r->id,
                     attempt);
            return;
        }
        util_log("shard %d of %s: cannot report it (%s); retrying in %.2f s", r->idx, r->id,
                 st == CLUSTER_UNAVAILABLE ? "the server's database refused" : "the server cannot be reached", wait);
        usleep((useconds_t)(wait * 1e6));
        spent += wait;
        wait = fmin(2 * wait, 8.0);
    }
}

/* A request other than the report (a tile, a fetch), retried like it while the server cannot take it: its status. */
static int call_retried(running *r, const char *op, const cJSON *q, cJSON **ans)
{
    double wait = 0.25, spent = 0;
    for (;;) {
        *ans = NULL;
        int st = r->t->call(r->t->ctx, op, q, ans);
        if (st == CLUSTER_OK || st == CLUSTER_LOST || st == CLUSTER_BAD || st == CLUSTER_NONE || spent + wait > r->lease_s ||
            atomic_load(&r->lost))
            return st;
        cJSON_Delete(*ans);
        usleep((useconds_t)(wait * 1e6));
        spent += wait;
        wait = fmin(2 * wait, 8.0);
    }
}

typedef struct {
    running *r;
    const char *tile_dir;
    size_t uploaded;
    shard_tiles *tiles;
    char key[DML_SHA256_HEX];
} tile_up;

/* A tile shard's tile is done: read it back (its halves verified), report it with their SHA-256 and, unless the
 * server reads this tile directory itself, the halves. Nonzero: it could not be reported (the shard stops). */
static int upload_tile(void *p, const char *key, const dml_tile *t, long number, int computed)
{
    (void)computed;
    tile_up *u = p;
    running *r = u->r;
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/%s", u->tile_dir, key);
    size_t half = (t->r1 - t->r0) * t->ncols;
    double *v = malloc(sizeof(double) * (2 * half + 1));
    dml_error err;
    char sk[DML_SHA256_HEX], st[DML_SHA256_HEX];
    if (!v || dml_tile_load(dir, t, v, v + half, &err) != 1 || dml_sha256_hex(v, sizeof(double) * half, sk) ||
        dml_sha256_hex(v + half, sizeof(double) * half, st)) {
        util_log("shard %d of %s: cannot read back tile %ld", r->idx, r->id, number);
        free(v);
        return 1;
    }
    cJSON *q = ref_json(r), *ans = NULL;
    cJSON_AddStringToObject(q, "key", key);
    cJSON_AddNumberToObject(q, "tile", (double)number);
    cJSON_AddStringToObject(q, "sha256_nngp", sk);
    cJSON_AddStringToObject(q, "sha256_ntk", st);
    int bad = !r->o->shares_tile_dir && wire_pack_bytes(q, v, sizeof(double) * 2 * half, 1);
    free(v);
    int rc = bad ? -1 : call_retried(r, "tile", q, &ans);
    cJSON_Delete(q);
    cJSON_Delete(ans);
    if (rc != CLUSTER_OK) {
        util_log("shard %d of %s: tile %ld was not taken (%d): the shard is given back", r->idx, r->id, number, rc);
        return 1;
    }
    u->uploaded++;
    util_log("shard %d of %s: tile %ld reported", r->idx, r->id, number);
    return 0;
}

/* A tile shard's key is known: which tiles of its range the server holds (recorded, or found in its tile directory). */
static int ask_tiles(void *p, const char *key)
{
    tile_up *u = p;
    running *r = u->r;
    shard_tiles *st = u->tiles;
    cJSON *q = ref_json(r), *ans = NULL;
    cJSON_AddStringToObject(q, "key", key);
    int rc = call_retried(r, "tiles", q, &ans);
    cJSON_Delete(q);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ans, "stored"), *f = cJSON_GetObjectItemCaseSensitive(ans, "found");
    long *list = rc == CLUSTER_OK && cJSON_IsArray(v) ? calloc((size_t)cJSON_GetArraySize(v) + 1, sizeof *list) : NULL;
    if (!list) {
        cJSON_Delete(ans);
        util_log("shard %d of %s: cannot learn the server's tiles (%d): the shard is given back", r->idx, r->id, rc);
        return 1;
    }
    free(st->stored);
    st->stored = list;
    st->nstored = 0;
    for (const cJSON *x = v->child; x; x = x->next)
        if (cJSON_IsNumber(x))
            list[st->nstored++] = (long)x->valuedouble;
    snprintf(u->key, sizeof u->key, "%s", key);
    st->key = u->key;
    st->found = cJSON_IsNumber(f) ? (size_t)f->valuedouble : 0;
    cJSON_Delete(ans);
    return 0;
}

/* A solve shard: the tiles the server holds that tile_dir/key lacks, fetched and saved there. Returns how many were
 * fetched; a tile that cannot be fetched is computed by the solve. */
static size_t fetch_tiles(running *r, const cJSON *unit, const shard_tiles *st, const char *tile_dir)
{
    dml_tiling tg;
    size_t first, end, got = 0;
    dml_tile_hold hold = {.lock_fd = -1};
    dml_error err;
    if (!st->key || !st->nstored || cluster_tile_unit_parse(unit, &tg, &first, &end) ||
        dml_tile_cache_enter(tile_dir, st->key, &hold, &err))
        return 0;
    for (size_t i = 0; i < st->nstored && !atomic_load(&r->lost) && !atomic_load(&r->cancel); i++) {
        dml_tile t;
        if (st->stored[i] < 0 || (size_t)st->stored[i] >= tg.ngram + tg.ncross)
            continue;
        dml_tiling_tile(&tg, (size_t)st->stored[i], &t);
        if (dml_tile_present(hold.dir, &t))
            continue;
        cJSON *q = ref_json(r), *ans = NULL;
        cJSON_AddStringToObject(q, "key", st->key);
        cJSON_AddNumberToObject(q, "tile", (double)st->stored[i]);
        int rc = call_retried(r, "fetch", q, &ans);
        cJSON_Delete(q);
        size_t half = sizeof(double) * (t.r1 - t.r0) * t.ncols, n = 0;
        char e[256], field[64], sk[DML_SHA256_HEX], sv[DML_SHA256_HEX];
        char *b = rc == CLUSTER_OK ? wire_unpack_bytes(ans, 2 * half, 2 * half, &n, e, sizeof e, field) : NULL;
        const cJSON *hk = cJSON_GetObjectItemCaseSensitive(ans, "sha256_nngp"), *ht = cJSON_GetObjectItemCaseSensitive(ans, "sha256_ntk");
        if (b && cJSON_IsString(hk) && cJSON_IsString(ht) &&
            dml_tile_save(hold.dir, &t, (const double *)b, (const double *)(b + half), sk, sv, &err) == 0 &&
            strcmp(sk, hk->valuestring) == 0 && strcmp(sv, ht->valuestring) == 0)
            got++;
        else
            util_log("shard %d of %s: tile %ld could not be fetched (%d%s%s): it is computed here", r->idx, r->id,
                     st->stored[i], rc, b ? "" : ", ", b ? "" : rc == CLUSTER_OK ? e : "");
        free(b);
        cJSON_Delete(ans);
    }
    dml_tile_cache_leave(&hold, 1);
    return got;
}

int worker_step(const worker_transport *t, const worker_opts *o)
{
    cJSON *q = cJSON_CreateObject(), *ans = NULL;
    cJSON_AddStringToObject(q, "worker", o->owner);
    cJSON_AddNumberToObject(q, "threads", o->threads);
    if (o->slurm_job)
        cJSON_AddStringToObject(q, "slurm_job", o->slurm_job);
    int st = t->call(t->ctx, "claim", q, &ans);
    cJSON_Delete(q);
    if (st != CLUSTER_OK) {
        cJSON_Delete(ans);
        return st == CLUSTER_NONE ? WORKER_IDLE : WORKER_UNREACHABLE;
    }
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(ans, "shard"), *x = cJSON_GetObjectItemCaseSensitive(ans, "experiment");
    const cJSON *eid = cJSON_GetObjectItemCaseSensitive(sh, "experiment_id"), *ix = cJSON_GetObjectItemCaseSensitive(sh, "index");
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(sh, "kind"), *root = cJSON_GetObjectItemCaseSensitive(ans, "data_root");
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(x, "resolved_spec");
    const cJSON *ls = cJSON_GetObjectItemCaseSensitive(ans, "lease_seconds"), *rs = cJSON_GetObjectItemCaseSensitive(ans, "renew_seconds");
    if (!cJSON_IsString(eid) || !cJSON_IsNumber(ix) || !cJSON_IsString(kind)) {
        util_log("the server's claim answer names no shard");
        cJSON_Delete(ans);
        return WORKER_UNREACHABLE;
    }
    running r = {.t = t, .o = o, .id = eid->valuestring, .idx = (int)ix->valuedouble,
                 .lease_s = cJSON_IsNumber(ls) ? ls->valuedouble : 60, .renew_s = cJSON_IsNumber(rs) ? rs->valuedouble : 10,
                 .fraction = -1, .eta = -1};
    if (o->renew_max_seconds > 0 && r.renew_s > o->renew_max_seconds)
        r.renew_s = o->renew_max_seconds;
    if (r.renew_s < 0.2)
        r.renew_s = 0.2;
    const cJSON *claims = cJSON_GetObjectItemCaseSensitive(sh, "claims");
    util_log("shard %d of %s (%s): claimed (claim %d)", r.idx, r.id, kind->valuestring,
             cJSON_IsNumber(claims) ? (int)claims->valuedouble : 1);
    atomic_init(&r.lost, 0);
    atomic_init(&r.cancel, 0);
    atomic_init(&r.done, 0);
    pthread_mutex_init(&r.mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r.cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_t th;
    int have_thread = pthread_create(&th, NULL, renewer, &r) == 0;

    /* the tiles the server holds (a tile or solve shard), and a tile directory of the shard when the worker has none */
    const cJSON *tj = cJSON_GetObjectItemCaseSensitive(sh, "tiles"), *tk = cJSON_GetObjectItemCaseSensitive(tj, "key");
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(tj, "stored");
    long *stored = calloc((size_t)cJSON_GetArraySize(ts) + 1, sizeof *stored);
    size_t nstored = 0;
    for (const cJSON *v = cJSON_IsArray(ts) && stored ? ts->child : NULL; v; v = v->next)
        if (cJSON_IsNumber(v))
            stored[nstored++] = (long)v->valuedouble;
    tile_up up = {.r = &r, .tile_dir = o->tile_dir};
    shard_tiles tiles = {.key = cJSON_IsString(tk) ? tk->valuestring : NULL, .stored = stored, .nstored = nstored,
                         .on_tile = upload_tile, .on_key = ask_tiles, .ctx = &up};
    up.tiles = &tiles;
    char tmp[1024] = "";
    if (!o->tile_dir) {
        const char *td = getenv("TMPDIR");
        snprintf(tmp, sizeof tmp, "%s/dmilab-shard-XXXXXX", td && *td ? td : "/tmp");
        up.tile_dir = mkdtemp(tmp) ? tmp : NULL;
        if (!up.tile_dir)
            tmp[0] = '\0';
    }
    size_t fetched = strcmp(kind->valuestring, "solve") == 0 && up.tile_dir
                         ? fetch_tiles(&r, cJSON_GetObjectItemCaseSensitive(sh, "unit"), &tiles, up.tile_dir) : 0;

    char *spec_text = spec ? cJSON_PrintUnformatted(spec) : NULL;
    shard_job job = {.kind = kind->valuestring, .unit = cJSON_GetObjectItemCaseSensitive(sh, "unit"), .spec = spec_text,
                     .data_files = cJSON_GetObjectItemCaseSensitive(x, "data_files"),
                     .server_data_root = cJSON_IsString(root) ? root->valuestring : NULL, .tiles = &tiles};
    point_list pl = {0};
    spectrum_list sl = {0};
    audit_list al = {0};
    cJSON *files = NULL;
    dml_error err;
    double t0 = util_now_ms() / 1000.0;
    int rc = shard_exec(&job, o->data_root, up.tile_dir, o->cache_bytes, o->threads, should_stop, on_tiles, &r, &pl, &sl,
                        &al, &files, &err);
    free(spec_text);

    cJSON *rep = ref_json(&r);
    const char *status;
    if (rc == 0) {
        status = "done";
        cJSON *res = cJSON_CreateObject(), *pts = cJSON_AddArrayToObject(res, "points");
        for (size_t i = 0; i < pl.n; i++)
            cJSON_AddItemToArray(pts, wire_point_json(&pl.v[i].p, pl.v[i].arm_index));
        cJSON *sps = cJSON_AddArrayToObject(res, "spectra");
        for (size_t i = 0; i < sl.n; i++)
            cJSON_AddItemToArray(sps, wire_spectrum_json(&sl.v[i]->a, sl.v[i]->arm_index));
        cJSON *aus = cJSON_AddArrayToObject(res, "audits");
        for (size_t i = 0; i < al.n; i++)
            cJSON_AddItemToArray(aus, wire_audit_json(&al.v[i], al.arm_index[i]));
        cJSON_AddItemToObject(res, "data_files", files);
        files = NULL;
        if (tiles.kernel) {
            cJSON_AddItemToObject(res, "kernel", tiles.kernel);
            tiles.kernel = NULL;
        }
        if (wire_pack(rep, res) != 0)
            status = "released";
        cJSON_Delete(res);
    } else if (err.code == DML_ERR_CANCELLED) {
        status = atomic_load(&r.cancel) && !atomic_load(&r.lost) ? "cancelled" : "released";
    } else {
        status = "failed";
        cJSON *e = cJSON_AddObjectToObject(rep, "error");
        cJSON_AddStringToObject(e, "code", dml_code_name(err.code));
        cJSON_AddStringToObject(e, "message", err.message[0] ? err.message : dml_code_name(err.code));
        if (err.field[0])
            cJSON_AddStringToObject(e, "field", err.field);
    }
    cJSON_Delete(files);
    point_list_free(&pl);
    spectrum_list_free(&sl);
    audit_list_free(&al);
    cJSON_AddStringToObject(rep, "status", status);
    cJSON_Delete(tiles.kernel);
    free(tiles.stored);
    if (tmp[0])
        dml_tile_cache_remove_all(tmp);
    util_log("shard %d of %s (%s): %s after %.2f s%s%s (tiles: %zu computed, %zu reported, %zu fetched)", r.idx, r.id,
             kind->valuestring, status, util_now_ms() / 1000.0 - t0, strcmp(status, "failed") ? "" : ": ",
             strcmp(status, "failed") ? "" : err.message, tiles.computed, up.uploaded, fetched);
    if (!atomic_load(&r.lost) || strcmp(status, "done") == 0)
        report(&r, rep);   /* a lost shard's points are offered all the same: the server refuses them if rerun */
    cJSON_Delete(rep);

    pthread_mutex_lock(&r.mu);
    atomic_store(&r.done, 1);
    pthread_cond_broadcast(&r.cv);
    pthread_mutex_unlock(&r.mu);
    if (have_thread)
        pthread_join(th, NULL);
    pthread_cond_destroy(&r.cv);
    pthread_mutex_destroy(&r.mu);
    cJSON_Delete(ans);
    return WORKER_RAN;
}
