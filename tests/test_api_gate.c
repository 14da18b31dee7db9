/* API test of what a CI gates on (issue 9): the checks of failed, cancelled and unfinished experiments (JSON and
 * JUnit), the error code and field stored with a failed experiment, `dmilab submit` (exit codes 0/1/2, JUnit, repeated
 * long-polls, the server's error bodies, DMILAB_TOKEN), `dmilab run`'s output (resolved_spec, version, provenance),
 * its report of failing checks and its kernel cache, the list filters ?q= and ?tag=, and 400 for unknown query parameters.
 * usage: test_api_gate PATH/TO/dmilab */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_api_util.h"

/* About 10 units of a few tenths of a second each: long enough to be seen running. */
static const char *long_spec =
    "{\"name\": \"long\", \"data\": {\"source\": \"fashion-mnist\", \"resize\": 1, \"n_train\": [1000, 2000, 3000],"
    " \"n_test\": 1000}, \"models\": {\"arch\": \"fcn\"}, \"inference\": [{\"method\": \"nngp\"}, {\"method\": \"ntk\"}],"
    " \"repeats\": 10}";
/* Fails while running: a linear kernel (depth 0) of 16 pixels on 40 images has rank 16, and ridge 0 cannot make it
 * positive definite; the core names inference[0].ridge. */
static const char *singular_spec =
    "{\"name\": \"singular\", \"data\": {\"name\": \"fm\", \"source\": \"fashion-mnist\", \"resize\": 7, \"n_train\": [40],"
    " \"n_test\": 20, \"subset\": \"head\"}, \"models\": {\"name\": \"lin\", \"arch\": \"fcn\", \"depth\": 0},"
    " \"inference\": {\"name\": \"ntk\", \"method\": \"ntk\", \"ridge\": 0},"
    " \"checks\": [{\"arm\": \"fm/lin/ntk\", \"metric\": \"test_accuracy\", \"op\": \">=\", \"value\": 0.1}]}";
static const char *passing_spec =
    "{\"name\": \"passing\", \"data\": {\"name\": \"fm\", \"source\": \"fashion-mnist\", \"resize\": 4, \"n_train\": [20],"
    " \"n_test\": 50, \"subset\": \"head\"}, \"models\": {\"name\": \"fcn\", \"arch\": \"fcn\"},"
    " \"inference\": {\"name\": \"ntk\", \"method\": \"ntk\"},"
    " \"checks\": [{\"arm\": \"fm/fcn/ntk\", \"metric\": \"test_mse\", \"op\": \"<\", \"value\": 100}]}";
static const char *failing_spec =
    "{\"name\": \"failing check\", \"data\": {\"name\": \"fm\", \"source\": \"fashion-mnist\", \"resize\": 4, \"n_train\": [20, 40],"
    " \"n_test\": 50, \"subset\": \"head\"}, \"models\": {\"name\": \"fcn\", \"arch\": \"fcn\"},"
    " \"inference\": {\"name\": \"ntk\", \"method\": \"ntk\"},"
    " \"checks\": [{\"arm\": \"fm/fcn/ntk\", \"metric\": \"test_accuracy\", \"n_train\": 40, \"op\": \">=\", \"value\": 0.05},"
    "              {\"arm\": \"fm/fcn/ntk\", \"metric\": \"test_accuracy\", \"n_train\": 40, \"op\": \">\", \"value\": 0.999}]}";
/* A few seconds of work in several units, for repeated long-polls. */
static const char *medium_spec =
    "{\"name\": \"medium\", \"data\": {\"name\": \"fm\", \"source\": \"fashion-mnist\", \"resize\": 1, \"n_train\": [1500],"
    " \"n_test\": 500}, \"models\": {\"name\": \"fcn\", \"arch\": \"fcn\"}, \"inference\": {\"name\": \"ntk\", \"method\": \"ntk\"},"
    " \"repeats\": 18, \"checks\": [{\"arm\": \"fm/fcn/ntk\", \"metric\": \"test_mse\", \"op\": \"<\", \"value\": 100}]}";

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

static cJSON *experiment(const char *id)
{
    char p[160];
    snprintf(p, sizeof p, "/api/v1/experiments/%s", id);
    return get_json(p, NULL);
}

static char *wait_end(const char *id)
{
    char *s = NULL;
    double t0 = now_s();
    do {
        free(s);
        s = wait_status(id, 30);
    } while (now_s() - t0 < 240 && (strcmp(s, "queued") == 0 || strcmp(s, "running") == 0));
    return s;
}

static int count_of(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; p && (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* Run a shell command; its standard output and standard error (both malloc'd) and exit status. */
static char *run_both(const char *cmd, char **err, int *status)
{
    char path[400], full[4096];
    snprintf(path, sizeof path, "%s/stderr.txt", t_dir);
    snprintf(full, sizeof full, "%s 2>'%s'", cmd, path);
    char *out = run_capture(full, status);
    size_t n;
    FILE *f = fopen(path, "r");
    *err = malloc(1 << 20);
    n = f ? fread(*err, 1, (1 << 20) - 1, f) : 0;
    (*err)[n] = '\0';
    if (f)
        fclose(f);
    return out;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return strdup("");
    char *b = malloc(1 << 20);
    size_t n = fread(b, 1, (1 << 20) - 1, f);
    b[n] = '\0';
    fclose(f);
    return b;
}

/* GET /checks of `id`: the "passed" member (1 true, 0 false, -1 null, -2 missing), status and JUnit text. */
static int checks_of(const char *id, char *status, size_t cap, char **junit)
{
    char p[200];
    snprintf(p, sizeof p, "/api/v1/experiments/%s/checks", id);
    long st;
    cJSON *j = get_json(p, &st);
    const cJSON *pa = cJSON_GetObjectItem(j, "passed");
    int v = cJSON_IsTrue(pa) ? 1 : cJSON_IsFalse(pa) ? 0 : cJSON_IsNull(pa) ? -1 : -2;
    snprintf(status, cap, "%s", str_at(j, "status") ? str_at(j, "status") : "?");
    if (st != 200)
        v = -3;
    cJSON_Delete(j);
    snprintf(p, sizeof p, "/api/v1/experiments/%s/checks?format=junit", id);
    resp r;
    get(p, &r);
    *junit = strdup(r.body ? r.body : "");
    resp_free(&r);
    return v;
}

/* Checks of queued, running, cancelled and failed experiments; the stored error's code and field. */
static void test_gate(void)
{
    char *a = post_spec(long_spec, NULL), *b = post_spec(singular_spec, NULL), *c = post_spec(passing_spec, NULL);
    if (!check(a && b && c, "POST a long experiment and two behind it"))
        return;
    double t0 = now_s();
    cJSON *e = NULL;
    while (now_s() - t0 < 60) {
        cJSON_Delete(e);
        e = experiment(a);
        if (str_at(e, "status") && strcmp(str_at(e, "status"), "running") == 0)
            break;
        usleep(20000);
    }
    cJSON_Delete(e);
    char st[32], *junit;
    int v = checks_of(a, st, sizeof st, &junit);
    check(v == -1 && strcmp(st, "running") == 0, "checks of a running experiment: \"passed\": null (got %d, status %s)", v, st);
    check(strstr(junit, "<error") != NULL, "its JUnit holds an <error> testcase: the verdict is not final");
    free(junit);
    v = checks_of(b, st, sizeof st, &junit);
    check(v == -1 && strcmp(st, "queued") == 0, "checks of a queued experiment: \"passed\": null (got %d, status %s)", v, st);
    check(strstr(junit, "<error") != NULL && count_of(junit, "<testcase") == 2,
          "its JUnit: the check and an <error> testcase (%d testcases)", count_of(junit, "<testcase"));
    free(junit);

    /* cancel queued C, then running A */
    resp r;
    char p[200];
    snprintf(p, sizeof p, "/api/v1/experiments/%s/cancel", c);
    http_full("POST", p, NULL, NULL, 0, NULL, &r);
    resp_free(&r);
    v = checks_of(c, st, sizeof st, &junit);
    check(v == 0 && strcmp(st, "cancelled") == 0, "checks of an experiment cancelled while queued: passed false (got %d, %s)",
          v, st);
    check(strstr(junit, "<error") && strstr(junit, "cancelled") && strstr(junit, "errors=\"1\""),
          "its JUnit: an <error> testcase saying it was cancelled, errors=\"1\"");
    free(junit);
    snprintf(p, sizeof p, "/api/v1/experiments/%s/cancel", a);
    http_full("POST", p, NULL, NULL, 0, NULL, &r);
    resp_free(&r);
    char *s = wait_end(a);
    v = checks_of(a, st, sizeof st, &junit);
    check(strcmp(s, "cancelled") == 0 && v == 0, "an experiment without checks cancelled while running: passed false (%s, %d)",
          s, v);
    check(strstr(junit, "<error") && strstr(junit, "tests=\"1\"") && strstr(junit, "errors=\"1\""),
          "its JUnit: tests=\"1\" errors=\"1\", not an empty green suite");
    free(junit);
    free(s);

    /* B runs and fails */
    s = wait_end(b);
    e = experiment(b);
    const char *msg = str_at(e, "error");
    const cJSON *det = cJSON_GetObjectItem(e, "error_detail");
    check(strcmp(s, "failed") == 0 && msg && strstr(msg, "positive definite"), "the singular experiment fails (%s: %s)", s,
          msg ? msg : "no error");
    check(cJSON_IsObject(det) && str_at(det, "field") && strcmp(str_at(det, "field"), "inference[0].ridge") == 0
              && str_at(det, "code") && strcmp(str_at(det, "code"), "numerical_error") == 0 && str_at(det, "message")
              && msg && strcmp(str_at(det, "message"), msg) == 0,
          "its error_detail keeps the core's code and field: numerical_error at inference[0].ridge (%s at %s)",
          str_at(det, "code") ? str_at(det, "code") : "?", str_at(det, "field") ? str_at(det, "field") : "?");
    v = checks_of(b, st, sizeof st, &junit);
    check(v == 0 && strcmp(st, "failed") == 0, "checks of the failed experiment: passed false (got %d, %s)", v, st);
    check(strstr(junit, "<error") && strstr(junit, "positive definite") && strstr(junit, "errors=\"1\"")
              && count_of(junit, "<testcase") == 2,
          "its JUnit: the check and an <error> testcase with the experiment's message");
    free(junit);
    free(s);
    cJSON_Delete(e);
    e = get_json("/api/v1/experiments?status=failed", NULL);
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(e, "experiments"), 0);
    check(str_at(cJSON_GetObjectItem(first, "error_detail"), "field") != NULL, "the list carries error_detail too");
    cJSON_Delete(e);
    free(a);
    free(b);
    free(c);
}

static void write_spec(char *path, size_t cap, const char *name, const char *text)
{
    snprintf(path, cap, "%s/%s.json", t_dir, name);
    write_file(path, text);
}

/* dmilab run: the API's members in its output, and which check failed on stderr. */
static void test_run(void)
{
    char path[400], cmd[1200], *err;
    int st;
    write_spec(path, sizeof path, "passing", passing_spec);
    snprintf(cmd, sizeof cmd, "'%s' run --threads 1 '%s'", t_exe, path);
    char *out = run_both(cmd, &err, &st);
    cJSON *j = cJSON_Parse(out);
    const cJSON *pv = cJSON_GetObjectItem(j, "provenance");
    check(st == 0 && cJSON_IsObject(cJSON_GetObjectItem(j, "resolved_spec")) && str_at(j, "version")
              && strncmp(str_at(j, "version"), "dmilab ", 7) == 0 && cJSON_IsObject(pv)
              && cJSON_GetArraySize(cJSON_GetObjectItem(pv, "data_files")) == 4 && num_at(pv, "threads") == 1,
          "dmilab run prints resolved_spec, version and provenance (4 data files, threads 1) with its results");
    cJSON_Delete(j);
    free(out);
    free(err);
    write_spec(path, sizeof path, "failing", failing_spec);
    snprintf(cmd, sizeof cmd, "'%s' run --threads 1 '%s'", t_exe, path);
    out = run_both(cmd, &err, &st);
    check(st == 1 && strstr(err, "fm/fcn/ntk") && strstr(err, "test_accuracy") && strstr(err, "0.999")
              && strstr(err, "actual") && count_of(err, "check failed") == 1,
          "dmilab run with a failing check: exit 1 and stderr says which check failed, actual against expected (%.300s)", err);
    free(out);
    free(err);
}

/* One `dmilab run` of `spec` with `args` before it; its provenance's kernel_cache, its first kernel's tiles and
 * tiles stored, and its first point's test MSE. */
static void run_cached(const char *args, const char *spec, char *cache, size_t cap, double *tiles, double *stored,
                       double *mse)
{
    char path[400], cmd[1600], *err;
    int st;
    write_spec(path, sizeof path, "cached", spec);
    snprintf(cmd, sizeof cmd, "%s '%s' run --threads 1 '%s'", args, t_exe, path);
    char *out = run_both(cmd, &err, &st);
    cJSON *j = st == 0 ? cJSON_Parse(out) : NULL;
    const cJSON *pv = cJSON_GetObjectItem(j, "provenance");
    const cJSON *k = cJSON_GetArrayItem(cJSON_GetObjectItem(pv, "kernels"), 0);
    snprintf(cache, cap, "%s", str_at(pv, "kernel_cache") ? str_at(pv, "kernel_cache") : "(none)");
    *tiles = num_at(k, "tiles");
    *stored = num_at(k, "tiles_stored");
    *mse = num_at(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "points"), 0), "test_mse");
    if (st != 0)
        fprintf(stderr, "dmilab run exited %d: %.500s\n", st, err);
    cJSON_Delete(j);
    free(out);
    free(err);
}

/* dmilab run keeps its kernels in the kernel cache ($XDG_CACHE_HOME/dmilab/tiles, or --tile-dir): a second run
 * that changes only the ridge reads the kernel's tiles (kernel_cache hit) and solves with its own ridge. */
static void test_run_cache(void)
{
    static const char *fmt =
        "{\"data\": {\"name\": \"fm\", \"source\": \"fashion-mnist\", \"resize\": 4, \"n_train\": [20, 40],"
        " \"n_test\": 50, \"subset\": \"head\"}, \"models\": {\"name\": \"cnn\", \"arch\": \"cnn-vec\"},"
        " \"inference\": {\"name\": \"nngp\", \"method\": \"nngp\", \"ridge\": %s}}";
    char a[600], b[600], env[600], none[700], path[800], cache[16];
    snprintf(a, sizeof a, fmt, "1e-4");
    snprintf(b, sizeof b, fmt, "0.1");
    snprintf(env, sizeof env, "env XDG_CACHE_HOME='%s/xdg'", t_dir);
    double tiles, stored, mse_a, mse_b, mse;
    run_cached(env, a, cache, sizeof cache, &tiles, &stored, &mse_a);
    snprintf(path, sizeof path, "%s/xdg/dmilab/tiles", t_dir);
    struct stat sb;
    check(strcmp(cache, "miss") == 0 && tiles >= 1 && stored == 0 && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode),
          "a first dmilab run computes its kernel (kernel_cache %s, %g tiles, %g stored) into $XDG_CACHE_HOME/dmilab/tiles",
          cache, tiles, stored);
    run_cached(env, b, cache, sizeof cache, &tiles, &stored, &mse_b);
    check(strcmp(cache, "hit") == 0 && stored == tiles && isfinite(mse_b) && mse_b != mse_a,
          "a second run that changes only the ridge hits the cache (%s, %g of %g tiles stored) and solves with its "
          "own ridge (test MSE %.6g against %.6g)", cache, stored, tiles, mse_b, mse_a);
    run_cached(env, a, cache, sizeof cache, &tiles, &stored, &mse);
    check(strcmp(cache, "hit") == 0 && memcmp(&mse, &mse_a, sizeof mse) == 0,
          "the first spec again: a hit with the same test MSE bit for bit (%s, %.17g)", cache, mse);
    snprintf(path, sizeof path, "%s/cached.json", t_dir);
    char cmd[4096], *err;
    int st;
    write_spec(path, sizeof path, "cached", b);
    snprintf(cmd, sizeof cmd, "%s '%s' run --threads 1 --tile-dir '%s/other' '%s'", env, t_exe, t_dir, path);
    char *out = run_both(cmd, &err, &st);
    cJSON *j = cJSON_Parse(out);
    check(st == 0 && str_at(cJSON_GetObjectItem(j, "provenance"), "kernel_cache") &&
              strcmp(str_at(cJSON_GetObjectItem(j, "provenance"), "kernel_cache"), "miss") == 0,
          "--tile-dir names another cache: a miss there");
    cJSON_Delete(j);
    free(out);
    free(err);
    snprintf(none, sizeof none, "%s/none", t_dir);
    snprintf(cmd, sizeof cmd, "%s '%s' run --threads 1 --tile-dir '%s' --cache-bytes 0 '%s'", env, t_exe, none, path);
    out = run_both(cmd, &err, &st);
    snprintf(cmd, sizeof cmd, "find '%s' -name '*.tile*' | wc -l", none);
    int st2;
    char *count = run_capture(cmd, &st2);
    check(st == 0 && count && atoi(count) == 0, "--cache-bytes 0 keeps no finished kernel (%d tile files left)",
          count ? atoi(count) : -1);
    free(count);
    free(out);
    free(err);
    snprintf(cmd, sizeof cmd, "'%s' run --cache-bytes -1 '%s'", t_exe, path);
    out = run_both(cmd, &err, &st);
    check(st == 2 && strstr(err, "--cache-bytes"), "a malformed --cache-bytes: exit 2, named (%.200s)", err);
    free(out);
    free(err);
}

static void submit(const char *args, const char *env, char **out, char **err, int *st)
{
    char cmd[2000];
    snprintf(cmd, sizeof cmd, "%s '%s' submit %s", env ? env : "env -u DMILAB_TOKEN", t_exe, args);
    *out = run_both(cmd, err, st);
}

static void test_submit(void)
{
    char path[400], junit[400], args[1400], url[64], *out, *err;
    int st;
    snprintf(url, sizeof url, "http://127.0.0.1:%d", t_port);
    snprintf(junit, sizeof junit, "%s/junit.xml", t_dir);

    write_spec(path, sizeof path, "passing", passing_spec);
    snprintf(args, sizeof args, "'%s' --server %s --wait --junit '%s'", path, url, junit);
    submit(args, NULL, &out, &err, &st);
    cJSON *j = cJSON_Parse(out);
    char *x = read_text(junit);
    check(st == 0 && cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "checks"), "passed"))
              && str_at(j, "id") && cJSON_IsObject(cJSON_GetObjectItem(j, "resolved_spec"))
              && cJSON_IsObject(cJSON_GetObjectItem(j, "provenance")) && str_at(j, "version")
              && cJSON_GetArraySize(cJSON_GetObjectItem(j, "points")) == 1,
          "submit --wait of a passing spec: exit 0 (%d), results, checks, resolved_spec, provenance, version on stdout", st);
    check(strstr(x, "<testsuite") && count_of(x, "<testcase") == 1 && !strstr(x, "<failure") && !strstr(x, "<error"),
          "--junit FILE: the JUnit of the checks, one passing testcase");
    check(strstr(err, "succeeded") != NULL, "progress on stderr ends with the status (%.200s)", err);
    cJSON_Delete(j);
    free(x), free(out), free(err);
    unlink(junit);

    write_spec(path, sizeof path, "failing", failing_spec);
    snprintf(args, sizeof args, "'%s' --server %s --wait --junit '%s'", path, url, junit);
    submit(args, NULL, &out, &err, &st);
    x = read_text(junit);
    check(st == 1 && strstr(err, "check failed") && strstr(err, "0.999") && strstr(err, "actual"),
          "submit --wait with a failing check: exit 1 (%d), stderr names the check", st);
    check(count_of(x, "<testcase") == 2 && count_of(x, "<failure") == 1, "its JUnit: 2 testcases, 1 failure");
    free(x), free(out), free(err);
    unlink(junit);

    write_spec(path, sizeof path, "singular", singular_spec);
    snprintf(args, sizeof args, "'%s' --server %s --junit '%s'", path, url, junit);   /* --junit implies --wait */
    submit(args, NULL, &out, &err, &st);
    x = read_text(junit);
    check(st == 2 && strstr(err, "failed") && strstr(err, "positive definite") && strstr(err, "inference[0].ridge"),
          "submit of an experiment that fails: exit 2 (%d), stderr has its error and field (%.300s)", st, err);
    check(strstr(x, "<error") && strstr(x, "positive definite"), "its JUnit holds the <error>");
    free(x), free(out), free(err);

    write_spec(path, sizeof path, "medium", medium_spec);
    snprintf(args, sizeof args, "'%s' --server %s --wait --poll 1", path, url);
    double t0 = now_s();
    submit(args, NULL, &out, &err, &st);
    double took = now_s() - t0;
    int polls = count_of(err, "running");
    check(st == 0 && polls >= 2, "--poll 1: long-polls again and again (%d progress lines in %.1f s), exit %d", polls, took, st);
    free(out), free(err);

    snprintf(args, sizeof args, "'%s' --server %s", path, url);
    submit(args, NULL, &out, &err, &st);
    j = cJSON_Parse(out);
    check(st == 0 && str_at(j, "id") && str_at(j, "status") && strcmp(str_at(j, "status"), "succeeded") != 0,
          "submit without --wait: exit 0 with the queued experiment on stdout (%s)", str_at(j, "status") ? str_at(j, "status") : "?");
    if (str_at(j, "id")) {
        char p[200];
        resp r;
        snprintf(p, sizeof p, "/api/v1/experiments/%s/cancel", str_at(j, "id"));
        http_full("POST", p, NULL, NULL, 0, NULL, &r);
        resp_free(&r);
    }
    cJSON_Delete(j);
    free(out), free(err);

    write_spec(path, sizeof path, "invalid", "{\"colour\": 1, \"data\": {\"source\": \"fashion-mnist\", \"n_train\": [5],"
                                             " \"n_test\": 5}, \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}");
    snprintf(args, sizeof args, "'%s' --server %s --wait", path, url);
    submit(args, NULL, &out, &err, &st);
    check(st == 2 && strstr(err, "400") && strstr(err, "\"field\":\"colour\""),
          "submit of an invalid spec: exit 2, the server's 400 body on stderr (%.200s)", err);
    free(out), free(err);

    snprintf(args, sizeof args, "'%s' --server http://127.0.0.1:1 --wait", path);
    submit(args, NULL, &out, &err, &st);
    check(st == 2 && strstr(err, "127.0.0.1:1"), "submit to a port nobody listens on: exit 2 naming the server (%.200s)", err);
    free(out), free(err);
    submit("--server", NULL, &out, &err, &st);
    check(st == 2 && strstr(err, "usage"), "submit with bad arguments: exit 2 with the usage");
    free(out), free(err);

    /* a token: refused without it, accepted from --token and from DMILAB_TOKEN */
    stop_server(SIGTERM);
    const char *envs[] = {"DMILAB_TOKEN=tok3n", NULL};
    if (!check(start_server_env(NULL, envs) == 0, "server starts with DMILAB_TOKEN"))
        return;
    write_spec(path, sizeof path, "passing", passing_spec);
    snprintf(args, sizeof args, "'%s' --server %s --wait", path, url);
    submit(args, NULL, &out, &err, &st);
    check(st == 2 && strstr(err, "401") && strstr(err, "unauthorized"), "submit without the token: exit 2 with the 401 body");
    free(out), free(err);
    submit(args, "DMILAB_TOKEN=tok3n", &out, &err, &st);
    check(st == 0, "submit with DMILAB_TOKEN: exit 0 (%d)", st);
    free(out), free(err);
    snprintf(args, sizeof args, "'%s' --server %s --token tok3n", path, url);
    submit(args, NULL, &out, &err, &st);
    check(st == 0, "submit --token: exit 0 (%d)", st);
    free(out), free(err);
    stop_server(SIGTERM);
    check(start_server(NULL) == 0, "server starts again without a token");
}

static int list_count(const char *query, long *status)
{
    char p[300];
    snprintf(p, sizeof p, "/api/v1/experiments%s", query);
    cJSON *j = get_json(p, status);
    int n = cJSON_GetArraySize(cJSON_GetObjectItem(j, "experiments"));
    cJSON_Delete(j);
    return n;
}

static void test_filters(void)
{
    static const char *const specs[] = {
        "{\"name\": \"Alpha one\", \"tags\": [\"nightly\", \"fcn\"], \"data\": {\"source\": \"fashion-mnist\", \"resize\": 7,"
        " \"n_train\": [5], \"n_test\": 5}, \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}",
        "{\"name\": \"beta alpha\", \"tags\": [\"nightly\"], \"data\": {\"source\": \"fashion-mnist\", \"resize\": 7,"
        " \"n_train\": [5], \"n_test\": 5}, \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}",
        "{\"name\": \"gamma_100%\", \"data\": {\"source\": \"fashion-mnist\", \"resize\": 7,"
        " \"n_train\": [5], \"n_test\": 5}, \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}",
    };
    for (int i = 0; i < 3; i++) {
        long s;
        char *id = post_spec(specs[i], &s);
        check(s == 201, "POST experiment %d for the filters (%ld)", i, s);
        free(id);
    }
    long s;
    int n = list_count("?q=alpha", &s);
    check(s == 200 && n == 2, "?q=alpha: the 2 names containing it, case-insensitive (%d)", n);
    n = list_count("?q=e_a", &s);
    check(s == 200 && n == 0, "?q=e_a: '_' is a literal, not a wildcard (%d)", n);
    n = list_count("?q=a_100%25", &s);
    check(s == 200 && n == 1, "?q=a_100%%: '%%' and '_' literal (%d)", n);
    n = list_count("?tag=nightly", &s);
    check(s == 200 && n == 2, "?tag=nightly: 2 experiments (%d)", n);
    n = list_count("?tag=nightly&tag=fcn", &s);
    check(s == 200 && n == 1, "?tag=nightly&tag=fcn: every tag must be present (%d)", n);
    n = list_count("?tag=fcn&q=beta", &s);
    check(s == 200 && n == 0, "?tag=fcn&q=beta: both filters apply (%d)", n);
    n = list_count("?tag=night", &s);
    check(s == 200 && n == 0, "?tag=night: tags match whole (%d)", n);
    n = list_count("?q=alpha&limit=1", &s);
    check(s == 200 && n == 1, "?q= with limit pages as usual");

    static const struct {
        const char *path, *param;
    } unknown[] = {
        {"/api/v1/experiments?name=alpha", "name"},
        {"/api/v1/experiments?limit=5&Status=queued", "Status"},
        {"/healthz?verbose=1", "verbose"},
        {"/api/v1/experiments/exp_0000000000000000?x=1", "x"},
        {"/api/v1/experiments/exp_0000000000000000/wait?timeout=1&t=2", "t"},
        {"/api/v1/openapi.json?format=yaml", "format"},
    };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        resp r;
        get(unknown[i].path, &r);
        check(r.status == 400 && is_error(&r, "invalid_spec", unknown[i].param), "GET %s: 400 naming %s (%ld)", unknown[i].path,
              unknown[i].param, r.status);
        resp_free(&r);
    }
    resp r;
    static const char *const bad_tags[][2] = {{"\"tags\": \"nightly\"", "tags"}, {"\"tags\": [\"a b\"]", "tags[0]"},
                                               {"\"tags\": [\"x\", \"x\"]", "tags[1]"}};
    for (int i = 0; i < 3; i++) {
        char body[512];
        snprintf(body, sizeof body, "{%s, \"data\": {\"source\": \"fashion-mnist\", \"n_train\": [5], \"n_test\": 5},"
                 " \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}", bad_tags[i][0]);
        post_json("/api/v1/experiments", body, &r);
        check(r.status == 400 && is_error(&r, "invalid_spec", bad_tags[i][1]), "%s: 400 naming %s", bad_tags[i][0],
              bad_tags[i][1]);
        resp_free(&r);
    }
    post_json("/api/v1/experiments?dry_run=true&dryrun=1", specs[2], &r);
    check(r.status == 400 && is_error(&r, "invalid_spec", "dryrun"), "POST ?dryrun=1: 400 naming dryrun");
    resp_free(&r);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_api_gate PATH/TO/dmilab\n");
        return 2;
    }
    t_init(argv[1], "gate");
    if (!check(start_server(NULL) == 0, "server starts"))
        return t_finish();
    test_gate();
    test_run();
    test_run_cache();
    test_submit();
    test_filters();
    int st = stop_server(SIGTERM);
    check(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "SIGTERM: exit status 0");
    return t_finish();
}
