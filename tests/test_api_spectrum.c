/* API test of the spectral readout (issue 13): the spec's `spectrum` errors (400 naming the field, limits), the
 * dry-run cost, GET /api/v1/experiments/{id}/spectrum (JSON, thinned modes, CSV, 404 without one, bad queries), the
 * predicted MSEs in the results' curves, and a run resumed after a crash that recomputes only the readout it lost.
 * usage: test_api_spectrum PATH/TO/dmilab */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_api_util.h"

#define DATA "\"data\": {\"name\": \"fm\", \"source\": \"fashion-mnist\", \"resize\": 4, \"n_train\": [50, 100, 200], " \
             "\"n_test\": 200}"
#define MODEL "\"models\": {\"name\": \"fcn\", \"arch\": \"fcn\", \"depth\": 1}"
#define KERNELS "\"inference\": [{\"name\": \"nngp\", \"method\": \"nngp\"}, {\"name\": \"ntk\", \"method\": \"ntk\"}]"

static const char *spec = "{\"name\": \"spectrum\", " DATA ", " MODEL ", " KERNELS ", \"spectrum\": {\"n\": 300}}";

static cJSON *get_json(const char *path, long *status)
{
    resp r;
    get(path, &r);
    cJSON *j = json_of(&r);
    if (status)
        *status = r.status;
    resp_free(&r);
    return j;
}

/* POST `body` and expect 400 with `code` naming `field`. */
static void refused(const char *body, const char *code, const char *field)
{
    resp r;
    post_json("/api/v1/experiments?dry_run=true", body, &r);
    check(r.status == 400 && is_error(&r, code, field), "400 %s at %s: %ld %.300s", code, field, r.status,
          r.body ? r.body : "");
    resp_free(&r);
}

static void test_errors(void)
{
    refused("{" DATA ", " MODEL ", " KERNELS ", \"spectrum\": 5}", "invalid_spec", "spectrum");
    refused("{" DATA ", " MODEL ", " KERNELS ", \"spectrum\": {\"n\": 1}}", "invalid_spec", "spectrum.n");
    refused("{" DATA ", " MODEL ", " KERNELS ", \"spectrum\": {\"n\": 2.5}}", "invalid_spec", "spectrum.n");
    refused("{" DATA ", " MODEL ", " KERNELS ", \"spectrum\": {\"n\": \"all\"}}", "invalid_spec", "spectrum.n");
    refused("{" DATA ", " MODEL ", " KERNELS ", \"spectrum\": {\"m\": 3}}", "invalid_spec", "spectrum.m");
    refused("{" DATA ", " MODEL ", \"inference\": {\"method\": \"sgd\"}, \"spectrum\": {}}", "invalid_spec", "spectrum");
    refused("{" DATA ", " MODEL ", " KERNELS ", \"spectrum\": {\"n\": 70000}}", "invalid_spec", "spectrum.n");
    refused("{" DATA ", " MODEL ", " KERNELS ", \"spectrum\": {\"n\": 200000}}", "limit_exceeded", "spectrum.n");
    /* fits without the readout, not with it (the server runs with --max-memory 200000000) */
    refused("{\"data\": {\"source\": \"fashion-mnist\", \"resize\": 4, \"n_train\": [1000], \"n_test\": 100}, " MODEL
            ", " KERNELS ", \"spectrum\": {\"n\": 3000}}", "limit_exceeded", "spectrum.n");
    resp r;
    post_json("/api/v1/experiments?dry_run=true", "{\"data\": {\"source\": \"fashion-mnist\", \"resize\": 4, \"n_train\": "
              "[1000], \"n_test\": 100}, " MODEL ", " KERNELS "}", &r);
    check(r.status == 200, "the same without a spectrum fits: %ld", r.status);
    resp_free(&r);
}

static void test_dry_run(void)
{
    resp r, q;
    post_json("/api/v1/experiments?dry_run=true", spec, &r);
    post_json("/api/v1/experiments?dry_run=true", "{\"name\": \"spectrum\", " DATA ", " MODEL ", " KERNELS "}", &q);
    cJSON *a = json_of(&r), *b = json_of(&q);
    const cJSON *ca = cJSON_GetObjectItem(a, "cost"), *cb = cJSON_GetObjectItem(b, "cost");
    check(r.status == 200 && num_at(ca, "spectra") == 2 && num_at(ca, "spectrum_flops") > 2 * 4.0 / 3 * 27e6,
          "dry run: 2 eigendecompositions of 300 points (%g flops)", num_at(ca, "spectrum_flops"));
    check(num_at(cb, "spectra") == 0 && num_at(ca, "estimated_seconds") > num_at(cb, "estimated_seconds") &&
              num_at(ca, "memory_bytes") > num_at(cb, "memory_bytes"),
          "the readout costs seconds (%g > %g) and memory", num_at(ca, "estimated_seconds"), num_at(cb, "estimated_seconds"));
    const cJSON *rs = cJSON_GetObjectItem(cJSON_GetObjectItem(b, "resolved_spec"), "spectrum");
    check(rs == NULL, "no spectrum asked for: none in the resolved spec");
    cJSON_Delete(a);
    cJSON_Delete(b);
    resp_free(&r);
    resp_free(&q);
    /* the default N: the largest n_train */
    post_json("/api/v1/experiments?dry_run=true", "{" DATA ", " MODEL ", " KERNELS ", \"spectrum\": {}}", &r);
    a = json_of(&r);
    check(num_at(cJSON_GetObjectItem(cJSON_GetObjectItem(a, "resolved_spec"), "spectrum"), "n") == 200,
          "resolved spec: spectrum.n defaults to the largest n_train");
    cJSON_Delete(a);
    resp_free(&r);
}

/* The stored readouts of `id`: checks their shape; returns the spectrum JSON. */
static cJSON *check_spectrum(const char *id, const char *what)
{
    char path[200];
    long st;
    snprintf(path, sizeof path, "/api/v1/experiments/%s/spectrum", id);
    cJSON *o = get_json(path, &st);
    const cJSON *sp = cJSON_GetObjectItem(o, "spectra");
    check(st == 200 && num_at(o, "n") == 300 && cJSON_GetArraySize(sp) == 2, "%s: GET spectrum, 2 arms of N = 300", what);
    const char *arms[] = {"fm/fcn/nngp", "fm/fcn/ntk"};
    for (int i = 0; i < 2 && cJSON_GetArraySize(sp) == 2; i++) {
        const cJSON *a = cJSON_GetArrayItem(sp, i), *modes = cJSON_GetObjectItem(a, "modes");
        const cJSON *ev = cJSON_GetObjectItem(modes, "eigenvalue"), *cu = cJSON_GetObjectItem(modes, "cumulative");
        int desc = cJSON_GetArraySize(ev) == 300, sum_ok;
        double sum = 0;
        for (int j = 0; j < cJSON_GetArraySize(ev); j++) {
            sum += cJSON_GetArrayItem(ev, j)->valuedouble;
            if (j) desc &= cJSON_GetArrayItem(ev, j)->valuedouble <= cJSON_GetArrayItem(ev, j - 1)->valuedouble;
        }
        sum_ok = fabs(sum - num_at(a, "trace")) <= 1e-10 * sum;
        check(!strcmp(str_at(a, "arm"), arms[i]) && num_at(a, "n") == 300 && num_at(a, "outputs") == 10,
              "%s: %s", what, arms[i]);
        check(desc && sum_ok && cJSON_IsFalse(cJSON_GetObjectItem(modes, "thinned")),
              "%s: 300 eigenvalues, descending, summing to the trace", what);
        check(fabs(cJSON_GetArrayItem(cu, 299)->valuedouble - 1) < 1e-10, "%s: cumulative power ends at 1", what);
        check(cJSON_GetArraySize(cJSON_GetObjectItem(a, "predicted")) == 3, "%s: predicted at the 3 sizes", what);
    }
    return o;
}

static void test_route(const char *id, char *no_spectrum_id)
{
    cJSON *o = check_spectrum(id, "after the run");
    char path[200];
    long st;
    /* thinned */
    snprintf(path, sizeof path, "/api/v1/experiments/%s/spectrum?max_points=20", id);
    cJSON *t = get_json(path, &st);
    const cJSON *m = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(t, "spectra"), 0),
                                                             "modes"), "mode");
    check(st == 200 && cJSON_GetArraySize(m) == 20 && cJSON_GetArrayItem(m, 0)->valuedouble == 1 &&
              cJSON_GetArrayItem(m, 19)->valuedouble == 300,
          "?max_points=20: 20 modes from 1 to 300");
    cJSON_Delete(t);
    /* the results' curves carry the prediction beside the measurement */
    snprintf(path, sizeof path, "/api/v1/experiments/%s/results", id);
    cJSON *res = get_json(path, &st);
    const cJSON *curves = cJSON_GetObjectItem(res, "curves");
    int same = cJSON_GetArraySize(curves) == 2;
    for (int i = 0; same && i < 2; i++) {
        const cJSON *c = cJSON_GetArrayItem(curves, i), *pt = cJSON_GetObjectItem(c, "predicted_test_mse");
        const cJSON *pr = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "spectra"), i), "predicted");
        same &= cJSON_GetArraySize(pt) == 3 && cJSON_GetArraySize(cJSON_GetObjectItem(c, "predicted_train_mse")) == 3;
        for (int j = 0; same && j < 3; j++)
            same &= cJSON_GetArrayItem(pt, j)->valuedouble == num_at(cJSON_GetArrayItem(pr, j), "test_mse");
    }
    check(st == 200 && same, "results: predicted_test_mse beside test_mse_mean, equal to the spectrum's predictions");
    cJSON_Delete(res);
    cJSON_Delete(o);
    /* CSV */
    static const char csv_head[] = "arm,data,model,inference,mode,eigenvalue,power,cumulative\nfm/fcn/nngp,fm,fcn,nngp,1,";
    resp r;
    snprintf(path, sizeof path, "/api/v1/experiments/%s/spectrum?format=csv", id);
    get(path, &r);
    int lines = 0;
    for (size_t i = 0; r.body && i < r.len; i++)
        lines += r.body[i] == '\n';
    check(r.status == 200 && strstr(r.ctype, "text/csv") && r.body &&
              !strncmp(r.body, csv_head, strlen(csv_head)) &&
              lines == 601,
          "CSV: a header and 600 rows (%d lines)", lines);
    resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/experiments/%s/spectrum?format=csv&max_points=20", id);
    get(path, &r);
    lines = 0;
    for (size_t i = 0; r.body && i < r.len; i++)
        lines += r.body[i] == '\n';
    check(r.status == 200 && lines == 41, "CSV thinned: 40 rows (%d lines)", lines - 1);
    resp_free(&r);
    /* errors */
    const char *bad[][2] = {{"?format=xml", "format"}, {"?max_points=1", "max_points"}, {"?max_points=x", "max_points"},
                            {"?foo=1", "foo"}};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "/api/v1/experiments/%s/spectrum%s", id, bad[i][0]);
        get(path, &r);
        check(r.status == 400 && is_error(&r, "invalid_spec", bad[i][1]), "%s: 400 naming %s (%ld)", bad[i][0], bad[i][1],
              r.status);
        resp_free(&r);
    }
    snprintf(path, sizeof path, "/api/v1/experiments/%s/spectrum", no_spectrum_id);
    get(path, &r);
    check(r.status == 404 && is_error(&r, "not_found", NULL) && strstr(r.body, "does not ask"),
          "404 for an experiment whose spec asks for no spectrum");
    resp_free(&r);
    get("/api/v1/experiments/exp_0000000000000000/spectrum", &r);
    check(r.status == 404 && is_error(&r, "not_found", NULL), "404 for an unknown experiment");
    resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/experiments/%s/results", no_spectrum_id);
    res = get_json(path, &st);
    check(st == 200 && !cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(res, "curves"), 0), "predicted_test_mse"),
          "no spectrum: curves without predictions");
    cJSON_Delete(res);
}

/* As after a crash: the experiment left running without an owner, its ntk readout lost. At start-up it is re-queued
 * and resumed: every point is stored, so its unit runs for the missing readout alone. */
static void test_resume(const char *id)
{
    int st = stop_server(SIGTERM);
    check(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "stopped");
    sqlite3 *db = NULL;
    char sql[400];
    snprintf(sql, sizeof sql, "DELETE FROM spectra WHERE experiment_id = '%s' AND arm = 'fm/fcn/ntk'; UPDATE experiments "
             "SET status = 'running', finished_at = NULL, lease_owner = NULL, lease_expires_ms = NULL WHERE id = '%s'",
             id, id);
    check(sqlite3_open(t_db, &db) == SQLITE_OK && sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK &&
              sqlite3_changes(db) == 1,
          "the ntk readout deleted, the experiment left running");
    sqlite3_close(db);
    const char *extra[] = {"--max-n-train", "100000", "--max-memory", "200000000", NULL};
    check(start_server(extra) == 0, "server starts again");
    char *s = wait_status(id, 60);
    check(s && !strcmp(s, "succeeded"), "resumed and succeeded: %s", s ? s : "?");
    free(s);
    cJSON_Delete(check_spectrum(id, "resumed"));
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_api_spectrum PATH/TO/dmilab\n");
        return 2;
    }
    t_init(argv[1], "spectrum");
    const char *extra[] = {"--max-n-train", "100000", "--max-memory", "200000000", NULL};
    if (!check(start_server(extra) == 0, "server starts"))
        return t_finish();
    test_errors();
    test_dry_run();
    long status;
    char *id = post_spec(spec, &status);
    char *plain = post_spec("{\"name\": \"plain\", " DATA ", " MODEL ", " KERNELS "}", &status);
    check(id && plain, "submitted");
    char *s1 = id ? wait_status(id, 60) : NULL, *s2 = plain ? wait_status(plain, 60) : NULL;
    check(s1 && s2 && !strcmp(s1, "succeeded") && !strcmp(s2, "succeeded"), "both succeeded: %s, %s", s1 ? s1 : "?",
          s2 ? s2 : "?");
    free(s1);
    free(s2);
    if (id && plain) {
        test_route(id, plain);
        test_resume(id);
    }
    free(id);
    free(plain);
    int st = stop_server(SIGTERM);
    check(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "SIGTERM: exit status 0");
    return t_finish();
}
