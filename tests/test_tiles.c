/* dmilab tests: kernel tiles (issue 15): tiled kernels against untiled ones, resumption after a kill -9 between
 * tiles (each tile computed once), cancel during a long kernel, and the kernel cache (hits, one miss per
 * dependency, eviction under its budget). */
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "dmilab/experiment.h"
#include "dmilab/kernel.h"
#include "dmilab/model_json.h"
#include "dmilab/tile_cache.h"
#include "dmilab/tiles.h"
#include "idx_fixture.h"

#define ROOT "/usr/share/datasets"

static int tile_files;   /* count_tile_files's count */

static double mono(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int parse_model(const char *json, dml_model *m)
{
    cJSON *o = cJSON_Parse(json);
    dml_error err = {0};
    int rc = o ? dml_model_parse(o, "model", m, &err) : -1;
    cJSON_Delete(o);
    return rc;
}

/* Tiled against untiled: every tile of a Gram (rows [r0, r1), columns [0, r1)) and of a cross kernel. exact: bit
 * for bit expected; else relative 1e-15 of the row's diagonal scale (summation order of SYRK against GEMM). */
static void tiled_vs_untiled(const char *model_json, const dml_shape *sh, int exact)
{
    dml_model m;
    CHECK(parse_model(model_json, &m) == 0, "model %s", model_json);
    size_t N = 13, M = 7, D = dml_shape_numel(sh);
    double *x = malloc(sizeof(double) * N * D), *xt = malloc(sizeof(double) * M * D);
    uint64_t r = 88172645463325252ull;
    for (size_t i = 0; i < N * D; i++) x[i] = (double)((r = r * 6364136223846793005ull + 1442695040888963407ull) >> 11) / 9007199254740992.0 - 0.5;
    for (size_t i = 0; i < M * D; i++) xt[i] = (double)((r = r * 6364136223846793005ull + 1442695040888963407ull) >> 11) / 9007199254740992.0 - 0.5;
    double *K = malloc(sizeof(double) * N * N), *T = malloc(sizeof(double) * N * N);
    double *Kc = malloc(sizeof(double) * M * N), *Tc = malloc(sizeof(double) * M * N);
    dml_error err = {0};
    CHECK(dml_kernel(&m, sh, x, N, NULL, N, K, T, 2, &err) == 0 && dml_kernel(&m, sh, xt, M, x, N, Kc, Tc, 2, &err) == 0,
          "untiled kernels: %s", err.message);
    dml_tiling tg;
    dml_tiling_init(&tg, N, M, 4);   /* 4 rows: uneven last tiles */
    double *tk = malloc(sizeof(double) * 4 * N), *tt = malloc(sizeof(double) * 4 * N);
    double worst = 0;
    int bits = 1;
    for (size_t i = 0; i < tg.ngram + tg.ncross; i++) {
        dml_tile t;
        dml_tiling_tile(&tg, i, &t);
        CHECK(dml_tile_compute(&m, sh, x, xt, &t, tk, tt, 2, &err) == 0, "tile %zu: %s", i, err.message);
        const double *RK = t.kind == DML_TILE_GRAM ? K : Kc, *RT = t.kind == DML_TILE_GRAM ? T : Tc;
        for (size_t a = t.r0; a < t.r1; a++)
            for (size_t b = 0; b < t.ncols; b++) {
                double u[2] = {tk[(a - t.r0) * t.ncols + b], tt[(a - t.r0) * t.ncols + b]};
                double v[2] = {RK[a * N + b], RT[a * N + b]};
                for (int q = 0; q < 2; q++) {
                    if (memcmp(&u[q], &v[q], sizeof(double))) bits = 0;
                    double scale = fabs(t.kind == DML_TILE_GRAM ? (q ? T : K)[a * N + a] : v[q]) + fabs(v[q]);
                    double e = fabs(u[q] - v[q]) / (scale > 0 ? scale : 1);
                    if (e > worst) worst = e;
                }
            }
    }
    if (exact)
        CHECK(bits, "%s: tiles equal the untiled kernels bit for bit (worst relative difference %.3g)", model_json, worst);
    else
        CHECK(worst <= 1e-15, "%s: tiles within 1e-15 of the untiled kernels (worst %.3g, bit for bit: %d)", model_json,
              worst, bits);
    free(x), free(xt), free(K), free(T), free(Kc), free(Tc), free(tk), free(tt);
}

/* ---- running experiments with tile hooks ---- */

typedef struct {
    int n;
    dml_point pts[64];
    size_t computed, found;
    int kill_after;                  /* raise SIGKILL after this many computed tiles (0: never) */
    char cache[16];
    double first_eta, last_eta;      /* the ETA after the first tile computed, and after the last tile */
    volatile int cancel;
    double cancel_at;                /* when cancel was set */
    const char *engine;
} run_state;

static int on_point(void *ctx, const dml_point *p)
{
    run_state *s = ctx;
    if (s->n < 64) s->pts[s->n++] = *p;
    return 0;
}

static void on_tile(void *ctx, const dml_tile *t, int computed, double eta)
{
    (void)t, (void)eta;
    run_state *s = ctx;
    if (computed && s->computed == 0) s->first_eta = eta;
    s->last_eta = eta;
    if (computed) s->computed++;
    else s->found++;
    if (s->kill_after && (int)s->computed == s->kill_after) raise(SIGKILL);   /* after the tile's file is written */
}

static void on_kernel(void *ctx, const dml_kernel_info *k)
{
    snprintf(((run_state *)ctx)->cache, sizeof ((run_state *)ctx)->cache, "%s", k->cache);
}

static int is_cancelled(void *ctx) { return ((run_state *)ctx)->cancel; }

static int run(const char *json, const char *root, const char *tiles, double cache_bytes, size_t rows, run_state *st,
               dml_error *err)
{
    dml_spec s;
    if (dml_spec_parse(json, strlen(json), root, &s, err)) return -1;
    dml_run_hooks h = {.ctx = st, .on_point = on_point, .on_tile = on_tile, .on_kernel = on_kernel,
                       .cancelled = is_cancelled, .threads = 2, .tile_dir = tiles, .cache_bytes = cache_bytes,
                       .tile_rows = rows, .engine = st->engine};
    int rc = dml_experiment_run(&s, &h, err);
    dml_spec_free(&s);
    return rc;
}

static int same_points(const run_state *a, const run_state *b)
{
    if (a->n != b->n || a->n == 0) return 0;
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->pts[i].arm, b->pts[i].arm) || a->pts[i].n_train != b->pts[i].n_train ||
            memcmp(&a->pts[i].test_mse, &b->pts[i].test_mse, sizeof(double)) ||
            memcmp(&a->pts[i].train_mse, &b->pts[i].train_mse, sizeof(double)) ||
            memcmp(&a->pts[i].test_accuracy, &b->pts[i].test_accuracy, sizeof(double)))
            return 0;
    return 1;
}

static const char *RESUME_SPEC =
    "{\"data\": {\"source\": \"fashion-mnist\", \"resize\": 4, \"n_train\": [20, 40], \"n_test\": 20},"
    " \"models\": {\"arch\": \"cnn-vec\"}, \"inference\": [{\"method\": \"ntk\"}, {\"method\": \"nngp\"}]}";

/* A child runs the experiment and kills itself with SIGKILL right after its third computed tile is on disk; the
 * resumed run computes only the tiles that were not stored, and its results equal an uninterrupted run's. */
static void test_kill_resume(const char *tmp)
{
    char tiles[600], fresh[600];
    snprintf(tiles, sizeof tiles, "%s/resume", tmp);
    snprintf(fresh, sizeof fresh, "%s/fresh", tmp);
    dml_error err = {0};
    run_state *whole = calloc(1, sizeof *whole), *again = calloc(1, sizeof *again);
    CHECK(run(RESUME_SPEC, ROOT, fresh, 0, 8, whole, &err) == 0, "uninterrupted run: %s", err.message);
    size_t total = whole->computed;   /* 5 Gram tiles and 3 cross tiles of 8 rows */
    CHECK(total == 8 && whole->found == 0, "the uninterrupted run computes its 8 tiles once (%zu, %zu found)", total,
          whole->found);
    CHECK(whole->first_eta > 0 && whole->last_eta == 0, "the ETA is measured from the first tile on and ends at 0 "
          "(%g after the first, %g after the last)", whole->first_eta, whole->last_eta);
    pid_t pid = fork();
    if (pid == 0) {
        run_state *c = calloc(1, sizeof *c);
        c->kill_after = 3;
        run(RESUME_SPEC, ROOT, tiles, 0, 8, c, &err);
        _exit(0);   /* not reached: the child kills itself */
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the child died of SIGKILL (status %d)", status);
    CHECK(run(RESUME_SPEC, ROOT, tiles, 0, 8, again, &err) == 0, "resumed run: %s", err.message);
    CHECK(again->found == 3 && again->computed == total - 3 && strcmp(again->cache, "partial") == 0,
          "the resumed run finds the 3 tiles of the killed one and computes the other %zu once (found %zu, computed "
          "%zu, cache %s)", total - 3, again->found, again->computed, again->cache);
    CHECK(same_points(whole, again), "resumed results equal the uninterrupted run's bit for bit");
    free(whole);
    free(again);
}

static void *cancel_later(void *p)
{
    usleep(1000000);
    run_state *st = p;
    st->cancel_at = mono();
    st->cancel = 1;
    return NULL;
}

static int count_tile_files(const char *path, const struct stat *sb, int type, struct FTW *f)
{
    (void)sb, (void)f;
    if (type == FTW_F && (strstr(path, ".tile") != NULL)) tile_files++;
    return 0;
}

/* A cancel during a long kernel ends the run within 5 s of the cancel: the cnn-gap 14x14 Gram of 300 points (about
 * 45,000 pairs, tens of seconds) in tiles sized by the cost model (rows 0), and in one tile of all 300 rows, whose
 * own time is well over 5 s: the engine stops inside it, and the cancelled tile is discarded (no file). */
static void test_cancel(const char *tmp, size_t rows)
{
    char tiles[600];
    snprintf(tiles, sizeof tiles, "%s/cancel-%zu", tmp, rows);
    const char *spec = "{\"data\": {\"source\": \"fashion-mnist\", \"resize\": 2, \"n_train\": [300], \"n_test\": 10},"
                       " \"models\": {\"arch\": \"cnn-gap\"}, \"inference\": {\"method\": \"ntk\"}}";
    if (rows) {
        dml_model m;
        dml_shape sh = {.nd = 2, .size = {14, 14}, .channels = 1};
        dml_kernel_cost c;
        CHECK(parse_model("{\"arch\": \"cnn-gap\"}", &m) == 0, "cnn-gap");
        dml_kernel_cost_estimate(&m, &sh, rows, rows, 1, 2, &c);
        CHECK(c.seconds > 5.0, "the tile of %zu rows is longer than 5 s by the cost model (%.1f s)", rows, c.seconds);
    }
    run_state *st = calloc(1, sizeof *st);
    pthread_t th;
    dml_error err = {0};
    pthread_create(&th, NULL, cancel_later, st);
    int rc = run(spec, ROOT, tiles, 0, rows, st, &err);
    double end = mono();
    pthread_join(th, NULL);
    double took = end - st->cancel_at;
    CHECK(rc == -1 && err.code == DML_ERR_CANCELLED, "the run is cancelled (%d: %s)", rc, err.message);
    CHECK(took < 5.0, "tiles of %zu rows (0: the cost model's): the run ended %.2f s after the cancel, within 5 s",
          rows, took);
    if (rows) {
        tile_files = 0;
        nftw(tiles, count_tile_files, 16, FTW_PHYS);
        CHECK(st->computed == 0 && tile_files == 0, "the cancelled tile is discarded: %zu computed, %d tile files",
              st->computed, tile_files);
    }
    free(st);
}

/* The cache: a second run of the same kernel reads every tile (hit, no tile computed, the same results); a
 * change of any input misses; the budget evicts the least recently used kernel. */
static void test_cache(const char *tmp)
{
    char root[600], data[700], tiles[600], json[1200];
    snprintf(root, sizeof root, "%s/root", tmp);
    mkdir(root, 0755);
    snprintf(data, sizeof data, "%s/own", root);
    snprintf(tiles, sizeof tiles, "%s/cache", tmp);
    CHECK(fx_write_dir(data, 40, 20, 8, 8, 3, -1) == 0, "write %s", data);
    const char *fmt = "{\"data\": {\"source\": \"mnist\", \"path\": \"%s\", \"n_train\": [20, 40], \"n_test\": 20,"
                      " \"transform\": {\"kind\": \"permutation\", \"seed\": %d}},"
                      " \"models\": {\"arch\": \"fcn\", \"w_std\": %g}, \"inference\": [{\"method\": \"ntk\"},"
                      " {\"method\": \"nngp\", \"ridge\": %g}]}";
    dml_error err = {0};
    double budget = 1e9;
    run_state *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    snprintf(json, sizeof json, fmt, data, 7, 1.5, 1e-4);
    CHECK(run(json, root, tiles, budget, 16, a, &err) == 0 && strcmp(a->cache, "miss") == 0 && a->computed == 5,
          "first run: a miss, 5 tiles computed (%s, %zu): %s", a->cache, a->computed, err.message);
    CHECK(run(json, root, tiles, budget, 16, b, &err) == 0 && strcmp(b->cache, "hit") == 0 && b->computed == 0 &&
              b->found == 5,
          "second run: a hit, no tile computed (%s, %zu computed, %zu found)", b->cache, b->computed, b->found);
    CHECK(same_points(a, b), "the cached kernel gives the same results bit for bit");
    /* another ridge only: a hit (the solves alone) */
    memset(b, 0, sizeof *b);
    snprintf(json, sizeof json, fmt, data, 7, 1.5, 1e-2);
    CHECK(run(json, root, tiles, budget, 16, b, &err) == 0 && strcmp(b->cache, "hit") == 0 && b->computed == 0,
          "a ridge change reuses the kernel (%s)", b->cache);
    /* one miss per dependency */
    struct {
        const char *what;
        int seed;
        double w_std;
        const char *engine;
    } dep[3] = {{"transform seed", 8, 1.5, NULL}, {"model field (w_std)", 7, 1.25, NULL}, {"engine version", 7, 1.5, "engine-test"}};
    for (int i = 0; i < 3; i++) {
        memset(b, 0, sizeof *b);
        b->engine = dep[i].engine;
        snprintf(json, sizeof json, fmt, data, dep[i].seed, dep[i].w_std, 1e-4);
        CHECK(run(json, root, tiles, budget, 16, b, &err) == 0 && strcmp(b->cache, "miss") == 0 && b->computed == 5,
              "%s changed: a miss (%s, %zu computed): %s", dep[i].what, b->cache, b->computed, err.message);
    }
    CHECK(fx_write_dir(data, 40, 20, 8, 8, 4, -1) == 0, "rewrite %s", data);
    memset(b, 0, sizeof *b);
    snprintf(json, sizeof json, fmt, data, 7, 1.5, 1e-4);
    CHECK(run(json, root, tiles, budget, 16, b, &err) == 0 && strcmp(b->cache, "miss") == 0 && b->computed == 5,
          "data file content changed: a miss (%s, %zu computed)", b->cache, b->computed);
    /* eviction: a budget of one kernel and a half keeps the newest only */
    double one = dml_tile_cache_evict(tiles, 1e18) / 5.0;   /* five kernels are stored now */
    CHECK(one > 0, "kernels are kept under the cache directory (%g bytes each)", one);
    double left = dml_tile_cache_evict(tiles, 1.5 * one);
    CHECK(left <= 1.5 * one && left > 0, "eviction to the budget keeps the newest kernel (%g bytes left)", left);
    memset(b, 0, sizeof *b);
    CHECK(run(json, root, tiles, 1.5 * one, 16, b, &err) == 0 && strcmp(b->cache, "hit") == 0,
          "the most recently used kernel survived eviction (%s)", b->cache);
    memset(b, 0, sizeof *b);
    snprintf(json, sizeof json, fmt, data, 8, 1.5, 1e-4);
    CHECK(run(json, root, tiles, 1.5 * one, 16, b, &err) == 0 && strcmp(b->cache, "miss") == 0,
          "an evicted kernel is computed again (%s)", b->cache);
    CHECK(dml_tile_cache_evict(tiles, 1e18) <= 1.5 * one, "after each unit the cache is within its budget");
    /* without a cache budget a finished kernel's tiles are removed */
    memset(b, 0, sizeof *b);
    snprintf(json, sizeof json, fmt, data, 9, 1.5, 1e-4);
    CHECK(run(json, root, tiles, 0, 16, b, &err) == 0 && dml_tile_cache_evict(tiles, 1e18) == 0,
          "cache_bytes 0 keeps no finished kernel");
    free(a);
    free(b);
}

/* A corrupted tile file fails its checksum and is computed again. */
static void test_corrupt_tile(const char *tmp)
{
    char dir[600], path[1300];
    snprintf(dir, sizeof dir, "%s/corrupt", tmp);
    mkdir(dir, 0755);
    dml_tile t = {.kind = DML_TILE_GRAM, .index = 1, .r0 = 2, .r1 = 4, .ncols = 4};
    double k[8] = {1, 2, 3, 4, 5, 6, 7, 8}, th[8] = {8, 7, 6, 5, 4, 3, 2, 1}, rk[8], rt[8];
    dml_error err = {0};
    CHECK(dml_tile_save(dir, &t, k, th, NULL, NULL, &err) == 0, "save: %s", err.message);
    CHECK(dml_tile_load(dir, &t, rk, rt, &err) == 1 && memcmp(rk, k, sizeof k) == 0 && memcmp(rt, th, sizeof th) == 0,
          "a saved tile reads back");
    dml_tile_path(dir, &t, path, sizeof path);
    FILE *f = fopen(path, "r+b");
    fseek(f, -3, SEEK_END);
    fputc(0x5a, f);
    fclose(f);
    CHECK(dml_tile_present(dir, &t) == 1 && dml_tile_load(dir, &t, NULL, rt, &err) == 0 && !dml_tile_present(dir, &t),
          "a flipped byte fails the checksum and the file is removed");
}

/* Two processes saving the same tile at once (two runs computing one kernel into a shared cache) both succeed,
 * and the file reads back whole: each writes a temporary file of its own before the rename. */
static void test_concurrent_save(const char *tmp)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/concurrent", tmp);
    mkdir(dir, 0755);
    dml_tile t = {.kind = DML_TILE_CROSS, .index = 0, .r0 = 0, .r1 = 64, .ncols = 64};
    double *k = malloc(sizeof(double) * 64 * 64), *th = malloc(sizeof(double) * 64 * 64);
    for (int i = 0; i < 64 * 64; i++) k[i] = i, th[i] = -i;
    pid_t pid[2];
    for (int c = 0; c < 2; c++)
        if ((pid[c] = fork()) == 0) {
            dml_error err = {0};
            int failed = 0;
            for (int i = 0; i < 100; i++) failed += dml_tile_save(dir, &t, k, th, NULL, NULL, &err) != 0;
            _exit(failed ? 1 : 0);
        }
    int ok = 1, status;
    for (int c = 0; c < 2; c++) ok &= waitpid(pid[c], &status, 0) == pid[c] && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    double *rk = malloc(sizeof(double) * 64 * 64), *rt = malloc(sizeof(double) * 64 * 64);
    dml_error err = {0};
    CHECK(ok, "two processes each save the same tile 100 times at once, and every save succeeds");
    CHECK(dml_tile_load(dir, &t, rk, rt, &err) == 1 && memcmp(rk, k, sizeof(double) * 64 * 64) == 0 &&
              memcmp(rt, th, sizeof(double) * 64 * 64) == 0,
          "the tile reads back whole");
    tile_files = 0;
    nftw(dir, count_tile_files, 16, FTW_PHYS);
    CHECK(tile_files == 1, "one file is left, no temporary one (%d files)", tile_files);
    free(k), free(th), free(rk), free(rt);
}

/* touch DIR/NAME with modification time `t` (seconds since the epoch) */
static void touch_at(const char *dir, const char *name, double t)
{
    char p[900];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f) fclose(f);
    struct timespec ts[2] = {{.tv_sec = (time_t)t}, {.tv_sec = (time_t)t}};
    utimensat(AT_FDCWD, p, ts, 0);
}

static int exists_in(const char *dir, const char *name)
{
    char p[900];
    struct stat sb;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &sb) == 0;
}

/* A writer killed between creating its temporary tile file and renaming it leaves the file behind; the cache
 * removes it once it is stale (its writer gone and the file idle for a minute, or idle for an hour whatever its
 * pid) and never a live writer's, a young one or a file of another name. */
static void test_sweep_tmp(const char *tmp)
{
    pid_t child = fork();
    if (child == 0) _exit(0);
    waitpid(child, NULL, 0);   /* `child` is a pid whose process has ended */
    long dead = (long)child, alive = (long)getpid();
    char dir[700], a[80], b[80], c[80];
    snprintf(dir, sizeof dir, "%s/sweep", tmp);
    mkdir(dir, 0755);
    double now = (double)time(NULL);
    snprintf(a, sizeof a, "g-000001.tile.tmp.%ld.0", dead);
    snprintf(b, sizeof b, "g-000002.tile.tmp.%ld.0", alive);
    snprintf(c, sizeof c, "g-000003.tile.tmp.%ld.1", dead);
    touch_at(dir, a, now - 120);
    touch_at(dir, b, now - 120);
    touch_at(dir, c, now);
    touch_at(dir, "g-000004.tile", now - 1e5);
    touch_at(dir, "notes.tmp.x.0", now - 1e5);
    int removed = -1;
    CHECK(dml_tile_cache_sweep_tmp(dir, now, &removed) == 0 && removed == 1 && !exists_in(dir, a) && exists_in(dir, b) &&
              exists_in(dir, c),
          "sweep: the dead writer's idle file removed (%d removed), the live writer's and the young one kept", removed);
    CHECK(dml_tile_cache_sweep_tmp(dir, now + 7200, &removed) == 0 && removed == 2 && !exists_in(dir, b) &&
              !exists_in(dir, c) && exists_in(dir, "g-000004.tile") && exists_in(dir, "notes.tmp.x.0"),
          "sweep two hours later: both temporary files gone (%d removed), the tile and a file of another name kept",
          removed);
    /* entering a kernel directory sweeps it */
    char key[DML_SHA256_HEX], kdir[900];
    memset(key, 'a', sizeof key - 1);
    key[sizeof key - 1] = 0;
    snprintf(kdir, sizeof kdir, "%s/%s", dir, key);
    mkdir(kdir, 0755);
    touch_at(kdir, a, now - 120);
    dml_tile_hold h;
    dml_error err = {0};
    CHECK(dml_tile_cache_enter(dir, key, &h, &err) == 0 && !exists_in(kdir, a),
          "dml_tile_cache_enter removes its directory's stale temporary tile files");
    dml_tile_cache_leave(&h, 0);
}

int main(void)
{
    char tmp[] = "/tmp/dmilab-test-tiles-XXXXXX";
    if (!mkdtemp(tmp)) return 1;
    dml_shape img = {.nd = 2, .size = {6, 6}, .channels = 1};
    tiled_vs_untiled("{\"arch\": \"cnn-vec\"}", &img, 1);
    tiled_vs_untiled("{\"arch\": \"lcn\"}", &img, 1);
    tiled_vs_untiled("{\"arch\": \"cnn-gap\"}", &img, 1);
    tiled_vs_untiled("{\"arch\": \"fcn\", \"activation\": \"erf\"}", &img, 0);
    tiled_vs_untiled("{\"arch\": \"fcn\"}", &img, 0);
    test_corrupt_tile(tmp);
    test_concurrent_save(tmp);
    test_kill_resume(tmp);
    test_sweep_tmp(tmp);
    test_cache(tmp);
    test_cancel(tmp, 0);
    test_cancel(tmp, 300);
    dml_tile_cache_remove_all(tmp);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (system(cmd)) fprintf(stderr, "cannot remove %s\n", tmp);
    printf("tiles: %d passed, %d failed\n", check_passed, check_failed);
    return check_failed != 0;
}
