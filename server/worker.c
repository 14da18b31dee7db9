/* dmilab server: running one claimed experiment. See worker.h. */
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmilab/experiment.h"
#include "dmilab/json.h"
#include "metrics.h"
#include "points.h"
#include "provenance.h"
#include "queue.h"
#include "util.h"

typedef struct {
    app *a;
    const char *id;
    const dml_spec *spec;
    int abandoned;   /* the service is stopping: leave the experiment 'running' */
    /* a resumed run (points stored): the data files its earlier runs read, from the stored provenance */
    cJSON *before;
} run_ctx;

static int hook_cancelled(void *p)
{
    run_ctx *c = p;
    if (queue_stopping(c->a->q)) {
        c->abandoned = 1;
        return 1;
    }
    return store_cancel_requested(c->a->st, c->id) == 1;
}

static int hook_have_point(void *p, const char *arm, size_t n_train, int repeat)
{
    run_ctx *c = p;
    /* on a database error compute the point again: INSERT OR IGNORE keeps it stored once */
    return store_have_point(c->a->st, c->id, arm, n_train, repeat) == 1;
}

static int hook_on_point(void *p, const dml_point *pt)
{
    run_ctx *c = p;
    return store_insert_point(c->a->st, c->id, points_arm_index(c->spec, pt), pt) != 0;
}

/* Record the provenance with the data files read so far (their hashes are of the bytes the run computes on). */
static void record_provenance(app *a, const char *id, const dml_data_file *files, int n)
{
    cJSON *prov = provenance_json(a, files, n);
    char *prov_text = prov ? dml_json_print(prov) : NULL;
    cJSON_Delete(prov);
    if (!prov_text || store_set_provenance(a->st, id, prov_text) != 0)
        util_log("experiment %s: cannot record its provenance", id);
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
    record_provenance(c->a, c->id, files, n);
    return 0;
}

static void hook_on_progress(void *p, double fraction)
{
    run_ctx *c = p;
    store_set_progress(c->a->st, c->id, fraction);
}

static void finish(app *a, const char *id, const char *status, const char *error)
{
    char now[UTIL_TIME_LEN];
    util_now(now);
    if (store_finish(a->st, id, status, error, now) != 0) {
        util_log("experiment %s: cannot record status %s", id, status);
    } else {
        util_log("experiment %s: %s%s%s", id, status, error ? ": " : "", error ? error : "");
        metrics_finished(status);
    }
    app_changed(a);
}

void worker_run(app *a, const store_experiment *e)
{
    dml_spec spec;
    dml_error err;
    memset(&spec, 0, sizeof spec);
    dml_error_clear(&err);
    /* the stored resolved spec, as admitted at submission: the limits are not checked again (they may have
     * changed since), the data root is (every file is opened inside it) */
    const char *text = e->resolved_spec ? e->resolved_spec : e->spec ? e->spec : "";
    if (dml_spec_parse(text, strlen(text), a->cfg->data_root, &spec, &err) != 0) {
        char msg[sizeof err.message + sizeof err.field + 64];
        snprintf(msg, sizeof msg, "cannot load the stored spec: %s%s%s", err.message, err.field[0] ? " at " : "",
                 err.field);
        finish(a, e->id, "failed", msg);
        return;
    }
    run_ctx ctx = {.a = a, .id = e->id, .spec = &spec, .abandoned = 0};
    /* resuming (points stored): keep the provenance of those points until this run's data is checked against it */
    point_list pl = {0};
    cJSON *prov = NULL;
    if (e->provenance && store_points(a->st, e->id, &pl) == 0 && pl.n > 0 && (prov = cJSON_Parse(e->provenance)))
        ctx.before = cJSON_GetObjectItemCaseSensitive(prov, "data_files");
    else
        record_provenance(a, e->id, NULL, 0);
    point_list_free(&pl);
    app_changed(a);   /* it started running */
    dml_run_hooks h = {
        .ctx = &ctx,
        .cancelled = hook_cancelled,
        .have_point = hook_have_point,
        .on_point = hook_on_point,
        .on_data = hook_on_data,
        .on_progress = hook_on_progress,
        .threads = a->cfg->threads,
    };
    int rc = dml_experiment_run(&spec, &h, &err);
    cJSON_Delete(prov);
    dml_spec_free(&spec);
    if (rc == 0) {
        finish(a, e->id, "succeeded", NULL);
    } else if (err.code == DML_ERR_CANCELLED && ctx.abandoned) {
        util_log("experiment %s: abandoned at shutdown, resumes at the next start", e->id);
    } else if (err.code == DML_ERR_CANCELLED) {
        finish(a, e->id, "cancelled", NULL);
    } else {
        finish(a, e->id, "failed", err.message[0] ? err.message : dml_code_name(err.code));
    }
}
