/* dmilab server: running one claimed experiment. See worker.h. */
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmilab/experiment.h"
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
    const char *text = e->spec ? e->spec : "";
    if (dml_spec_parse(text, strlen(text), &a->limits, &spec, &err) != 0) {
        char msg[sizeof err.message + sizeof err.field + 64];
        snprintf(msg, sizeof msg, "the stored spec is not valid for this server: %s%s%s", err.message,
                 err.field[0] ? " at " : "", err.field);
        finish(a, e->id, "failed", msg);
        return;
    }
    cJSON *prov = provenance_json(a, &spec);
    char *prov_text = prov ? cJSON_PrintUnformatted(prov) : NULL;
    cJSON_Delete(prov);
    if (!prov_text || store_set_provenance(a->st, e->id, prov_text) != 0)
        util_log("experiment %s: cannot record its provenance", e->id);
    free(prov_text);
    app_changed(a);   /* it started running */
    run_ctx ctx = {.a = a, .id = e->id, .spec = &spec, .abandoned = 0};
    dml_run_hooks h = {
        .ctx = &ctx,
        .cancelled = hook_cancelled,
        .have_point = hook_have_point,
        .on_point = hook_on_point,
        .on_progress = hook_on_progress,
        .threads = a->cfg->threads,
    };
    int rc = dml_experiment_run(&spec, &h, &err);
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
