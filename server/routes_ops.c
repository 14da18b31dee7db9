/* dmilab server: operations on one experiment: cancel, delete, wait (long-poll), checks, audit. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dmilab/checks.h"
#include "api_error.h"
#include "experiment_json.h"
#include "metrics.h"
#include "queue.h"
#include "routes.h"
#include "slurm.h"
#include "util.h"

#define WAIT_DEFAULT_SECONDS 30.0
#define WAIT_MAX_SECONDS 300.0

static void not_found(reply *r, const char *id)
{
    char msg[160];
    snprintf(msg, sizeof msg, "no experiment '%s'", id);
    reply_error(r, 404, "not_found", msg, NULL);
}

static int ended(const char *status)
{
    return strcmp(status, "succeeded") == 0 || strcmp(status, "failed") == 0 || strcmp(status, "cancelled") == 0;
}

void h_cancel_experiment(const request *rq, reply *r)
{
    char now[UTIL_TIME_LEN];
    util_now(now);
    int k = store_cancel(rq->a->st, rq->id, now);
    switch (k) {
    case STORE_CANCEL_NOT_FOUND:
        not_found(r, rq->id);
        return;
    case STORE_CANCEL_QUEUED:
        util_log("experiment %s: cancelled while queued", rq->id);
        metrics_finished("cancelled");
        app_changed(rq->a);
        reply_experiment(rq, r, 202, rq->id);
        return;
    case STORE_CANCEL_RUNNING:
        util_log("experiment %s: cancellation requested", rq->id);
        slurm_cancel_experiment(rq->a->slurm, rq->id);   /* its workers also see it at their next renewal */
        reply_experiment(rq, r, 202, rq->id);
        return;
    case STORE_CANCEL_ENDED:
        reply_experiment(rq, r, 200, rq->id);
        return;
    default:
        reply_store_error(r, k, store_path(rq->a->st));
    }
}

void h_delete_experiment(const request *rq, reply *r)
{
    int k = store_delete(rq->a->st, rq->id);
    if (k == 0) {
        not_found(r, rq->id);
    } else if (k == 2) {
        char msg[200];
        snprintf(msg, sizeof msg, "experiment '%s' is running: cancel it first (POST .../cancel), then delete it",
                 rq->id);
        reply_error(r, 409, "conflict", msg, NULL);
    } else if (k == 1) {
        util_log("experiment %s: deleted", rq->id);
        app_changed(rq->a);
        reply_clear(r);
        r->status = 204;
    } else {
        reply_store_error(r, k, store_path(rq->a->st));
    }
}

void h_wait_experiment(const request *rq, reply *r)
{
    double timeout = WAIT_DEFAULT_SECONDS;
    const char *t = request_query(rq, "timeout");
    if (t && *t) {
        char *end;
        errno = 0;
        timeout = strtod(t, &end);
        if (errno || *end || end == t || !isfinite(timeout) || timeout < 0 || timeout > WAIT_MAX_SECONDS) {
            reply_error(r, 400, "invalid_spec", "timeout must be a number of seconds from 0 to 300", "timeout");
            return;
        }
    }
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    double whole = floor(timeout);
    deadline.tv_sec += (time_t)whole;
    deadline.tv_nsec += (long)((timeout - whole) * 1e9);
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    metrics_long_poll(1, 0);
    int gone = 0;
    for (;;) {
        unsigned long gen = app_generation(rq->a);
        store_experiment e;
        int k = store_get_experiment(rq->a->st, rq->id, &e);
        if (k < 0) {
            reply_store_error(r, k, store_path(rq->a->st));
            break;
        }
        if (k == 0) {
            not_found(r, rq->id);
            break;
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        int past = now.tv_sec > deadline.tv_sec || (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec);
        if (ended(e.status) || past || atomic_load(&rq->a->stopping)) {
            reply_json(r, 200, experiment_json_shards(rq->a->st, &e));
            store_experiment_free(&e);
            break;
        }
        store_experiment_free(&e);
        /* Sleep until a change or for a second at most, then look whether the client is still there: a client
         * that went away must not keep its connection and thread for the rest of the timeout. */
        struct timespec slice = now;
        slice.tv_sec += 1;
        if (slice.tv_sec > deadline.tv_sec || (slice.tv_sec == deadline.tv_sec && slice.tv_nsec > deadline.tv_nsec))
            slice = deadline;
        app_wait_change(rq->a, gen, &slice);   /* sleeps: no polling of the database */
        if (request_client_gone(rq)) {
            gone = 1;
            r->drop = 1;
            break;
        }
    }
    metrics_long_poll(-1, gone);
}

/* The stored resolved spec of `e` (its names, grid and checks), read without touching any data file and
 * without admission: it was admitted when it was submitted. Returns 0 or replies with an error and returns -1. */
static int stored_spec(const store_experiment *e, dml_spec *spec, reply *r)
{
    dml_error err;
    dml_error_clear(&err);
    memset(spec, 0, sizeof *spec);
    const char *text = e->resolved_spec ? e->resolved_spec : e->spec ? e->spec : "";
    if (dml_spec_parse(text, strlen(text), NULL, spec, &err) != 0) {
        char msg[sizeof err.message + 64];
        snprintf(msg, sizeof msg, "the stored spec is not valid for this server: %s", err.message);
        reply_error(r, 500, "internal", msg, err.field);
        return -1;
    }
    return 0;
}

void h_get_checks(const request *rq, reply *r)
{
    const char *format = request_query(rq, "format");
    int junit = 0;
    if (format && *format) {
        if (strcmp(format, "junit") == 0)
            junit = 1;
        else if (strcmp(format, "json") != 0) {
            reply_error(r, 400, "invalid_spec", "format must be json or junit", "format");
            return;
        }
    }
    store_experiment e;
    int k = store_get_experiment(rq->a->st, rq->id, &e);
    if (k <= 0) {
        if (k < 0)
            reply_store_error(r, k, store_path(rq->a->st));
        else
            not_found(r, rq->id);
        return;
    }
    dml_spec spec;
    if (stored_spec(&e, &spec, r) != 0) {
        store_experiment_free(&e);
        return;
    }
    point_list pl = {0};
    if ((k = store_points(rq->a->st, rq->id, &pl)) != 0) {
        point_list_free(&pl);
        dml_spec_free(&spec);
        store_experiment_free(&e);
        reply_store_error(r, k, store_path(rq->a->st));
        return;
    }
    dml_point *pts = point_list_array(&pl);
    size_t n = pts ? pl.n : 0;
    dml_audit_entry *aud = NULL;
    size_t na = 0;
    if (spec.audit.ngroups && (k = store_audit(rq->a->st, rq->id, &aud, &na)) != 0) {
        free(pts);
        point_list_free(&pl);
        dml_spec_free(&spec);
        store_experiment_free(&e);
        reply_store_error(r, k, store_path(rq->a->st));
        return;
    }
    /* The verdict a CI gates on: only a succeeded experiment's checks are final; failed and cancelled ones fail,
     * queued and running ones have no verdict yet ("passed": null, and an <error> testcase in JUnit). */
    dml_checks_state state = strcmp(e.status, "succeeded") == 0   ? DML_CHECKS_FINAL
                             : strcmp(e.status, "failed") == 0    ? DML_CHECKS_FAILED
                             : strcmp(e.status, "cancelled") == 0 ? DML_CHECKS_CANCELLED
                                                                  : DML_CHECKS_PENDING;
    if (junit) {
        reply_text(r, 200, "application/xml; charset=utf-8", dml_checks_junit(rq->id, &spec, pts, n, aud, na, state,
                                                                          e.error));
    } else {
        cJSON *o = dml_checks_json(rq->id, &spec, pts, n, aud, na, state, NULL);
        if (o)
            cJSON_AddStringToObject(o, "status", e.status);
        reply_json(r, 200, o);
    }
    free(pts);
    free(aud);
    point_list_free(&pl);   /* after use: the array borrows the list's training curves */
    dml_spec_free(&spec);
    store_experiment_free(&e);
}

void h_get_audit(const request *rq, reply *r)
{
    const char *format = request_query(rq, "format");
    int csv = format && strcmp(format, "csv") == 0;
    if (format && *format && !csv && strcmp(format, "json") != 0) {
        reply_error(r, 400, "invalid_spec", "format must be json or csv", "format");
        return;
    }
    store_experiment e;
    int k = store_get_experiment(rq->a->st, rq->id, &e);
    if (k <= 0) {
        if (k < 0)
            reply_store_error(r, k, store_path(rq->a->st));
        else
            not_found(r, rq->id);
        return;
    }
    store_experiment_free(&e);
    dml_audit_entry *aud = NULL;
    size_t na = 0;
    if ((k = store_audit(rq->a->st, rq->id, &aud, &na)) != 0) {
        reply_store_error(r, k, store_path(rq->a->st));
        return;
    }
    if (csv)
        reply_text(r, 200, "text/csv; charset=utf-8", dml_audit_csv(aud, na));
    else
        reply_json(r, 200, dml_audit_json(rq->id, aud, na));
    free(aud);
}
