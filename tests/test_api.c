/* API test: starts the real `dmilab serve` (path in argv[1]) on a free port with a temporary database and
 * checks the HTTP API of DESIGN section 4 end to end: errors, submission, the queue, results, kernels,
 * static files, token, restart (SIGTERM) and resume after kill -9. Prints each check; exit 1 on a failure.
 * DMILAB_TEST_KEEP=1 keeps the temporary directory (database, server.log) for a look afterwards. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "test_api_util.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char webroot[300];

#define BEARER(tok) ((const char *const[]){"Authorization: Bearer " tok, NULL})

/* Start `dmilab serve` with the test web root; `token` (may be NULL) goes by the environment variable
 * DMILAB_TOKEN (the environment form of --token). Waits until /healthz answers. Returns 0 or -1. */
static int start_api_server(const char *token)
{
    const char *const extra[] = {"--web-root", webroot, NULL};
    char env[128];
    snprintf(env, sizeof env, "DMILAB_TOKEN=%s", token ? token : "");
    const char *const envs[] = {env, NULL};
    return start_server_env(extra, token ? envs : NULL);
}

/* ---- experiments ---- */

static const char *small_spec =
    "{\"name\": \"api test\", \"seed\": 0,"
    " \"data\": {\"name\": \"fm\", \"source\": \"fashion-mnist\", \"resize\": 4, \"n_train\": [50, 100],"
    "           \"n_test\": 100, \"subset\": \"head\"},"
    " \"models\": {\"name\": \"fcn\", \"arch\": \"fcn\", \"depth\": 2},"
    " \"inference\": [{\"method\": \"nngp\"}, {\"method\": \"ntk\"}]}";

/* Poll the experiment until it ends or `timeout` seconds pass; returns its final status (malloc'd). */
static char *wait_end(const char *id, double timeout)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/experiments/%s", id);
    double t0 = now_s();
    char *status = NULL;
    while (now_s() - t0 < timeout) {
        resp r;
        get(path, &r);
        cJSON *j = json_of(&r);
        const char *s = str_at(j, "status");
        free(status);
        status = strdup(s ? s : "?");
        cJSON_Delete(j);
        resp_free(&r);
        if (strcmp(status, "succeeded") == 0 || strcmp(status, "failed") == 0 || strcmp(status, "cancelled") == 0)
            break;
        usleep(200000);
    }
    return status;
}

/* Number of points in the results of `id` (-1 on error); *unique = no duplicate (arm, n_train, repeat). */
static int count_points(const char *id, int *unique)
{
    char path[160];
    snprintf(path, sizeof path, "/api/v1/experiments/%s/results", id);
    resp r;
    get(path, &r);
    cJSON *j = json_of(&r);
    const cJSON *pts = cJSON_GetObjectItemCaseSensitive(j, "points");
    int n = cJSON_IsArray(pts) ? cJSON_GetArraySize(pts) : -1;
    if (unique) {
        *unique = 1;
        for (int a = 0; a < n; a++)
            for (int b = a + 1; b < n; b++) {
                const cJSON *x = cJSON_GetArrayItem(pts, a), *y = cJSON_GetArrayItem(pts, b);
                if (strcmp(str_at(x, "arm"), str_at(y, "arm")) == 0
                    && cJSON_GetObjectItem(x, "n_train")->valuedouble == cJSON_GetObjectItem(y, "n_train")->valuedouble
                    && cJSON_GetObjectItem(x, "repeat")->valuedouble == cJSON_GetObjectItem(y, "repeat")->valuedouble)
                    *unique = 0;
            }
    }
    cJSON_Delete(j);
    resp_free(&r);
    return n;
}

static void test_errors(void)
{
    resp r;
    check(get("/healthz", &r) == 200 && r.body && strstr(r.body, "\"status\":\"ok\"") != NULL, "GET /healthz is 200 {\"status\":\"ok\"}");
    resp_free(&r);

    http_full("POST", "/api/v1/experiments", "text/plain", small_spec, strlen(small_spec), NULL, &r);
    check(r.status == 415 && is_error(&r, "unsupported_media_type", NULL), "text/plain body: 415 unsupported_media_type");
    resp_free(&r);

    post_json("/api/v1/experiments", "{\"data\": [", &r);
    check(r.status == 400 && is_error(&r, "invalid_json", NULL), "truncated JSON: 400 invalid_json");
    resp_free(&r);

    static const struct {
        const char *spec, *field, *what;
    } bad[] = {
        {"{\"data\": {\"source\": \"fashion-mnist\", \"n_train\": [10], \"n_test\": 10}, \"models\": [{\"arch\": \"transformer\"}],"
         " \"inference\": {\"method\": \"ntk\"}}", "models[0].arch", "unknown arch"},
        {"{\"data\": [{\"source\": \"fashion-mnist\", \"n_train\": [-5], \"n_test\": 10}], \"models\": {\"arch\": \"fcn\"},"
         " \"inference\": {\"method\": \"ntk\"}}", "data[0].n_train", "negative n_train"},
        {"{\"colour\": \"blue\", \"data\": {\"source\": \"fashion-mnist\", \"n_train\": [10], \"n_test\": 10},"
         " \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}", "colour", "unknown top-level field"},
        {"{\"data\": [{\"source\": \"fashion-mnist\", \"path\": \"/etc\", \"n_train\": [10], \"n_test\": 10}],"
         " \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}", "data[0].path", "path outside the data root"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        post_json("/api/v1/experiments", bad[i].spec, &r);
        cJSON *j = json_of(&r);
        const char *f = str_at(cJSON_GetObjectItem(j, "error"), "field");
        check(r.status == 400 && is_error(&r, "invalid_spec", NULL) && f && strncmp(f, bad[i].field, strlen(bad[i].field)) == 0,
              "%s: 400 invalid_spec with field %s (got %s)", bad[i].what, bad[i].field, f ? f : "none");
        cJSON_Delete(j);
        resp_free(&r);
    }

    /* 64 sizes x 2 methods x 100 repeats = 12800 points, above the default limit of 10000 */
    char big[2048];
    int k = snprintf(big, sizeof big, "{\"data\": {\"source\": \"fashion-mnist\", \"n_test\": 10, \"n_train\": [");
    for (int i = 1; i <= 64; i++)
        k += snprintf(big + k, sizeof big - (size_t)k, "%s%d", i > 1 ? ", " : "", i);
    snprintf(big + k, sizeof big - (size_t)k, "]}, \"models\": {\"arch\": \"fcn\"}, \"inference\": [{\"method\": \"ntk\"},"
             " {\"method\": \"nngp\"}], \"repeats\": 100}");
    post_json("/api/v1/experiments", big, &r);
    check(r.status == 400 && is_error(&r, "limit_exceeded", NULL), "grid beyond the limits: 400 limit_exceeded");
    resp_free(&r);

    size_t n = (1 << 20) + 100;
    char *huge = malloc(n + 1);
    memset(huge, ' ', n);
    huge[0] = '{';
    huge[n - 1] = '}';
    huge[n] = '\0';
    http_full("POST", "/api/v1/experiments", "application/json", huge, n, NULL, &r);
    check(r.status == 413 && is_error(&r, "payload_too_large", NULL), "body over --max-body: 413 payload_too_large");
    resp_free(&r);
    free(huge);

    get("/api/v1/experiments/exp_0000000000000000", &r);
    check(r.status == 404 && is_error(&r, "not_found", NULL), "unknown experiment: 404 not_found");
    resp_free(&r);
    get("/api/v1/experiments/exp_0000000000000000/results", &r);
    check(r.status == 404 && is_error(&r, "not_found", NULL), "results of an unknown experiment: 404 not_found");
    resp_free(&r);
    get("/api/v1/nothing", &r);
    check(r.status == 404 && is_error(&r, "not_found", NULL), "unknown route: 404 not_found");
    resp_free(&r);
    http_full("DELETE", "/api/v1/kernels", NULL, NULL, 0, NULL, &r);
    check(r.status == 405 && strstr(r.allow, "POST") != NULL && is_error(&r, "not_found", NULL),
          "wrong method: 405 with Allow: %s", r.allow);
    resp_free(&r);
    get("/api/v1/experiments?status=done", &r);
    check(r.status == 400 && is_error(&r, "invalid_spec", "status"), "list with an unknown status: 400 naming status");
    resp_free(&r);
}

static int finite_number(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) && isfinite(v->valuedouble);
}

/* Submit the small experiment and check it end to end; returns its id (malloc'd) or NULL. */
static char *test_experiment(void)
{
    resp r;
    post_json("/api/v1/experiments", small_spec, &r);
    cJSON *j = json_of(&r);
    const char *id0 = str_at(j, "id");
    char *id = id0 ? strdup(id0) : NULL;
    const char *status = str_at(j, "status");
    const cJSON *spec = cJSON_GetObjectItem(j, "spec"), *resolved = cJSON_GetObjectItem(j, "resolved_spec");
    const char *version = str_at(j, "version");
    check(r.status == 201 && id && strncmp(id, "exp_", 4) == 0 && strlen(id) == 20, "POST experiment: 201 with id %s",
          id ? id : "(none)");
    check(status && (strcmp(status, "queued") == 0 || strcmp(status, "running") == 0 || strcmp(status, "succeeded") == 0),
          "new experiment status %s", status ? status : "(none)");
    check(cJSON_IsObject(spec) && cJSON_IsString(cJSON_GetObjectItem(spec, "name")) && !cJSON_HasObjectItem(spec, "repeats"),
          "spec is the submitted JSON");
    check(cJSON_IsObject(resolved) && cJSON_IsNumber(cJSON_GetObjectItem(resolved, "repeats")), "resolved_spec has defaults filled in");
    check(version && strncmp(version, "dmilab ", 7) == 0, "version '%s'", version ? version : "(none)");
    check(str_at(j, "created_at") && strlen(str_at(j, "created_at")) == 24 && str_at(j, "created_at")[23] == 'Z',
          "created_at is RFC 3339 UTC with milliseconds");
    char loc[128];
    snprintf(loc, sizeof loc, "/api/v1/experiments/%s", id ? id : "");
    check(strcmp(r.location, loc) == 0, "Location header %s", r.location);
    cJSON_Delete(j);
    resp_free(&r);
    if (!id)
        return NULL;

    get("/api/v1/experiments", &r);
    j = json_of(&r);
    const cJSON *list = cJSON_GetObjectItem(j, "experiments"), *e;
    int found = 0;
    cJSON_ArrayForEach(e, list) found |= str_at(e, "id") && strcmp(str_at(e, "id"), id) == 0;
    check(r.status == 200 && found && cJSON_HasObjectItem(j, "next_cursor"), "GET list contains it");
    cJSON_Delete(j);
    resp_free(&r);

    double t0 = now_s();
    char *final = wait_end(id, 120);
    check(strcmp(final, "succeeded") == 0, "experiment %s after %.1f s", final, now_s() - t0);
    free(final);

    get(loc, &r);
    j = json_of(&r);
    const cJSON *pr = cJSON_GetObjectItem(j, "progress");
    check(cJSON_IsNumber(pr) && pr->valuedouble == 1 && str_at(j, "started_at") && str_at(j, "finished_at")
              && cJSON_IsNull(cJSON_GetObjectItem(j, "error")),
          "succeeded experiment: progress 1, started_at and finished_at set, error null");
    cJSON_Delete(j);
    resp_free(&r);

    char path[160];
    snprintf(path, sizeof path, "/api/v1/experiments/%s/results", id);
    get(path, &r);
    j = json_of(&r);
    const cJSON *pts = cJSON_GetObjectItem(j, "points"), *p;
    int n = 0, good = 1;
    cJSON_ArrayForEach(p, pts)
    {
        n++;
        const cJSON *acc = cJSON_GetObjectItem(p, "test_accuracy");
        good &= finite_number(p, "test_mse") && cJSON_IsNumber(acc) && acc->valuedouble >= 0 && acc->valuedouble <= 1
                && finite_number(p, "train_mse") && finite_number(p, "seconds") && str_at(p, "arm") != NULL;
    }
    check(r.status == 200 && n == 4, "results have %d points (2 arms x 2 sizes = 4)", n);
    check(good && n > 0, "every point has a finite test_mse and train_mse and accuracy in [0, 1]");
    const cJSON *curves = cJSON_GetObjectItem(j, "curves"), *c;
    int nc = 0, ok = 1;
    cJSON_ArrayForEach(c, curves)
    {
        nc++;
        ok &= cJSON_GetArraySize(cJSON_GetObjectItem(c, "local_exponent")) == 1
              && cJSON_GetArraySize(cJSON_GetObjectItem(c, "n_train")) == 2;
    }
    check(nc == 2 && ok, "2 curves, each with 2 sizes and a local_exponent of length 1");
    const cJSON *first = cJSON_GetArrayItem(pts, 0);
    check(first && strcmp(str_at(first, "arm"), "fm/fcn/nngp") == 0, "points in grid order (first arm fm/fcn/nngp)");
    cJSON_Delete(j);
    resp_free(&r);

    snprintf(path, sizeof path, "/api/v1/experiments/%s/results?format=csv", id);
    get(path, &r);
    int lines = 0;
    for (size_t i = 0; i < r.len; i++)
        lines += r.body[i] == '\n';
    if (r.len && r.body[r.len - 1] != '\n')
        lines++;
    check(r.status == 200 && strncmp(r.ctype, "text/csv", 8) == 0 && r.body && strncmp(r.body, "arm,", 4) == 0 && lines == 5,
          "CSV results: text/csv, a header and 4 rows (%d lines)", lines);
    resp_free(&r);

    get("/api/v1/experiments?status=succeeded&limit=1", &r);
    j = json_of(&r);
    check(r.status == 200 && cJSON_GetArraySize(cJSON_GetObjectItem(j, "experiments")) == 1, "list ?status=succeeded&limit=1");
    cJSON_Delete(j);
    resp_free(&r);
    return id;
}

static void test_kernels(void)
{
    resp r;
    const char *req = "{\"model\": {\"arch\": \"fcn\", \"depth\": 1},"
                      " \"x1\": {\"shape\": [3, 2], \"data\": [1, 0, 0, 1, 1, 1]},"
                      " \"x2\": {\"shape\": [2, 2], \"data\": [1, 2, 3, 4]}}";
    post_json("/api/v1/kernels", req, &r);
    cJSON *j = json_of(&r);
    int ok = r.status == 200;
    for (int k = 0; k < 2; k++) {
        const cJSON *m = cJSON_GetObjectItem(j, k ? "ntk" : "nngp");
        const cJSON *sh = cJSON_GetObjectItem(m, "shape");
        ok &= cJSON_GetArraySize(sh) == 2 && cJSON_GetArrayItem(sh, 0)->valuedouble == 3
              && cJSON_GetArrayItem(sh, 1)->valuedouble == 2 && cJSON_GetArraySize(cJSON_GetObjectItem(m, "data")) == 6;
    }
    check(ok, "POST /api/v1/kernels: nngp and ntk of shape [3, 2]");
    cJSON_Delete(j);
    resp_free(&r);

    post_json("/api/v1/kernels", "{\"model\": {\"arch\": \"fcn\"}, \"x1\": {\"shape\": [2, 2], \"data\": [1, 2, 3]}}", &r);
    check(r.status == 400 && is_error(&r, "invalid_spec", NULL), "kernel request with a wrong data length: 400 invalid_spec");
    resp_free(&r);

    /* 2100 x 2100 outputs = 4.41e6 numbers, above the default --max-kernel-numbers of 4e6 */
    size_t n = 2100, cap = 256 + 2 * n;
    char *body = malloc(cap);
    int k = snprintf(body, cap, "{\"model\": {\"arch\": \"fcn\"}, \"x1\": {\"shape\": [%zu, 1], \"data\": [", n);
    for (size_t i = 0; i < n; i++)
        body[k++] = '1', body[k++] = i + 1 < n ? ',' : ']';
    snprintf(body + k, cap - (size_t)k, "}}");
    post_json("/api/v1/kernels", body, &r);
    check(r.status == 413 && is_error(&r, "payload_too_large", NULL), "kernel request above --max-kernel-numbers: 413 (%ld %s)",
          r.status, r.body ? r.body : "");
    resp_free(&r);
    free(body);

    /* few numbers but hours of work: a cnn-gap Gram matrix of 300 28x28 images (45,150 pairs of 2 x 784^2 dual
     * evaluations, estimated minutes) is refused by --max-kernel-seconds (default 60) before it starts */
    n = 300;
    cap = 256 + 2 * n * 784;
    body = malloc(cap);
    k = snprintf(body, cap, "{\"model\": {\"arch\": \"cnn-gap\"}, \"x1\": {\"shape\": [%zu, 28, 28, 1], \"data\": [", n);
    for (size_t i = 0; i < n * 784; i++)
        body[k++] = (char)('1' + i % 7), body[k++] = i + 1 < n * 784 ? ',' : ']';
    snprintf(body + k, cap - (size_t)k, "}}");
    post_json("/api/v1/kernels", body, &r);
    check(r.status == 413 && is_error(&r, "payload_too_large", "x1.shape") && r.body && strstr(r.body, "s to compute") &&
              strstr(r.body, "--max-kernel-seconds=60"),
          "kernel request estimated above --max-kernel-seconds: 413 (%ld %.300s)", r.status, r.body ? r.body : "");
    resp_free(&r);
    free(body);

    /* one 1D input of 30000 positions: seconds of work, but the full covariances that an avg-pool layer reads
     * (4 x 30000^2 doubles per thread, 29 GB) are refused by --max-memory before anything is allocated (cnn-gap
     * itself streams its rows to GAP in a few rows of memory: docs/kernels.md) */
    n = 30000;
    cap = 256 + 2 * n;
    body = malloc(cap);
    k = snprintf(body, cap,
                 "{\"model\": {\"layers\": [{\"conv\": {\"filter\": [3]}}, {\"relu\": {}}, "
                 "{\"avg-pool\": {\"window\": [2]}}, {\"flatten\": {}}, {\"dense\": {}}]}, "
                 "\"x1\": {\"shape\": [1, %zu, 1], \"data\": [", n);
    for (size_t i = 0; i < n; i++)
        body[k++] = (char)('1' + i % 5), body[k++] = i + 1 < n ? ',' : ']';
    snprintf(body + k, cap - (size_t)k, "}}");
    post_json("/api/v1/kernels", body, &r);
    check(r.status == 413 && is_error(&r, "payload_too_large", "x1.shape") && r.body && strstr(r.body, "GiB") &&
              strstr(r.body, "--max-memory="),
          "kernel request estimated above --max-memory: 413 (%ld %.300s)", r.status, r.body ? r.body : "");
    resp_free(&r);
    free(body);
    /* a model beyond the spec limits is a 400 naming the field and the flag, as for experiments */
    post_json("/api/v1/kernels", "{\"model\": {\"arch\": \"fcn\", \"depth\": 31}, \"x1\": {\"shape\": [1, 2], \"data\": [1, 2]}}", &r);
    check(r.status == 400 && is_error(&r, "limit_exceeded", "model.depth") && r.body && strstr(r.body, "--max-depth=30"),
          "kernel request with depth 31: 400 limit_exceeded naming --max-depth (%ld %.300s)", r.status, r.body ? r.body : "");
    resp_free(&r);
    http_full("GET", "/healthz", NULL, NULL, 0, NULL, &r);
    check(r.status == 200, "the server is up after the refused kernel requests");
    resp_free(&r);
}

/* An experiment that fails while running (more test images than its two classes hold: known only once the
 * labels are read) ends 'failed' with the error message; the server goes on. */
static void test_failure(void)
{
    const char *spec = "{\"name\": \"too few images\", \"data\": {\"source\": \"fashion-mnist\", \"classes\": 2,"
                       " \"n_train\": [10], \"n_test\": 2001}, \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}";
    char *id = post_spec(spec, NULL);
    if (!check(id != NULL, "POST an experiment that asks for more images than its classes hold: accepted"))
        return;
    char *final = wait_end(id, 60);
    char path[128];
    snprintf(path, sizeof path, "/api/v1/experiments/%s", id);
    resp r;
    get(path, &r);
    cJSON *j = json_of(&r);
    const char *err = str_at(j, "error");
    check(strcmp(final, "failed") == 0 && err && *err && str_at(j, "finished_at"), "it ends failed with error \"%s\"",
          err ? err : "(none)");
    cJSON_Delete(j);
    resp_free(&r);
    check(get("/healthz", &r) == 200, "the server is still healthy");
    resp_free(&r);
    free(final);
    free(id);
}

/* Trained arms: the results and the CSV-free JSON carry each point's training curve, epochs 1..E in order
 * with finite losses, read back from the database (a regression test: the curves were once freed before
 * the reply was built). */
static void test_training(void)
{
    const char *spec = "{\"name\": \"trained\", \"data\": {\"source\": \"fashion-mnist\", \"resize\": 7, \"subset\": \"head\","
                       " \"n_train\": [32, 64], \"n_test\": 50}, \"models\": {\"arch\": \"fcn\", \"width\": 32},"
                       " \"inference\": [{\"method\": \"sgd\", \"epochs\": 5, \"batch\": 16}, {\"method\": \"adam\", \"epochs\": 3}]}";
    resp r;
    long st = post_json("/api/v1/experiments", spec, &r);
    cJSON *j = json_of(&r);
    const char *id0 = str_at(j, "id");
    char id[64];
    snprintf(id, sizeof id, "%s", id0 ? id0 : "");
    cJSON_Delete(j);
    resp_free(&r);
    if (!check(st == 201 && id[0], "trained experiment accepted (%ld)", st)) return;
    char *status = wait_end(id, 120);
    check(status && strcmp(status, "succeeded") == 0, "trained experiment succeeded (%s)", status ? status : "?");
    free(status);
    for (int pass = 0; pass < 2; pass++) {   /* twice: a reply built from freed memory differs between reads */
        char path[128];
        snprintf(path, sizeof path, "/api/v1/experiments/%s/results", id);
        get(path, &r);
        j = json_of(&r);
        const cJSON *pts = cJSON_GetObjectItem(j, "points");
        int npts = 0, good = 1;
        for (const cJSON *p = pts ? pts->child : NULL; p; p = p->next, npts++) {
            const cJSON *c = cJSON_GetObjectItem(p, "training_curve");
            int want = strstr(str_at(p, "arm") ? str_at(p, "arm") : "", "/sgd") ? 5 : 3;
            int e = 0;
            for (const cJSON *q = c ? c->child : NULL; q; q = q->next) {
                e++;
                const cJSON *ep = cJSON_GetObjectItem(q, "epoch"), *tl = cJSON_GetObjectItem(q, "train_loss");
                good &= cJSON_IsNumber(ep) && ep->valuedouble == e && cJSON_IsNumber(tl) && isfinite(tl->valuedouble) &&
                        tl->valuedouble > 0 && tl->valuedouble < 1e6;
            }
            good &= e == want;
        }
        check(npts == 4 && good, "training curves: 4 points, epochs 1..E in order with sane losses (read %d)", pass + 1);
        cJSON_Delete(j);
        resp_free(&r);
    }
}

static void test_static(void)
{
    resp r;
    get("/", &r);
    check(r.status == 200 && strncmp(r.ctype, "text/html", 9) == 0 && r.body && strstr(r.body, "dmilab test page"),
          "GET / serves index.html as text/html");
    resp_free(&r);
    get("/app.js", &r);
    check(r.status == 200 && strncmp(r.ctype, "text/javascript", 15) == 0, "GET /app.js as text/javascript");
    resp_free(&r);
    static const char *const evil[] = {"/../secret.txt", "/%2e%2e/secret.txt", "/sub/../../secret.txt", "/..%2fsecret.txt"};
    for (size_t i = 0; i < sizeof evil / sizeof evil[0]; i++) {
        get(evil[i], &r);
        check(r.status == 404 && !(r.body && strstr(r.body, "TOP SECRET")), "GET %s is not served (%ld)", evil[i], r.status);
        resp_free(&r);
    }
    get("/missing.css", &r);
    check(r.status == 404 && is_error(&r, "not_found", NULL), "missing static file: 404 not_found");
    resp_free(&r);
}

/* `dmilab run` gives the same numbers as the server; `dmilab kernel` answers and fails as documented. */
static void test_cli(const char *id)
{
    char path[400], cmd[1200];
    snprintf(path, sizeof path, "%s/small.json", t_dir);
    write_file(path, small_spec);
    snprintf(cmd, sizeof cmd, "'%s' run --threads 2 '%s'", t_exe, path);
    int st;
    char *out = run_capture(cmd, &st);
    cJSON *local = cJSON_Parse(out);
    free(out);
    char rp[160];
    snprintf(rp, sizeof rp, "/api/v1/experiments/%s/results", id);
    resp r;
    get(rp, &r);
    cJSON *remote = json_of(&r);
    resp_free(&r);
    const cJSON *a = cJSON_GetObjectItem(local, "points"), *b = cJSON_GetObjectItem(remote, "points");
    int same = st == 0 && cJSON_GetArraySize(a) == 4 && cJSON_GetArraySize(b) == 4;
    for (int i = 0; same && i < 4; i++) {
        const cJSON *x = cJSON_GetArrayItem(a, i), *y = cJSON_GetArrayItem(b, i);
        double u = cJSON_GetObjectItem(x, "test_mse")->valuedouble, v = cJSON_GetObjectItem(y, "test_mse")->valuedouble;
        same &= strcmp(str_at(x, "arm"), str_at(y, "arm")) == 0 && fabs(u - v) <= 1e-9 * fabs(v);
    }
    check(same, "dmilab run SPEC.json: exit 0, the same points and test MSE as the server");
    cJSON_Delete(local);
    cJSON_Delete(remote);

    snprintf(path, sizeof path, "%s/kernel.json", t_dir);
    write_file(path, "{\"model\": {\"arch\": \"fcn\"}, \"x1\": {\"shape\": [2, 3], \"data\": [1, 2, 3, 4, 5, 6]}}");
    snprintf(cmd, sizeof cmd, "'%s' kernel --threads 1 < '%s'", t_exe, path);
    out = run_capture(cmd, &st);
    cJSON *k = cJSON_Parse(out);
    free(out);
    const cJSON *sh = cJSON_GetObjectItem(cJSON_GetObjectItem(k, "ntk"), "shape");
    check(st == 0 && cJSON_GetArraySize(sh) == 2 && cJSON_GetArrayItem(sh, 1)->valuedouble == 2,
          "dmilab kernel: exit 0 and a 2 x 2 NTK");
    cJSON_Delete(k);
    snprintf(cmd, sizeof cmd, "echo '{\"model\": {\"arch\": \"mlp\"}}' | '%s' kernel 2>&1 >/dev/null", t_exe);
    out = run_capture(cmd, &st);
    k = cJSON_Parse(out);
    const char *f = str_at(cJSON_GetObjectItem(k, "error"), "field");
    check(st == 2 && f && strcmp(f, "model.arch") == 0, "dmilab kernel with a bad model: exit 2, error JSON on stderr naming model.arch");
    cJSON_Delete(k);
    free(out);
}

static char *fetch_text(const char *path)
{
    resp r;
    get(path, &r);
    char *s = r.status == 200 && r.body ? strdup(r.body) : strdup("");
    resp_free(&r);
    return s;
}

/* SIGTERM, start again (with a token from DMILAB_TOKEN): the experiment and its results are the same. */
static void test_restart(const char *id)
{
    char pe[160], pr[160];
    snprintf(pe, sizeof pe, "/api/v1/experiments/%s", id);
    snprintf(pr, sizeof pr, "/api/v1/experiments/%s/results", id);
    char *e1 = fetch_text(pe), *r1 = fetch_text(pr);
    int st = stop_server(SIGTERM);
    check(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "SIGTERM: the server exits with status 0");
    check(start_api_server("s3cret") == 0, "server starts again on the same database");
    char *e2 = fetch_text(pe), *r2 = fetch_text(pr);
    check(*e1 && strcmp(e1, e2) == 0, "after the restart the experiment is identical");
    check(*r1 && strcmp(r1, r2) == 0, "after the restart the results are identical");
    free(e1), free(e2), free(r1), free(r2);

    resp r;
    post_json("/api/v1/experiments", small_spec, &r);
    check(r.status == 401 && is_error(&r, "unauthorized", NULL), "with DMILAB_TOKEN set, POST without a token: 401");
    resp_free(&r);
    http_full("POST", "/api/v1/experiments", "application/json", small_spec, strlen(small_spec), BEARER("wrong"), &r);
    check(r.status == 401, "POST with a wrong token: 401");
    resp_free(&r);
    http_full("POST", "/api/v1/experiments", "text/plain", "x", 1, BEARER("s3cret"), &r);
    check(r.status == 415, "POST with the right token gets past authorization (415 for text/plain)");
    resp_free(&r);
    check(get(pe, &r) == 200, "GET needs no token");
    resp_free(&r);
    char pc[200];
    snprintf(pc, sizeof pc, "%s/cancel", pe);
    http_full("POST", pc, NULL, NULL, 0, NULL, &r);
    check(r.status == 401 && is_error(&r, "unauthorized", NULL), "cancel without the token: 401");
    resp_free(&r);
    http_full("POST", pc, NULL, NULL, 0, BEARER("s3cret"), &r);
    check(r.status == 200, "cancel (of an ended experiment) with the token: 200");
    resp_free(&r);
    http_full("DELETE", pe, NULL, NULL, 0, NULL, &r);
    check(r.status == 401 && is_error(&r, "unauthorized", NULL), "DELETE without the token: 401");
    resp_free(&r);
    snprintf(pc, sizeof pc, "%s/wait?timeout=0", pe);
    check(get(pc, &r) == 200, "wait needs no token");
    resp_free(&r);
    st = stop_server(SIGTERM);
    check(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "SIGTERM: exit status 0");
    check(start_api_server(NULL) == 0, "server starts again without a token");
}

/* kill -9 while a bigger experiment runs, start again: it resumes and stores each point exactly once. */
static void test_resume(void)
{
    const char *spec = "{\"name\": \"resume\", \"data\": {\"source\": \"fashion-mnist\", \"resize\": 2,"
                       " \"n_train\": [500, 1000, 1500], \"n_test\": 500},"
                       " \"models\": {\"arch\": \"fcn\"}, \"inference\": [{\"method\": \"nngp\"}, {\"method\": \"ntk\"}],"
                       " \"repeats\": 10}";
    const int expected = 3 * 2 * 10;
    char *id = post_spec(spec, NULL);
    resp r;
    cJSON *j;
    if (!check(id != NULL, "POST bigger experiment (%s)", id ? id : "none"))
        return;
    char pe[160];
    snprintf(pe, sizeof pe, "/api/v1/experiments/%s", id);

    /* wait for the first stored point, then kill -9 */
    double t0 = now_s();
    int n = 0;
    while (now_s() - t0 < 120 && (n = count_points(id, NULL)) < 1)
        usleep(50000);
    char *status = NULL;
    get(pe, &r);
    j = json_of(&r);
    status = strdup(str_at(j, "status") ? str_at(j, "status") : "?");
    cJSON_Delete(j);
    resp_free(&r);
    int st = stop_server(SIGKILL);
    check(n >= 1 && n < expected && strcmp(status, "running") == 0 && st >= 0 && WIFSIGNALED(st),
          "kill -9 while running with %d of %d points stored", n, expected);
    free(status);
    int before = count_points(id, NULL);

    check(start_api_server(NULL) == 0, "server starts again after kill -9");
    get(pe, &r);
    j = json_of(&r);
    const char *s = str_at(j, "status");
    check(s && (strcmp(s, "queued") == 0 || strcmp(s, "running") == 0), "the killed experiment is queued or running again (%s)",
          s ? s : "?");
    cJSON_Delete(j);
    resp_free(&r);

    /* a graceful stop in the middle: the running unit is abandoned, the server exits 0 */
    t0 = now_s();
    while (now_s() - t0 < 120 && count_points(id, NULL) <= before)
        usleep(50000);
    st = stop_server(SIGTERM);
    check(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "SIGTERM while running: exit status 0 after %.1f s", now_s() - t0);
    check(start_api_server(NULL) == 0, "server starts again");

    char *final = wait_end(id, 300);
    check(strcmp(final, "succeeded") == 0, "resumed experiment %s", final);
    free(final);
    int unique = 0;
    n = count_points(id, &unique);
    check(n == expected && unique, "exactly one row per point: %d points (expected %d), no duplicates", n, expected);
    free(id);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_api PATH/TO/dmilab\n");
        return 2;
    }
    t_init(argv[1], "api");
    snprintf(webroot, sizeof webroot, "%s/web", t_dir);
    mkdir(webroot, 0755);
    char p[400];
    snprintf(p, sizeof p, "%s/index.html", webroot);
    write_file(p, "<!doctype html><title>dmilab test page</title>\n");
    snprintf(p, sizeof p, "%s/app.js", webroot);
    write_file(p, "console.log('dmilab');\n");
    snprintf(p, sizeof p, "%s/sub", webroot);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/secret.txt", t_dir);
    write_file(p, "TOP SECRET\n");

    if (!check(start_api_server(NULL) == 0, "server starts"))
        return t_finish();
    test_errors();
    char *id = test_experiment();
    test_kernels();
    test_failure();
    test_training();
    test_static();
    if (id)
        test_cli(id);
    if (id)
        test_restart(id);
    free(id);
    if (t_server > 0)
        test_resume();
    int st = stop_server(SIGTERM);
    check(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "final SIGTERM: exit status 0");
    return t_finish();
}
