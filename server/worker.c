/* dmilab server: running one claimed experiment. See worker.h. */
#include "worker.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dmilab/experiment.h"
#include "dmilab/json.h"
#include "metrics.h"
#include "points.h"
#include "provenance.h"
#include "util.h"

typedef struct {
    app *a;
    const char *id;
    const dml_spec *spec;
    const worker_env *w;
    int stopped;        /* the service stops: give the experiment back */
    int lost;           /* the lease is lost: write nothing more */
    int store_failed;   /* a write failed after its retries: give the experiment back */
    /* a resumed run (points stored): the data files its earlier runs read, from the stored provenance */
    const cJSON *before;
    const dml_data_file *files;   /* the data files read so far (the runner's, valid during the run) */
    int nfiles;
    cJSON *kernels;     /* the kernel units begun: key and kernel_cache (hit, partial, miss), for the provenance */
    double eta;         /* seconds left of the kernel tiles in flight, from their measured rate; -1 unknown */
} run_ctx;

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One store write of the run: the store's result (1 done, 0 lease lost, negative error). */
typedef int (*store_op)(run_ctx *c, const void *arg);

/* Run `op` until it succeeds or the lease is lost, retrying a failure (the database locked by another process, a full
 * disk, ...) after 0.25 s, doubling up to 8 s, for at most one lease period from the first failure, or until the
 * service stops. A computed point is not dropped at the first fault: the lock of another process or a disk that
 * fills up for a while only delays it. Returns the last result. */
static int with_retry(run_ctx *c, const char *what, store_op op, const void *arg)
{
    double t0 = 0, wait = 0.25, budget = (double)c->w->lease_ms / 1000.0;
    for (int attempt = 1;; attempt++) {
        int r = op(c, arg);
        if (r >= 0) {
            if (attempt > 1)
                util_log("experiment %s: %s succeeded at attempt %d", c->id, what, attempt);
            if (r == 0) {
                c->lost = 1;
                atomic_store(&c->w->claim->lost, 1);
            }
            return r;
        }
        if (attempt == 1)
            t0 = mono_now();
        if (mono_now() - t0 + wait > budget || atomic_load(&c->w->claim->lost) || atomic_load(c->w->stopping)) {
            util_log("experiment %s: cannot %s (%s) after %d attempts in %.1f s", c->id, what, store_error_text(r), attempt,
                     mono_now() - t0);
            return r;
        }
        util_log("experiment %s: cannot %s (%s); retrying", c->id, what, store_error_text(r));
        for (double slept = 0; slept < wait && !atomic_load(c->w->stopping); slept += 0.05)
            usleep(50000);
        wait = fmin(2 * wait, 8.0);
    }
}

static int hook_cancelled(void *p)
{
    run_ctx *c = p;
    if (atomic_load(c->w->stopping)) {
        c->stopped = 1;
        return 1;
    }
    if (atomic_load(&c->w->claim->lost)) {
        c->lost = 1;
        return 1;
    }
    /* the keeper sees a cancel at its next renewal; reading the flag here answers a cancel within one unit */
    return atomic_load(&c->w->claim->cancel) || store_cancel_requested(c->a->st, c->id) == 1;
}

static int hook_have_point(void *p, const char *arm, size_t n_train, int repeat)
{
    run_ctx *c = p;
    /* on a database error compute the point again: it is stored once whatever happens */
    return store_have_point(c->a->st, c->id, arm, n_train, repeat) == 1;
}

static int op_report(run_ctx *c, const void *arg)
{
    const dml_point *pt = arg;
    return store_report_point(c->a->st, c->id, c->w->owner, util_now_ms(), c->w->lease_ms, points_arm_index(c->spec, pt),
                              pt);
}

static int hook_on_point(void *p, const dml_point *pt)
{
    run_ctx *c = p;
    c->eta = -1;   /* past the tiles of its unit */
    int r = with_retry(c, "store a point", op_report, pt);
    if (r < 0)
        c->store_failed = 1;
    return r != 1;   /* nonzero stops the run: lease lost or the store keeps failing */
}

static int hook_have_spectrum(void *p, const char *arm)
{
    run_ctx *c = p;
    return store_have_spectrum(c->a->st, c->id, arm) == 1;   /* on an error compute it again: it is stored once */
}

static int op_report_spectrum(run_ctx *c, const void *arg)
{
    const dml_arm_spectrum *sp = arg;
    return store_report_spectrum(c->a->st, c->id, c->w->owner, util_now_ms(), c->w->lease_ms,
                                 spectrum_arm_index(c->spec, sp), sp);
}

static int hook_on_spectrum(void *p, const dml_arm_spectrum *sp)
{
    run_ctx *c = p;
    int r = with_retry(c, "store a spectrum", op_report_spectrum, sp);
    if (r < 0)
        c->store_failed = 1;
    return r != 1;
}

/* Record the provenance with the data files read so far (their hashes are of the bytes the run computes on). */
static void record_provenance(run_ctx *c, const dml_data_file *files, int n)
{
    c->files = files;
    c->nfiles = n;
    cJSON *prov = provenance_json(c->a->cfg->threads, c->a->cfg->workers, c->a->version, files, n);
    if (prov && c->kernels) cJSON_AddItemReferenceToObject(prov, "kernels", c->kernels);
    char *prov_text = prov ? dml_json_print(prov) : NULL;
    cJSON_Delete(prov);
    if (!prov_text || store_set_provenance(c->a->st, c->id, c->w->owner, prov_text) < 0)
        util_log("experiment %s: cannot record its provenance", c->id);
    free(prov_text);
}

/* A resumed run must compute on the bytes its stored points came from: a file whose hash changed stops it (the
 * stored provenance, which describes those points, is kept). */
static int hook_on_data(void *p, const dml_data_file *files, int n, dml_error *err)
{
    run_ctx *c = p;
    for (int i = 0; i < n; i++)
        for (const cJSON *f = c->before ? c->before->child : NULL; f; f = f->next) {
            const cJSON *path = cJSON_GetObjectItemCaseSensitive(f, "path"), *sha = cJSON_GetObjectItemCaseSensitive(f, "sha256");
            if (!cJSON_IsString(path) || !cJSON_IsString(sha) || strcmp(path->valuestring, files[i].path) != 0)
                continue;
            if (strcmp(sha->valuestring, files[i].sha256) != 0)
                return dml_fail(err, DML_ERR_IO, NULL,
                                "the data file %s changed since this experiment's stored points were computed (SHA-256 "
                                "%.16s... then, %.16s... now): resuming would mix two data sets; submit the spec again",
                                files[i].path, sha->valuestring, files[i].sha256);
        }
    record_provenance(c, files, n);
    return 0;
}

/* A kernel unit begins: its key and whether the kernel cache held it go into the provenance. */
static void hook_on_kernel(void *p, const dml_kernel_info *k)
{
    run_ctx *c = p;
    if (!c->kernels && !(c->kernels = cJSON_CreateArray())) return;
    cJSON *o = cJSON_CreateObject();
    if (!o) return;
    cJSON_AddStringToObject(o, "data", k->data);
    cJSON_AddStringToObject(o, "model", k->model);
    cJSON_AddNumberToObject(o, "repeat", k->repeat);
    cJSON_AddStringToObject(o, "key", k->key);
    cJSON_AddStringToObject(o, "kernel_cache", k->cache);
    cJSON_AddNumberToObject(o, "tiles", (double)k->tiles);
    cJSON_AddNumberToObject(o, "tiles_stored", (double)k->stored);
    cJSON_AddItemToArray(c->kernels, o);
    record_provenance(c, c->files, c->nfiles);   /* after on_data: the files are checked */
}

/* A tile is done: its ETA goes with the progress written next (tile_done in the runner reports both). */
static void hook_on_tile(void *p, const dml_tile *t, int computed, double eta_seconds)
{
    (void)t;
    (void)computed;
    ((run_ctx *)p)->eta = eta_seconds;
}

static void hook_on_progress(void *p, double fraction)
{
    run_ctx *c = p;
    /* the next point or the end corrects a lost one */
    store_set_tile_progress(c->a->st, c->id, c->w->owner, fraction, c->eta);
}

typedef struct {
    const char *status, *code, *field, *message;
} ending;

static int op_finish(run_ctx *c, const void *arg)
{
    const ending *en = arg;
    char now[UTIL_TIME_LEN];
    util_now(now);
    return store_finish(c->a->st, c->id, c->w->owner, en->status, en->code, en->field, en->message, now);
}

/* Give the experiment back to the queue; when even that cannot be written, stop renewing its lease: it lapses and
 * the keeper of any server on this database re-queues it. */
static void give_back(run_ctx *c, const char *why)
{
    if (c->lost)
        return;
    int r = store_release(c->a->st, c->id, c->w->owner);
    if (r == 1) {
        util_log("experiment %s: %s; given back to the queue", c->id, why);
    } else if (r < 0) {
        atomic_store(&c->w->claim->abandoned, 1);
        util_log("experiment %s: %s, and it cannot be given back (%s): its lease lapses in %.0f s, then it is re-queued",
                 c->id, why, store_error_text(r), (double)c->w->lease_ms / 1000.0);
    }
    app_changed(c->a);
}

static void end(run_ctx *c, const char *status, const dml_error *err)
{
    ending en = {.status = status};
    if (err) {
        en.code = dml_code_name(err->code);
        en.field = err->field;
        en.message = err->message[0] ? err->message : en.code;
    }
    int r = with_retry(c, "record its end", op_finish, &en);
    if (r == 1) {
        util_log("experiment %s: %s%s%s%s%s", c->id, status, en.message ? ": " : "", en.message ? en.message : "",
                 en.field && *en.field ? " at " : "", en.field && *en.field ? en.field : "");
        metrics_finished(status);
        app_changed(c->a);
    } else if (r < 0) {
        c->store_failed = 1;
        give_back(c, "its end cannot be recorded");
    }
}

int worker_run(app *a, const store_experiment *e, const worker_env *w)
{
    run_ctx ctx = {.a = a, .id = e->id, .w = w, .eta = -1};
    dml_spec spec;
    dml_error err;
    memset(&spec, 0, sizeof spec);
    dml_error_clear(&err);
    /* the stored resolved spec, as admitted at submission: the limits are not checked again (they may have
     * changed since), the data root is (every file is opened inside it) */
    const char *text = e->resolved_spec ? e->resolved_spec : e->spec ? e->spec : "";
    if (dml_spec_parse(text, strlen(text), a->cfg->data_root, &spec, &err) != 0) {
        dml_error stored = err;
        snprintf(stored.message, sizeof stored.message, "cannot load the stored spec: %.400s", err.message);
        end(&ctx, "failed", &stored);
        return ctx.store_failed;
    }
    ctx.spec = &spec;
    /* resuming (points stored): keep the provenance of those points until this run's data is checked against it */
    point_list pl = {0};
    cJSON *prov = NULL;
    if (e->provenance && store_points(a->st, e->id, &pl) == 0 && pl.n > 0 && (prov = cJSON_Parse(e->provenance)))
        ctx.before = cJSON_GetObjectItemCaseSensitive(prov, "data_files");
    else
        record_provenance(&ctx, NULL, 0);
    point_list_free(&pl);
    app_changed(a);   /* it started running */
    dml_run_hooks h = {
        .ctx = &ctx,
        .cancelled = hook_cancelled,
        .have_point = hook_have_point,
        .on_point = hook_on_point,
        .have_spectrum = hook_have_spectrum,
        .on_spectrum = hook_on_spectrum,
        .on_data = hook_on_data,
        .on_progress = hook_on_progress,
        .on_kernel = hook_on_kernel,
        .on_tile = hook_on_tile,
        .threads = a->cfg->threads,
        .tile_dir = a->tile_dir,
        .cache_bytes = (double)a->cfg->cache_bytes,
    };
    int rc = dml_experiment_run(&spec, &h, &err);
    cJSON_Delete(ctx.kernels);
    cJSON_Delete(prov);
    dml_spec_free(&spec);
    if (ctx.lost)
        util_log("experiment %s: its lease was lost; another owner resumes it", e->id);
    else if (ctx.store_failed)
        give_back(&ctx, "the database keeps refusing its writes");
    else if (rc == 0)
        end(&ctx, "succeeded", NULL);
    else if (err.code == DML_ERR_CANCELLED && ctx.stopped)
        give_back(&ctx, "the service stops");
    else if (err.code == DML_ERR_CANCELLED)
        end(&ctx, "cancelled", NULL);
    else
        end(&ctx, "failed", &err);
    return ctx.store_failed;
}
