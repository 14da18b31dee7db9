/* API test of the spec pipeline and of data that can be trusted (issue 9 spec/data items, issue 10 "parse once"),
 * against a real `dmilab serve` whose data root is a temporary directory: the spec stored as submitted, numbers
 * that read back as the same doubles (JSON = CSV, an == check with tolerance 0 on a printed value), \u0000,
 * tags, --max-experiment-seconds, --max-memory counting the data, the data root boundary, provenance of the
 * bytes read, resize on the user's own image sizes, the zero kernel, and a stored spec run without admission
 * after a restart with other limits. usage: test_api_spec PATH/TO/dmilab */
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

#include "idx_fixture.h"
#include "npy_fixture.h"
#include "test_api_util.h"

static char root[400], outside[400];
static const char *const files[4] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                     "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};

/* Long-poll until the experiment ends (or `seconds` pass); the final status (malloc'd). */
static char *wait_end(const char *id, double seconds)
{
    double t0 = now_s();
    char *s = wait_status(id, 30);
    while ((strcmp(s, "queued") == 0 || strcmp(s, "running") == 0) && now_s() - t0 < seconds) {
        free(s);
        s = wait_status(id, 30);
    }
    return s;
}

/* GET path as parsed JSON (NULL on failure); *status gets the HTTP status. */
static cJSON *get_json(const char *fmt, const char *id, long *status)
{
    char p[200];
    snprintf(p, sizeof p, fmt, id);
    resp r;
    long st = get(p, &r);
    if (status) *status = st;
    cJSON *j = json_of(&r);
    resp_free(&r);
    return j;
}

static void sha256_of(const char *path, char hex[65])
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
    int rc;
    char *out = run_capture(cmd, &rc);
    snprintf(hex, 65, "%.64s", rc == 0 ? out : "");
    free(out);
}

/* The sha256 the experiment's provenance records for `path` ("" when absent, "null" when null). */
static void provenance_sha(const cJSON *exp, const char *path, char out[65])
{
    snprintf(out, 65, "%s", "");
    const cJSON *files = cJSON_GetObjectItem(cJSON_GetObjectItem(exp, "provenance"), "data_files");
    for (const cJSON *f = files ? files->child : NULL; f; f = f->next)
        if (str_at(f, "path") && strcmp(str_at(f, "path"), path) == 0)
            snprintf(out, 65, "%s", str_at(f, "sha256") ? str_at(f, "sha256") : "null");
}

static void expect_400(const char *what, const char *body, const char *code, const char *field, const char *word)
{
    resp r;
    post_json("/api/v1/experiments", body, &r);
    cJSON *j = json_of(&r);
    const char *msg = str_at(cJSON_GetObjectItem(j, "error"), "message");
    check(r.status == 400 && is_error(&r, code, field) && (!word || (msg && strstr(msg, word))), "%s: 400 %s at %s (%ld %.300s)",
          what, code, field ? field : "-", r.status, r.body ? r.body : "");
    cJSON_Delete(j);
    resp_free(&r);
}

/* The data root of the server: a copy of Fashion-MNIST, small 16x16 data sets, and traps. */
static void make_root(void)
{
    char p[1200], q[1200];
    snprintf(root, sizeof root, "%s/root", t_dir);
    snprintf(outside, sizeof outside, "%s/outside", t_dir);
    mkdir(root, 0755);
    mkdir(outside, 0755);
    snprintf(p, sizeof p, "mkdir -p '%s/fmnist' && cp /usr/share/datasets/fashion-mnist/*-ubyte.gz '%s/fmnist/'", root, root);
    check(system(p) == 0, "copy Fashion-MNIST into the data root");
    const char *dirs[] = {"a", "b", "c", "evil", "partial"};
    for (int i = 0; i < 5; i++) {
        snprintf(p, sizeof p, "%s/%s", root, dirs[i]);
        fx_write_dir(p, 200, 50, 16, 16, 1, -1);
    }
    snprintf(p, sizeof p, "%s/flat", root);
    fx_write_dir(p, 60, 20, 16, 16, 1, 90);
    snprintf(p, sizeof p, "%s/secret", outside);
    fx_write_dir(p, 200, 50, 16, 16, 9, -1);
    /* evil: its training images are a link to a file outside the root */
    snprintf(p, sizeof p, "%s/evil/%s", root, files[0]);
    snprintf(q, sizeof q, "%s/secret/%s", outside, files[0]);
    check(unlink(p) == 0 && symlink(q, p) == 0, "evil/ links its training images out of the root");
    snprintf(p, sizeof p, "%s/partial/%s", root, files[3]);
    check(unlink(p) == 0, "partial/ lacks its test labels");
}

#define SMALL(dir, extra) "{\"name\": \"small\", \"data\": {\"name\": \"d\", \"source\": \"mnist\", \"path\": \"%s/" dir "\", " \
    "\"resize\": 2, \"subset\": \"head\", \"n_train\": [50, 150], \"n_test\": 50}, \"models\": {\"name\": \"m\", \"arch\": \"fcn\"}," \
    " \"inference\": {\"name\": \"ntk\", \"method\": \"ntk\"}" extra "}"

/* The spec is stored exactly as submitted and parsed once; numbers survive every way out. */
static void test_as_submitted(void)
{
    char body[2000];
    snprintf(body, sizeof body,
             "{\n  \"seed\" : 9007199254740991,\"name\":\"as submitted\",\n  \"data\": {\"source\": \"mnist\", \"path\": \"%s/a\","
             " \"resize\": 2, \"n_train\": [150, 50], \"n_test\": 50, \"subset\": \"head\"},\n  \"models\": {\"arch\": \"fcn\","
             " \"width\": 16},\n  \"inference\": [{\"method\": \"ntk\", \"ridge\": 1E-4}, {\"method\": \"nngp\", \"ridge\": 0.30000000000000004}]\n}\n",
             root);
    long st;
    char *id = post_spec(body, &st);
    if (!check(st == 201 && id, "a spec with its own formatting: 201 (%ld)", st)) return;
    char p[200];
    snprintf(p, sizeof p, "/api/v1/experiments/%s", id);
    resp r;
    get(p, &r);
    check(r.body && strstr(r.body, body), "GET shows the spec exactly as submitted (whitespace, 1E-4, key order)");
    check(r.body && strstr(r.body, "\"seed\":9007199254740991,") && strstr(r.body, "\"ridge\":0.30000000000000004"),
          "the resolved spec keeps the seed 2^53-1 and the ridge 0.1+0.2 (%.600s)", r.body ? r.body : "");
    resp_free(&r);
    char *fin = wait_end(id, 60);
    check(strcmp(fin, "succeeded") == 0, "it succeeds (%s)", fin);
    free(fin);
    /* JSON and CSV results are the same doubles */
    cJSON *res = get_json("/api/v1/experiments/%s/results", id, &st);
    snprintf(p, sizeof p, "/api/v1/experiments/%s/results?format=csv", id);
    get(p, &r);
    int rows = 0, same = 1;
    const cJSON *pts = cJSON_GetObjectItem(res, "points");
    char *line = r.body ? strchr(r.body, '\n') : NULL;
    for (const cJSON *pt = pts ? pts->child : NULL; pt && line; pt = pt->next, rows++) {
        line++;
        char *f[10];
        int k = 0;
        for (char *c = line; k < 10; k++) {
            f[k] = c;
            size_t n = strcspn(c, ",\n");
            c += n + (c[n] != 0);
        }
        const char *keys[4] = {"test_mse", "test_accuracy", "train_mse", "seconds"};
        for (int i = 0; i < 4; i++) same &= strtod(f[6 + i], NULL) == num_at(pt, keys[i]);
        line = strchr(line, '\n');
    }
    check(rows == 4 && same, "JSON and CSV give the same doubles for every point (%d rows)", rows);
    resp_free(&r);
    /* a check with == and tolerance 0 on a value as the API printed it passes on a rerun */
    const cJSON *ntk = NULL;
    for (const cJSON *pt = pts ? pts->child : NULL; pt; pt = pt->next)
        if (strstr(str_at(pt, "arm"), "/ntk") && num_at(pt, "n_train") == 150) ntk = pt;
    if (check(ntk != NULL, "the NTK point at n_train 150")) {
        char again[2400], chk[400];
        snprintf(chk, sizeof chk, ", \"checks\": [{\"arm\": \"%s\", \"metric\": \"test_mse\", \"op\": \"==\", \"value\": %.17g,"
                 " \"tolerance\": 0}]", str_at(ntk, "arm"), num_at(ntk, "test_mse"));
        snprintf(again, sizeof again, "%.*s%s}", (int)(strrchr(body, '}') - body), body, chk);
        char *id2 = post_spec(again, &st);
        char *f2 = id2 ? wait_end(id2, 60) : strdup("?");
        cJSON *c = id2 ? get_json("/api/v1/experiments/%s/checks", id2, NULL) : NULL;
        check(st == 201 && strcmp(f2, "succeeded") == 0 && cJSON_IsTrue(cJSON_GetObjectItem(c, "passed")),
              "== with tolerance 0 on the printed test_mse passes on the same spec (%s)", f2);
        cJSON_Delete(c);
        free(f2);
        free(id2);
    }
    cJSON_Delete(res);
    free(id);
}

static void test_fields(void)
{
    char body[1200];
    snprintf(body, sizeof body, "{\"name\": \"nul\\u0000byte\", \"data\": {\"source\": \"mnist\", \"path\": \"%s/a\", \"n_train\": 10,"
             " \"n_test\": 10}, \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}", root);
    expect_400("\\u0000 in the name", body, "invalid_spec", "name", "u0000");
    snprintf(body, sizeof body, "{\"data\": {\"source\": \"mnist\", \"path\": \"%s/a\\u0000/../../outside\", \"n_train\": 10,"
             " \"n_test\": 10}, \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}", root);
    expect_400("\\u0000 in a path", body, "invalid_spec", "data.path", NULL);
    {
        /* the kernel route reads its body with the same parser: a \u0000 is not cut into a valid "relu" */
        resp kr;
        post_json("/api/v1/kernels", "{\"model\": {\"arch\": \"fcn\", \"activation\": \"relu\\u0000junk\"},"
                  " \"x1\": {\"shape\": [2, 2], \"data\": [1, 2, 3, 4]}}", &kr);
        check(kr.status == 400 && is_error(&kr, "invalid_spec", "model.activation"),
              "\\u0000 in a kernel request: 400 invalid_spec at model.activation (%ld %.300s)", kr.status, kr.body ? kr.body : "");
        resp_free(&kr);
    }
    snprintf(body, sizeof body, SMALL("a", ", \"tags\": [\"ci\", \"v2.1\"]"), root);
    long st;
    char *id = post_spec(body, &st);
    cJSON *e = id ? get_json("/api/v1/experiments/%s", id, NULL) : NULL;
    const cJSON *tags = cJSON_GetObjectItem(cJSON_GetObjectItem(e, "resolved_spec"), "tags");
    check(st == 201 && cJSON_GetArraySize(tags) == 2 && strcmp(cJSON_GetArrayItem(tags, 1)->valuestring, "v2.1") == 0,
          "tags are kept in the resolved spec (%ld)", st);
    cJSON_Delete(e);
    if (id) {
        char *f = wait_end(id, 60);
        free(f);
    }
    free(id);
    snprintf(body, sizeof body, SMALL("a", ", \"tags\": [\"c i\"]"), root);
    expect_400("a tag with a space", body, "invalid_spec", "tags[0]", NULL);
    /* the dry-run estimate of this one is about 2e9 s: above the default 7 days */
    snprintf(body, sizeof body, "{\"data\": {\"source\": \"fashion-mnist\", \"path\": \"%s/fmnist\", \"n_train\": [20000],"
             " \"n_test\": 10000}, \"models\": {\"arch\": \"cnn-gap\", \"depth\": 30}, \"inference\": {\"method\": \"ntk\"},"
             " \"repeats\": 100}", root);
    resp r;
    post_json("/api/v1/experiments?dry_run=true", body, &r);
    check(r.status == 400 && is_error(&r, "limit_exceeded", NULL) && strstr(r.body, "--max-experiment-seconds=604800"),
          "an experiment estimated at decades: 400 limit_exceeded naming --max-experiment-seconds (%ld %.300s)", r.status,
          r.body ? r.body : "");
    resp_free(&r);
}

/* Resize against the real image side; the zero kernel. */
static void test_images(void)
{
    char body[1400];
    const char *fmt = "{\"data\": {\"name\": \"d\", \"source\": \"mnist\", \"path\": \"%s/%s\", \"resize\": %d, \"n_train\": [40],"
                      " \"n_test\": 20}, \"models\": {\"name\": \"m\", \"arch\": \"cnn-gap\", \"filter\": 2}, \"inference\": {\"name\": \"ntk\", \"method\": \"ntk\"}}";
    snprintf(body, sizeof body, fmt, root, "a", 8);
    long st;
    char *id = post_spec(body, &st);
    char *f = id ? wait_end(id, 60) : strdup("?");
    check(st == 201 && strcmp(f, "succeeded") == 0, "16x16 images, resize 8: accepted and run (%ld %s)", st, f);
    free(f);
    free(id);
    snprintf(body, sizeof body, fmt, root, "a", 7);
    expect_400("16x16 images, resize 7", body, "invalid_spec", "data.resize", "16x16");
    snprintf(body, sizeof body, fmt, root, "a", 16);
    expect_400("16x16 images, resize 16 (one pixel)", body, "invalid_spec", "data.resize", "one pixel");
    snprintf(body, sizeof body, fmt, root, "fmnist", 28);
    expect_400("28x28 images, resize 28 (one pixel)", body, "invalid_spec", "data.resize", "one pixel");
    /* images that standardise to zeros: the zero predictor (test MSE 0.9), not a failure */
    snprintf(body, sizeof body, fmt, root, "flat", 2);
    id = post_spec(body, &st);
    f = id ? wait_end(id, 60) : strdup("?");
    cJSON *res = id ? get_json("/api/v1/experiments/%s/results", id, NULL) : NULL;
    const cJSON *pt = cJSON_GetArrayItem(cJSON_GetObjectItem(res, "points"), 0);
    check(strcmp(f, "succeeded") == 0 && fabs(num_at(pt, "test_mse") - 0.9) < 1e-12,
          "constant images: a zero kernel gives the zero predictor (%s, test MSE %g)", f, num_at(pt, "test_mse"));
    cJSON_Delete(res);
    free(f);
    free(id);
}

/* Only files inside the data root are read or hashed; a broken data directory is a 400 at submission. */
static void test_root_boundary(void)
{
    char body[1400], path[900];
    snprintf(body, sizeof body, SMALL("evil", ""), root);
    expect_400("a data directory with a file linked out of the root", body, "invalid_spec", "data.path", "data root");
    snprintf(body, sizeof body, SMALL("a/train-images-idx3-ubyte.gz", ""), root);
    expect_400("a path that is a file", body, "invalid_spec", "data.path", "not a directory");
    snprintf(body, sizeof body, SMALL("partial", ""), root);
    expect_400("a directory missing a file", body, "invalid_spec", "data.path", "t10k-labels-idx1-ubyte.gz");
    /* outside the root: the same message whether the path exists or not */
    char msg[2][600];
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/%s", outside, k ? "secret" : "no-such-dir");
        snprintf(body, sizeof body, "{\"data\": {\"source\": \"mnist\", \"path\": \"%s\", \"n_train\": 10, \"n_test\": 10},"
                 " \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}", path);
        resp r;
        post_json("/api/v1/experiments", body, &r);
        cJSON *j = json_of(&r);
        const char *m = str_at(cJSON_GetObjectItem(j, "error"), "message");
        const char *hit = m ? strstr(m, path) : NULL;
        snprintf(msg[k], sizeof msg[k], "%s", hit ? hit + strlen(path) : m ? m : "?");
        check(r.status == 400, "a path outside the root: 400");
        cJSON_Delete(j);
        resp_free(&r);
    }
    check(strcmp(msg[0], msg[1]) == 0, "the message does not tell whether it exists ('%s' vs '%s')", msg[0], msg[1]);
}

/* Provenance holds the hashes of the bytes the numbers came from; replaced files are read again. */
static void test_provenance(void)
{
    char body[1400], img[900], hex[65], rec[65];
    snprintf(body, sizeof body, SMALL("b", ""), root);
    snprintf(img, sizeof img, "%s/b/%s", root, files[0]);
    double mse[2] = {0, 0};
    for (int round = 0; round < 2; round++) {
        if (round == 1) {   /* other images under the same names */
            char d[600];
            snprintf(d, sizeof d, "%s/b", root);
            fx_write_dir(d, 200, 50, 16, 16, 2, -1);
        }
        long st;
        char *id = post_spec(body, &st);
        char *f = id ? wait_end(id, 60) : strdup("?");
        cJSON *e = id ? get_json("/api/v1/experiments/%s", id, NULL) : NULL;
        cJSON *res = id ? get_json("/api/v1/experiments/%s/results", id, NULL) : NULL;
        mse[round] = num_at(cJSON_GetArrayItem(cJSON_GetObjectItem(res, "points"), 1), "test_mse");
        sha256_of(img, hex);
        provenance_sha(e, img, rec);
        check(strcmp(f, "succeeded") == 0 && hex[0] && strcmp(hex, rec) == 0,
              "run %d: provenance records the SHA-256 of the images read (%s, file %s, recorded %s)", round + 1, f, hex, rec);
        cJSON_Delete(e);
        cJSON_Delete(res);
        free(f);
        free(id);
    }
    check(mse[0] != mse[1], "after the files are replaced the results are those of the new images (%.17g, %.17g)", mse[0],
          mse[1]);
    /* moved away: refused at submission, not served from the cache with sha256 null */
    char moved[1000];
    snprintf(moved, sizeof moved, "%s.moved", img);
    check(rename(img, moved) == 0, "move the training images away");
    expect_400("a data directory whose file was moved away after a run", body, "invalid_spec", "data.path", files[0]);
    rename(moved, img);
}

/* Issue 11 at the API: a user's own .npy arrays (provenance, the data root, 400s naming the field) and a
 * synthetic experiment with a ridge sweep (arms named by their values, the curves' repeats). */
static void test_lab(void)
{
    char dir[900], body[3000], out[900];
    snprintf(dir, sizeof dir, "%s/arrays", root);
    mkdir(dir, 0755);
    static unsigned char x[80 * 36];
    static long long y[80];
    for (int i = 0; i < 80; i++) {
        y[i] = i % 3;
        for (int p = 0; p < 36; p++) x[i * 36 + p] = (unsigned char)((p / 6 == 2 * y[i] ? 200 : 0) + (i * 37 + p * 11) % 50);
    }
    fx_write_npy(dir, "x.npy", "|u1", "(80, 6, 6, 1)", 0, x, sizeof x);
    fx_write_npy(dir, "y.npy", "<i8", "(80,)", 0, y, sizeof y);
    fx_write_npy(dir, "obj.npy", "|O", "(80,)", 0, y, sizeof y);
    snprintf(out, sizeof out, "%s/x.npy", outside);
    fx_write_npy(outside, "x.npy", "|u1", "(80, 6, 6, 1)", 0, x, sizeof x);
#define NPY_SPEC(xtr, sizes) "{\"data\": {\"source\": \"npy\", \"x_train\": \"" xtr "\", \"y_train\": \"arrays/y.npy\", " \
    "\"x_test\": \"arrays/x.npy\", \"y_test\": \"arrays/y.npy\", " sizes "}, " \
    "\"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}"
#define SIZES "\"n_train\": [20, 40], \"n_test\": 30"
    expect_400("npy: an object array", NPY_SPEC("arrays/obj.npy", SIZES), "invalid_spec", "data.x_train", "object");
    snprintf(body, sizeof body, NPY_SPEC("%s", SIZES), out);
    expect_400("npy: a file outside the data root", body, "invalid_spec", "data.x_train", "not a readable path");
    expect_400("npy: more examples than the arrays hold", NPY_SPEC("arrays/x.npy", "\"n_train\": 20, \"n_test\": 81"), "invalid_spec",
               "data.n_test", "80 test examples");
    long st;
    char *id = post_spec(NPY_SPEC("arrays/x.npy", SIZES), &st);
    char *f = id ? wait_end(id, 60) : strdup("?");
    cJSON *e = id ? get_json("/api/v1/experiments/%s", id, NULL) : NULL;
    cJSON *res = id ? get_json("/api/v1/experiments/%s/results", id, NULL) : NULL;
    char hex[65], rec[65], path[1000];
    snprintf(path, sizeof path, "%s/x.npy", dir);
    sha256_of(path, hex);
    provenance_sha(e, path, rec);
    double acc = num_at(cJSON_GetArrayItem(cJSON_GetObjectItem(res, "points"), 1), "test_accuracy");
    check(strcmp(f, "succeeded") == 0 && hex[0] && strcmp(hex, rec) == 0 && acc > 0.5,
          "npy experiment: %s, provenance has the SHA-256 of x.npy (%s, recorded %s), accuracy %g", f, hex, rec, acc);
    cJSON_Delete(e);
    cJSON_Delete(res);
    free(f);
    free(id);
    const char *syn = "{\"data\": {\"source\": \"sphere\", \"shape\": [6, 2], \"target\": {\"kind\": \"local-polynomial\", "
                      "\"shared\": true}, \"n_train\": [10, 20], \"n_test\": 10, \"subset\": \"head\"},"
                      " \"models\": {\"arch\": \"fcn\", \"depth\": 1}, \"inference\": {\"method\": \"ntk\", \"ridge\": [1e-6, 0.1]},"
                      " \"repeats\": 3}";
    id = post_spec(syn, &st);
    f = id ? wait_end(id, 60) : strdup("?");
    res = id ? get_json("/api/v1/experiments/%s/results", id, NULL) : NULL;
    char *t = res ? cJSON_PrintUnformatted(res) : NULL;
    check(strcmp(f, "succeeded") == 0 && t && strstr(t, "\"sphere/fcn/ntk.ridge=1e-06\"") &&
              strstr(t, "\"sphere/fcn/ntk.ridge=0.1\"") && strstr(t, "\"repeats\":[1,1]") &&
              cJSON_GetArraySize(cJSON_GetObjectItem(res, "points")) == 4,
          "synthetic ridge sweep: arms named by their values, head repeats computed once (%s): %.300s", f, t ? t : "");
    free(t);
    cJSON_Delete(res);
    free(f);
    free(id);
}

/* A run resumed after a restart computes on the bytes its stored points came from, or fails saying why. */
static void test_resume_changed(void)
{
    char d[600], body[1400];
    snprintf(d, sizeof d, "%s/r", root);
    fx_write_dir(d, 200, 50, 16, 16, 1, -1);
    snprintf(body, sizeof body, "{\"name\": \"resumed\", \"data\": {\"source\": \"mnist\", \"path\": \"%s\", \"subset\": \"head\","
             " \"n_train\": [50, 200], \"n_test\": 50}, \"models\": {\"arch\": \"fcn\", \"width\": 256},"
             " \"inference\": {\"method\": \"sgd\", \"epochs\": 400}}", d);
    long st;
    char *id = post_spec(body, &st);
    if (!check(st == 201 && id, "a two-point training experiment: 201")) return;
    /* stop the server once the first point is stored (the second trains for seconds) */
    int stored = 0;
    for (double t0 = now_s(); now_s() - t0 < 60 && !stored;) {
        cJSON *res = get_json("/api/v1/experiments/%s/results", id, NULL);
        stored = cJSON_GetArraySize(cJSON_GetObjectItem(res, "points"));
        cJSON_Delete(res);
        if (!stored) usleep(20000);
    }
    cJSON *e = get_json("/api/v1/experiments/%s", id, NULL);
    char img[700], then[65], now[65];
    snprintf(img, sizeof img, "%s/%s", d, files[0]);
    provenance_sha(e, img, then);
    cJSON_Delete(e);
    int s = stop_server(SIGTERM);
    check(stored == 1 && s >= 0 && WIFEXITED(s), "stopped after the first point (%d stored)", stored);
    fx_write_dir(d, 200, 50, 16, 16, 2, -1);   /* other images under the same names */
    const char *flags[] = {"--data-root", root, NULL};
    if (!check(start_server(flags) == 0, "restart")) {
        free(id);
        return;
    }
    char *f = wait_end(id, 120);
    e = get_json("/api/v1/experiments/%s", id, NULL);
    const char *err = str_at(e, "error");
    provenance_sha(e, img, now);
    check(strcmp(f, "failed") == 0 && err && strstr(err, "changed since") && strstr(err, files[0]),
          "resumed on replaced files: failed, naming the file (%s: %s)", f, err ? err : "");
    check(then[0] && strcmp(then, now) == 0, "the provenance still describes the stored point (%.12s, %.12s)", then, now);
    cJSON_Delete(e);
    free(f);
    free(id);
}

/* A stored spec runs as it was admitted, without the limits of the next start; data missing at run time fails
 * the experiment with a clear message. */
static void test_restart(void)
{
    char slow[1400], q1[1400], q2[1400], p[1000];
    snprintf(slow, sizeof slow, "{\"name\": \"slow\", \"data\": {\"source\": \"fashion-mnist\", \"path\": \"%s/fmnist\", \"resize\": 2,"
             " \"n_train\": [1000], \"n_test\": 100}, \"models\": {\"arch\": \"fcn\", \"width\": 256}, \"inference\":"
             " {\"method\": \"sgd\", \"epochs\": 400}}", root);
    snprintf(q1, sizeof q1, SMALL("a", ", \"checks\": [{\"arm\": \"d/m/ntk\", \"metric\": \"test_mse\", \"op\": \"<\", \"value\": 100}]"),
             root);
    snprintf(q2, sizeof q2, SMALL("c", ""), root);
    long s0, s1, s2;
    char *id0 = post_spec(slow, &s0), *id1 = post_spec(q1, &s1), *id2 = post_spec(q2, &s2);
    check(s0 == 201 && s1 == 201 && s2 == 201, "three experiments queued (%ld %ld %ld)", s0, s1, s2);
    snprintf(p, sizeof p, "%s/c/%s", root, files[0]);
    check(unlink(p) == 0, "c/ loses its training images after submission");
    int st = stop_server(SIGTERM);
    check(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "SIGTERM: exit 0");
    /* lower limits: n_train 150 is now above --max-n-train, the cached data above --max-memory */
    char dr[500];
    snprintf(dr, sizeof dr, "%s", root);
    const char *flags[] = {"--data-root", dr, "--max-n-train", "100", "--max-memory", "10000000", "--max-experiment-seconds",
                           "100", NULL};
    if (!check(start_server(flags) == 0, "restart with --max-n-train 100 --max-memory 10000000 --max-experiment-seconds 100"))
        return;
    resp r;
    if (id0) {
        snprintf(p, sizeof p, "/api/v1/experiments/%s/cancel", id0);
        http_full("POST", p, NULL, NULL, 0, NULL, &r);
        resp_free(&r);
    }
    char *f1 = id1 ? wait_end(id1, 120) : strdup("?");
    cJSON *e1 = id1 ? get_json("/api/v1/experiments/%s", id1, NULL) : NULL;
    check(strcmp(f1, "succeeded") == 0, "the queued spec admitted before runs (%s: %s)", f1,
          str_at(e1, "error") ? str_at(e1, "error") : "");
    long cs = 0;
    cJSON *c = id1 ? get_json("/api/v1/experiments/%s/checks", id1, &cs) : NULL;
    check(cs == 200 && cJSON_IsTrue(cJSON_GetObjectItem(c, "passed")), "its checks are read from the stored spec (%ld)", cs);
    char *f2 = id2 ? wait_end(id2, 120) : strdup("?");
    cJSON *e2 = id2 ? get_json("/api/v1/experiments/%s", id2, NULL) : NULL;
    const char *err2 = str_at(e2, "error");
    check(strcmp(f2, "failed") == 0 && err2 && strstr(err2, files[0]) && (strstr(err2, "has no file") || strstr(err2, "does not exist")),
          "data gone by run time: failed with a clear message (%s: %s)", f2, err2 ? err2 : "");
    /* new submissions meet the new limits */
    post_json("/api/v1/experiments", q1, &r);
    check(r.status == 400 && is_error(&r, "limit_exceeded", "data.n_train[1]") && strstr(r.body, "--max-n-train=100"),
          "a new submission above the new --max-n-train: 400 (%ld)", r.status);
    resp_free(&r);
    snprintf(p, sizeof p, "{\"data\": {\"source\": \"fashion-mnist\", \"path\": \"%s/fmnist\", \"n_train\": [100], \"n_test\": 100},"
             " \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}", root);
    post_json("/api/v1/experiments", p, &r);
    check(r.status == 400 && is_error(&r, "limit_exceeded", "data.n_train") && strstr(r.body, "--max-memory=10000000"),
          "100 x 100 kernels of Fashion-MNIST: the 55 MB of cached data count against --max-memory (%ld %.300s)", r.status,
          r.body ? r.body : "");
    resp_free(&r);
    snprintf(p, sizeof p, "{\"data\": {\"source\": \"mnist\", \"path\": \"%s/a\", \"n_train\": [100], \"n_test\": 50},"
             " \"models\": {\"arch\": \"cnn-gap\", \"depth\": 10}, \"inference\": {\"method\": \"ntk\"}, \"repeats\": 20}", root);
    post_json("/api/v1/experiments?dry_run=true", p, &r);
    check(r.status == 400 && is_error(&r, "limit_exceeded", NULL) && strstr(r.body, "--max-experiment-seconds=100"),
          "a dry run estimated above --max-experiment-seconds 100: 400 (%ld %.300s)", r.status, r.body ? r.body : "");
    resp_free(&r);
    cJSON_Delete(c);
    cJSON_Delete(e1);
    cJSON_Delete(e2);
    free(f1);
    free(f2);
    free(id0);
    free(id1);
    free(id2);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_api_spec PATH/TO/dmilab\n");
        return 2;
    }
    t_init(argv[1], "api-spec");
    make_root();
    const char *flags[] = {"--data-root", root, NULL};
    if (!check(start_server(flags) == 0, "server starts with the data root %s", root)) return t_finish();
    test_as_submitted();
    test_fields();
    test_images();
    test_root_boundary();
    test_provenance();
    test_lab();
    test_resume_changed();
    test_restart();
    return t_finish();
}
