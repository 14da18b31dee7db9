/* The experiment runner on real Fashion-MNIST (no server): the walking-skeleton reference accuracy,
 * learning-curve behaviour, exact permutation invariance of fcn kernels, resume and cancel. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "dmilab/experiment.h"
#include "dmilab/checks.h"
#include "dmilab/cost.h"
#include "dmilab/results.h"
#include "check.h"
#include "idx_fixture.h"
#include "sha256_file.h"

#define ROOT "/usr/share/datasets"

typedef struct {
    dml_point pts[256];
    int n;
    int skip_first;      /* report the first k points of the grid as already stored */
    int cancel_after;    /* cancel once this many points were stored (0: never) */
    double last_progress;
    int curve_len[256];
    double first_loss[256], last_loss[256];
} store;

static int have(void *ctx, const char *arm, size_t n_train, int repeat)
{
    store *s = ctx;
    (void)arm;
    (void)repeat;
    return s->skip_first && n_train <= 200 && strstr(arm, "/ntk");
}

static int on_point(void *ctx, const dml_point *p)
{
    store *s = ctx;
    if (s->n < 256) {
        s->pts[s->n] = *p;
        s->curve_len[s->n] = p->n_curve;
        s->last_loss[s->n] = p->n_curve ? p->curve[p->n_curve - 1].train_loss : NAN;
        s->first_loss[s->n] = p->n_curve ? p->curve[0].train_loss : NAN;
        s->pts[s->n].curve = NULL;   /* only valid during the call */
        s->n++;
    }
    return 0;
}

static int cancelled(void *ctx)
{
    store *s = ctx;
    return s->cancel_after && s->n >= s->cancel_after;
}

static void on_progress(void *ctx, double f) { ((store *)ctx)->last_progress = f; }

static int run(const char *json, store *st, dml_error *err)
{
    dml_spec s;
    if (dml_spec_parse(json, strlen(json), ROOT, &s, err)) return -1;
    dml_run_hooks h = {.ctx = st, .have_point = have, .on_point = on_point, .cancelled = cancelled,
                       .on_progress = on_progress, .threads = 2};
    int rc = dml_experiment_run(&s, &h, err);
    dml_spec_free(&s);
    return rc;
}

static const dml_point *find(const store *s, const char *arm, size_t n, int rep)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->pts[i].arm, arm) == 0 && s->pts[i].n_train == n && s->pts[i].repeat == rep) return &s->pts[i];
    return NULL;
}


/* The data files a run reports (on_data): what the provenance records. */
typedef struct {
    store st;
    char path[8][1024], sha[8][DML_SHA256_HEX];
    int nfiles, calls;
} data_store;

static int on_data(void *ctx, const dml_data_file *f, int n, dml_error *err)
{
    (void)err;
    data_store *d = ctx;
    d->calls++;
    d->nfiles = n < 8 ? n : 8;
    for (int i = 0; i < d->nfiles; i++) {
        snprintf(d->path[i], sizeof d->path[i], "%s", f[i].path);
        snprintf(d->sha[i], sizeof d->sha[i], "%s", f[i].sha256);
    }
    return 0;
}

static int data_on_point(void *ctx, const dml_point *p) { return on_point(&((data_store *)ctx)->st, p); }

/* Run a spec parsed with data root `root`, reporting its data files. */
static int run_root(const char *json, const char *root, data_store *d, dml_error *err)
{
    dml_spec s;
    if (dml_spec_parse(json, strlen(json), root, &s, err)) return -1;
    dml_run_hooks h = {.ctx = d, .on_point = data_on_point, .on_data = on_data, .threads = 2};
    int rc = dml_experiment_run(&s, &h, err);
    dml_spec_free(&s);
    return rc;
}

/* Data of the user's own (16x16 IDX files, constant images, files replaced or removed between runs). */
static void test_own_data(const char *tmp)
{
    char dir[512], json[1400], p[700], hex[DML_SHA256_HEX];
    dml_error err = {0};
    snprintf(dir, sizeof dir, "%s/flat", tmp);
    /* images that standardise to all zeros: the NNGP and NTK are 0 (b_std 0), and the zero predictor answers:
     * test MSE = 0.9^2 + 9 * 0.1^2 = 0.9 per point, accuracy = the share of label 0 (the argmax of zeros) */
    CHECK(fx_write_dir(dir, 40, 20, 16, 16, 1, 77) == 0, "write %s", dir);
    const char *fmt = "{\"data\": {\"name\": \"d\", \"source\": \"mnist\", \"path\": \"%s\", \"resize\": %d, \"subset\": \"head\","
                      " \"n_train\": [20, 40], \"n_test\": 20}, \"models\": {\"name\": \"m\", \"arch\": \"%s\"},"
                      " \"inference\": [{\"name\": \"ntk\", \"method\": \"ntk\"}, {\"name\": \"nngp\", \"method\": \"nngp\"}]}";
    snprintf(json, sizeof json, fmt, dir, 8, "cnn-gap");
    data_store *d = calloc(1, sizeof *d);
    int rc = run_root(json, tmp, d, &err);
    CHECK(rc == 0 && d->st.n == 4, "constant images run: %s (%d points)", err.message, d->st.n);
    for (int i = 0; i < d->st.n; i++)
        CHECK(close_rel(d->st.pts[i].test_mse, 0.9, 1e-12) && close_rel(d->st.pts[i].train_mse, 0.9, 1e-12) &&
                  d->st.pts[i].test_accuracy == 0.1,
              "%s n %zu: the zero predictor (test MSE %g, accuracy %g)", d->st.pts[i].arm, d->st.pts[i].n_train,
              d->st.pts[i].test_mse, d->st.pts[i].test_accuracy);
    /* the four files, hashed as read */
    static const char *const names[4] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
    int ok = d->calls == 1 && d->nfiles == 4;
    for (int k = 0; ok && k < 4; k++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[k]);
        sha256_file(p, hex);
        ok &= strstr(d->path[k], names[k]) != NULL && strcmp(d->sha[k], hex) == 0;
    }
    CHECK(ok, "on_data reports the four files with the SHA-256 of their bytes (%d calls, %d files)", d->calls, d->nfiles);
    char old[DML_SHA256_HEX];
    memcpy(old, d->sha[0], sizeof old);
    /* the files replaced (real patterns now): the next run computes on the new images and says so */
    CHECK(fx_write_dir(dir, 40, 20, 16, 16, 5, -1) == 0, "rewrite %s", dir);
    memset(d, 0, sizeof *d);
    rc = run_root(json, tmp, d, &err);
    snprintf(p, sizeof p, "%s/%s", dir, names[0]);
    sha256_file(p, hex);
    CHECK(rc == 0 && d->st.n == 4 && fabs(d->st.pts[0].test_mse - 0.9) > 1e-6 && strcmp(d->sha[0], hex) == 0 && strcmp(d->sha[0], old),
          "replaced files: new results (test MSE %g) and the new hash: %s", d->st.n ? d->st.pts[0].test_mse : -1,
          err.message);
    /* a moved-away file: the run fails with a clear message */
    snprintf(p, sizeof p, "%s/%s", dir, names[3]);
    char moved[800];
    snprintf(moved, sizeof moved, "%s.moved", p);
    dml_spec sp;
    CHECK(dml_spec_parse(json, strlen(json), tmp, &sp, &err) == 0, "parse before the file goes: %s", err.message);
    CHECK(rename(p, moved) == 0, "move %s", p);
    memset(d, 0, sizeof *d);
    dml_run_hooks h = {.ctx = d, .on_point = data_on_point, .threads = 2};
    CHECK(dml_experiment_run(&sp, &h, &err) == -1 && err.code == DML_ERR_IO && strstr(err.message, "does not exist") &&
              d->st.n == 0,
          "a missing data file fails the run: %s", err.message);
    dml_spec_free(&sp);
    CHECK(rename(moved, p) == 0, "move back");
    free(d);
}

/* err may be NULL: a failing run (a kernel of a 'standard' model, which parsing would refuse) returns -1. */
static void test_null_err(void)
{
    const char *j = "{\"data\": {\"source\": \"fashion-mnist\", \"resize\": 7, \"n_train\": 5, \"n_test\": 5},"
                    " \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}";
    dml_spec s;
    dml_error err = {0};
    CHECK(dml_spec_parse(j, strlen(j), ROOT, &s, &err) == 0, "parse: %s", err.message);
    s.models[0].parameterization = DML_PARAM_STANDARD;
    pid_t pid = fork();
    if (pid == 0) _exit(dml_experiment_run(&s, NULL, NULL) == -1 ? 0 : 1);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a failing run with err NULL returns -1 (status %d%s)",
          status, WIFSIGNALED(status) ? ", killed by a signal" : "");
    dml_spec_free(&s);
}

int main(int argc, char **argv)
{
    const char *example = argc > 1 ? argv[1] : "examples/fmnist-fcn-kernels.json";
    char *json = slurp(example);
    CHECK(json != NULL, "read %s", example);
    if (!json) return check_summary("experiment");
    store *st = calloc(1, sizeof *st);
    dml_error err = {0};
    CHECK(run(json, st, &err) == 0, "example runs: %s", err.message);
    CHECK(st->n == 8, "8 points, got %d", st->n);
    CHECK(st->last_progress == 1.0, "progress ends at 1");
    const dml_point *p = find(st, "fmnist14/fcn/ntk", 1000, 0);
    /* reference value from an independent implementation of the same pipeline (issue 2) */
    CHECK(p && fabs(p->test_accuracy - 0.818) < 1e-12, "NTK at n_train 1000: accuracy %.4f, want 0.818",
          p ? p->test_accuracy : -1);
    int falling = 1;
    for (int i = 1; i < st->n; i++)
        if (strcmp(st->pts[i].arm, st->pts[i - 1].arm) == 0) falling &= st->pts[i].test_mse < st->pts[i - 1].test_mse;
    CHECK(falling, "test MSE falls with n_train on every arm");
    for (int i = 0; i < st->n; i++)
        CHECK(st->pts[i].train_mse < 1e-3 && st->pts[i].train_mse < st->pts[i].test_mse && st->pts[i].seconds > 0,
              "train MSE %g small with ridge 1e-4, seconds %g", st->pts[i].train_mse, st->pts[i].seconds);
    cJSON *curves = dml_curves_json(st->pts, (size_t)st->n);
    CHECK(cJSON_GetArraySize(curves) == 2, "two curves");
    cJSON *le = cJSON_GetObjectItem(cJSON_GetArrayItem(curves, 1), "local_exponent");
    CHECK(cJSON_GetArraySize(le) == 3 && cJSON_GetArrayItem(le, 0)->valuedouble < 0, "local exponents negative");
    cJSON_Delete(curves);

    /* checks evaluated on these points: mean over repeats, value or another arm, JUnit */
    {
        const char *cj =
            "{\"data\": {\"name\": \"fmnist14\", \"source\": \"fashion-mnist\", \"resize\": 2, \"subset\": \"head\","
            " \"n_train\": [100, 200, 500, 1000], \"n_test\": 1000}, \"models\": {\"name\": \"fcn\", \"arch\": \"fcn\"},"
            " \"inference\": [{\"name\": \"nngp\", \"method\": \"nngp\"}, {\"name\": \"ntk\", \"method\": \"ntk\"}],"
            " \"checks\": [{\"arm\": \"fmnist14/fcn/ntk\", \"metric\": \"test_accuracy\", \"n_train\": 1000, \"op\": \">=\", \"value\": 0.8},"
            " {\"arm\": \"fmnist14/fcn/ntk\", \"metric\": \"test_mse\", \"op\": \"<\", \"than_arm\": \"fmnist14/fcn/nngp\"},"
            " {\"arm\": \"fmnist14/fcn/nngp\", \"metric\": \"test_accuracy\", \"n_train\": 100, \"op\": \">\", \"value\": 0.9},"
            " {\"arm\": \"fmnist14/fcn/ntk\", \"metric\": \"test_accuracy\", \"op\": \"==\", \"value\": 0.82, \"tolerance\": 0.005}]}";
        dml_spec cs;
        CHECK(dml_spec_parse(cj, strlen(cj), ROOT, &cs, &err) == 0, "checks spec: %s (%s)", err.message, err.field);
        int all = -1;
        cJSON *res = dml_checks_json("x", &cs, st->pts, (size_t)st->n, NULL, 0, DML_CHECKS_FINAL, &all);
        cJSON *arr = cJSON_GetObjectItem(res, "checks");
        CHECK(all == 0 && cJSON_IsFalse(cJSON_GetObjectItem(res, "passed")), "one check fails, so the experiment fails");
        int want[4] = {1, 1, 0, 1};
        for (int i = 0; i < 4; i++)
            CHECK(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, i), "passed")) == want[i], "check %d verdict", i);
        CHECK(fabs(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "actual")->valuedouble - 0.818) < 1e-12, "actual 0.818");
        char *xml = dml_checks_junit("x", &cs, st->pts, (size_t)st->n, NULL, 0, DML_CHECKS_FINAL, NULL);
        CHECK(xml && strstr(xml, "tests=\"4\" failures=\"1\"") && strstr(xml, "<failure"), "JUnit: %s", xml);
        free(xml);
        cJSON_Delete(res);
        cJSON *cost = dml_spec_cost_json(&cs, 2);
        CHECK(cJSON_GetObjectItem(cost, "points")->valuedouble == 8 &&
                  cJSON_GetObjectItem(cost, "training_steps")->valuedouble == 0 &&
                  cJSON_GetObjectItem(cost, "estimated_seconds")->valuedouble > 0 &&
                  cJSON_GetObjectItem(cost, "memory_bytes")->valuedouble > 8.0 * 3 * 1000 * 1000,
              "cost estimate");
        cJSON_Delete(cost);
        dml_spec_free(&cs);
    }
    {
        /* the cost of training arms: one unit per point, no kernel pairs, seconds growing with the epochs */
        double sec[2] = {0, 0};
        for (int k = 0; k < 2; k++) {
            char tj[600];
            snprintf(tj, sizeof tj,
                     "{\"data\": {\"source\": \"fashion-mnist\", \"resize\": 2, \"n_train\": [500, 1000], \"n_test\": 1000},"
                     " \"models\": {\"arch\": \"cnn-gap\", \"width\": 64}, \"inference\": [{\"method\": \"sgd\", "
                     "\"epochs\": %d}, {\"method\": \"adam\", \"epochs\": %d}], \"repeats\": 2}", 20 * (k + 1), 20 * (k + 1));
            dml_spec ts;
            CHECK(dml_spec_parse(tj, strlen(tj), ROOT, &ts, &err) == 0, "training spec: %s", err.message);
            cJSON *c = dml_spec_cost_json(&ts, 2);
            CHECK(cJSON_GetObjectItem(c, "points")->valuedouble == 8 && cJSON_GetObjectItem(c, "units")->valuedouble == 8 &&
                      cJSON_GetObjectItem(c, "kernel_pairs")->valuedouble == 0 &&
                      /* sgd and adam, batch 64 (default), n 500 and 1000, 2 repeats: (8 + 16) steps per epoch */
                      cJSON_GetObjectItem(c, "training_steps")->valuedouble == 2.0 * 2 * 24 * 20 * (k + 1) &&
                      cJSON_GetObjectItem(c, "memory_bytes")->valuedouble > 1000.0 * 196 * 8,
                  "training cost: 8 points, 8 units, no kernel pairs, memory of the network and data");
            sec[k] = cJSON_GetObjectItem(c, "estimated_seconds")->valuedouble;
            cJSON_Delete(c);
            dml_spec_free(&ts);
        }
        CHECK(sec[0] > 0 && sec[1] / sec[0] > 1.6 && sec[1] / sec[0] < 2.0,
              "twice the epochs, 1.6-2x the estimated seconds (evaluations stay about 10): %g -> %g", sec[0], sec[1]);
    }
    free(json);

    /* resume: stored points are not recomputed; cancel: stops between units of work */
    memset(st, 0, sizeof *st);
    st->skip_first = 1;
    json = slurp(example);
    CHECK(run(json, st, &err) == 0 && st->n == 6, "resume computes only the 6 missing points, got %d", st->n);
    memset(st, 0, sizeof *st);
    st->cancel_after = 1;
    CHECK(run(json, st, &err) == -1 && err.code == DML_ERR_CANCELLED && st->n == 1, "cancel after one point: %d", st->n);
    free(json);

    /* random nested subsets, two repeats, and a fixed pixel permutation: exact for fcn kernels (DESIGN 2.2),
     * while the cnn-vec kernel sees the change */
    const char *perm =
        "{\"seed\": 3, \"repeats\": 2, \"data\": [{\"name\": \"natural\", \"source\": \"fashion-mnist\", \"resize\": 4,"
        " \"n_train\": [100, 300], \"n_test\": 300}, {\"name\": \"shuffled\", \"source\": \"fashion-mnist\", \"resize\": 4,"
        " \"n_train\": [100, 300], \"n_test\": 300, \"transform\": [{\"kind\": \"permutation\", \"seed\": 7}]}],"
        " \"models\": [{\"arch\": \"fcn\"}, {\"arch\": \"cnn-vec\", \"padding\": \"circular\"}],"
        " \"inference\": {\"method\": \"ntk\"}}";
    memset(st, 0, sizeof *st);
    CHECK(run(perm, st, &err) == 0 && st->n == 16, "permutation experiment: %s (%d points)", err.message, st->n);
    for (int r = 0; r < 2; r++)
        for (size_t n = 100; n <= 300; n += 200) {
            const dml_point *a = find(st, "natural/fcn/ntk", n, r), *b = find(st, "shuffled/fcn/ntk", n, r);
            const dml_point *c = find(st, "natural/cnn-vec/ntk", n, r), *d = find(st, "shuffled/cnn-vec/ntk", n, r);
            CHECK(a && b && close_rel(a->test_mse, b->test_mse, 1e-9) && a->test_accuracy == b->test_accuracy,
                  "fcn unchanged by a pixel permutation (n %zu, repeat %d): %.12g vs %.12g", n, r, a ? a->test_mse : 0,
                  b ? b->test_mse : 0);
            CHECK(c && d && !close_rel(c->test_mse, d->test_mse, 1e-6), "cnn-vec changed by a pixel permutation");
        }
    const dml_point *r0 = find(st, "natural/fcn/ntk", 100, 0), *r1 = find(st, "natural/fcn/ntk", 100, 1);
    CHECK(r0 && r1 && r0->test_mse != r1->test_mse, "repeats draw different random subsets");
    /* trained arms: a training curve per point, the loss falls, same seed and threads give the same numbers */
    const char *tr =
        "{\"seed\": 5, \"data\": {\"source\": \"fashion-mnist\", \"resize\": 4, \"n_train\": [64, 128], \"n_test\": 100},"
        " \"models\": [{\"arch\": \"fcn\", \"width\": 64}, {\"arch\": \"cnn-vec\", \"width\": 8}],"
        " \"inference\": [{\"method\": \"gd\", \"lr\": 0.5, \"epochs\": 6, \"precision\": \"float64\"},"
        " {\"method\": \"adam\", \"lr\": 0.01, \"epochs\": 3, \"batch\": 16}]}";
    memset(st, 0, sizeof *st);
    struct timespec w0, w1;
    clock_gettime(CLOCK_MONOTONIC, &w0);
    CHECK(run(tr, st, &err) == 0 && st->n == 8, "training experiment: %s (%d points)", err.message, st->n);
    clock_gettime(CLOCK_MONOTONIC, &w1);
    {
        /* points run one after another: their wall times add up to at most the whole run's */
        double wall = (double)(w1.tv_sec - w0.tv_sec) + 1e-9 * (double)(w1.tv_nsec - w0.tv_nsec), sum = 0;
        for (int i = 0; i < st->n; i++) sum += st->pts[i].seconds;
        CHECK(sum <= wall * 1.001 + 1e-3, "the points' seconds add up to %.3f s, more than the run's %.3f s", sum, wall);
    }
    for (int i = 0; i < st->n; i++) {
        int want = strstr(st->pts[i].arm, "/gd") ? 6 : 3;
        CHECK(st->curve_len[i] == want, "%s: %d epochs in the curve, want %d", st->pts[i].arm, st->curve_len[i], want);
        CHECK(isfinite(st->pts[i].test_mse) && st->pts[i].test_accuracy >= 0 && st->pts[i].test_accuracy <= 1,
              "%s: finite metrics", st->pts[i].arm);
        CHECK(st->last_loss[i] < st->first_loss[i], "%s n %zu: loss falls (%g -> %g)", st->pts[i].arm,
              st->pts[i].n_train, st->first_loss[i], st->last_loss[i]);
    }
    store *st2 = calloc(1, sizeof *st2);
    CHECK(run(tr, st2, &err) == 0 && st2->n == 8, "training experiment again");
    int same = 1;
    for (int i = 0; i < 8; i++) same &= st->pts[i].test_mse == st2->pts[i].test_mse && st->last_loss[i] == st2->last_loss[i];
    CHECK(same, "same seed and threads: identical training results");
    free(st2);
    free(st);
    test_null_err();
    char tmp[64];
    CHECK(check_tmpdir("experiment", tmp, sizeof tmp) != NULL, "mkdtemp");
    test_own_data(tmp);
    CHECK(check_rmdir(tmp) == 0, "cleanup");
    return check_summary("experiment");
}
