/* Running an experiment's grid: one kernel computation per (data variant, model, repeat) serves every
 * training-set size and both kernel methods. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "dmilab/data.h"
#include "dmilab/arm.h"
#include "dmilab/experiment.h"
#include "dmilab/cost.h"
#include "dmilab/kernel.h"
#include "dmilab/kernel_unit.h"
#include "dmilab/tile_cache.h"
#include "dmilab/rng.h"
#include "dmilab/sha256.h"
#include "dmilab/transform.h"
#include "data/variant.h"
#include "readout_stage.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Sum over outputs of squared errors, averaged over points; accuracy of the argmax against labels. */
static void metrics(const double *pred, const double *y, const int *label, size_t n, int k, double *mse, double *acc)
{
    double se = 0.0;
    size_t right = 0;
    for (size_t i = 0; i < n; i++) {
        int best = 0;
        for (int c = 0; c < k; c++) {
            double d = pred[i * (size_t)k + c] - y[i * (size_t)k + c];
            se += d * d;
            if (pred[i * (size_t)k + c] > pred[i * (size_t)k + best]) best = c;
        }
        if (label && best == label[i]) right++;
    }
    *mse = n ? se / (double)n : NAN;
    if (acc) *acc = label && n ? (double)right / (double)n : NAN;
}

typedef struct {
    const dml_spec *s;
    const dml_run_hooks *h;
    size_t total, done;
    /* the IDX splits of every data variant, acquired at its first unit and held until the run ends (variants
     * with the same directory share them); the npy arrays likewise, with their paths and SHA-256 */
    const dml_idx_split *(*split)[2];
    dml_npy_array (*npy)[DML_NPY_FILES];
    char (*npy_sha)[DML_NPY_FILES][DML_SHA256_HEX];
    char *loaded;
    dml_data_file files[4 * 64];
    int nfiles;
    /* kernel points of models whose kernel a later model shares (dml_spec_kernel_twin), for reuse */
    struct kept { int d, m, rep, i; dml_point p; } *kept;
    size_t nkept, capkept;
    const char *tile_dir;   /* the hooks' tile_dir, or a temporary directory of this run */
} runner;

/* Keep a kernel point of model m when a later model of the spec has the same kernel. */
static void keep_point(runner *R, int d, int m, int rep, int i, const dml_point *p)
{
    int wanted = 0;
    for (int q = m + 1; q < R->s->nmodels && !wanted; q++) wanted = dml_spec_kernel_twin(R->s, q) == m;
    if (!wanted) return;
    if (R->nkept == R->capkept) {
        size_t cap = R->capkept ? 2 * R->capkept : 64;
        struct kept *k = realloc(R->kept, cap * sizeof *k);
        if (!k) return;   /* the later model computes its kernel itself */
        R->kept = k;
        R->capkept = cap;
    }
    R->kept[R->nkept++] = (struct kept){d, m, rep, i, *p};
}

static const dml_point *kept_point(const runner *R, int d, int m, int rep, int i, size_t n)
{
    for (size_t k = 0; k < R->nkept; k++) {
        const struct kept *q = &R->kept[k];
        if (q->d == d && q->m == m && q->rep == rep && q->i == i && q->p.n_train == n) return &q->p;
    }
    return NULL;
}

/* Name a field of err, when there is an err. */
static void set_field(dml_error *err, const char *field)
{
    if (err) snprintf(err->field, sizeof err->field, "%.*s", (int)sizeof err->field - 1, field);
}

/* Report the files read so far to on_data; nonzero stops the run. */
static int files_read(runner *R, dml_error *err)
{
    if (R->h->on_data && R->h->on_data(R->h->ctx, R->files, R->nfiles, err)) {
        if (err && err->code == DML_OK) dml_fail(err, DML_ERR_IO, NULL, "the data files were refused");
        return -1;
    }
    return 0;
}

/* The four arrays of npy data variant d, read on first use through the data root (variants naming the same
 * four files share them). */
static int npy_arrays(runner *R, int d, dml_variant_source *src, dml_error *err)
{
    const dml_spec *s = R->s;
    int from = d;
    for (int e = 0; e < d && from == d; e++)
        if (R->loaded[e] && s->data[e].source == DML_SRC_NPY &&
            memcmp(s->data[e].npy, s->data[d].npy, sizeof s->data[d].npy) == 0)
            from = e;
    if (from == d && !R->loaded[d]) {
        for (int k = 0; k < DML_NPY_FILES; k++) {
            char f[64];
            snprintf(f, sizeof f, "%s", dml_npy_file_fields[k]);
            int fd = dml_data_open(s->data_root, s->data[d].npy[k], f, NULL, 0, err);
            if (fd < 0 || dml_npy_read_fd(fd, s->data[d].npy[k], &R->npy[d][k].h, &R->npy[d][k].v, R->npy_sha[d][k], err))
                return -1;
            R->files[R->nfiles++] = (dml_data_file){s->data[d].npy[k], R->npy_sha[d][k]};
        }
        R->loaded[d] = 1;
        if (files_read(R, err)) return -1;
    }
    for (int k = 0; k < DML_NPY_FILES; k++) src->npy[k] = &R->npy[from][k];
    return 0;
}

/* What data variant d is loaded from, read on first use. */
static int data_source(runner *R, int d, dml_variant_source *src, dml_error *err)
{
    const dml_spec *s = R->s;
    memset(src, 0, sizeof *src);
    if (dml_source_is_synthetic(s->data[d].source)) return 0;
    if (!s->data_root[0])
        return dml_fail(err, DML_ERR_INTERNAL, NULL, "the spec was parsed without a data root: its data cannot be read");
    if (s->data[d].source == DML_SRC_NPY) return npy_arrays(R, d, src, err);
    for (int e = 0; e <= d && !R->split[d][0]; e++)
        if (R->split[e][0] && dml_source_is_idx(s->data[e].source) && strcmp(s->data[e].path, s->data[d].path) == 0) {
            src->idx[0] = R->split[e][0];
            src->idx[1] = R->split[e][1];
            return 0;
        }
    if (!R->split[d][0]) {
        static const char *const prefix[2] = {"train", "t10k"};
        for (int k = 0; k < 2; k++) {
            R->split[d][k] = dml_idx_acquire(s->data_root, s->data[d].path, prefix[k], err);
            if (!R->split[d][k]) return -1;
        }
        for (int k = 0; k < 2; k++) {
            const dml_idx_split *sp = R->split[d][k];
            R->files[R->nfiles++] = (dml_data_file){sp->images_path, sp->images_sha256};
            R->files[R->nfiles++] = (dml_data_file){sp->labels_path, sp->labels_sha256};
        }
        if (files_read(R, err)) return -1;
    }
    src->idx[0] = R->split[d][0];
    src->idx[1] = R->split[d][1];
    return 0;
}

static void progress(runner *r)
{
    if (r->h->on_progress) r->h->on_progress(r->h->ctx, r->total ? (double)r->done / (double)r->total : 1.0);
}

static void arm_name(const dml_spec *s, int d, int m, int i, dml_point *p)
{
    dml_arm_names(s, d, m, i, p->arm, p->data, p->model, p->inference);
}

typedef struct {
    runner *R;
    double base;
} epoch_ctx;

/* Per-epoch progress inside one trained point; nonzero cancels. */
static int on_epoch(void *ctx, int epoch, int epochs)
{
    epoch_ctx *e = ctx;
    const dml_run_hooks *h = e->R->h;
    if (h->on_progress && e->R->total)
        h->on_progress(h->ctx, (e->base + (double)epoch / (double)epochs) / (double)e->R->total);
    return h->cancelled && h->cancelled(h->ctx);
}

/* The initial weights' and the minibatches' seeds of model m's networks in repeat rep (every method and size of a
 * repeat starts from the same weights; the coupled audit uses those of repeat 0). */
static void net_seeds(const dml_spec *s, int rep, int m, uint64_t *init_seed, uint64_t *shuffle_seed)
{
    uint64_t keys[4] = {s->seed, (uint64_t)rep, 0x6e6574776f726bULL /* "network" */, (uint64_t)m};
    dml_rng r;
    dml_rng_seed(&r, keys, 4);
    *init_seed = dml_rng_next(&r);
    *shuffle_seed = dml_rng_next(&r);
}

/* Train one network of model m with inference i on the first n training images and evaluate it. */
static int train_point(runner *R, int m, int i, int rep, const dml_dataset *tr, size_t n, const dml_dataset *te,
                       dml_train_result *res, dml_error *err)
{
    const dml_spec *s = R->s;
    const dml_inference *inf = &s->inference[i];
    dml_train_config cfg;
    dml_arm_train_config(inf, &s->models[m], &cfg);
    dml_layers *L = malloc(sizeof *L);
    if (!L) return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
    int threads = R->h->threads > 0 ? R->h->threads : 1;
    if (dml_model_layers(&s->models[m], &tr->shape, tr->k, L, err)) {
        free(L);
        return -1;
    }
    uint64_t init_seed, shuffle_seed;
    net_seeds(s, rep, m, &init_seed, &shuffle_seed);
    int batch = inf->method == DML_INF_GD ? (int)n : cfg.batch;
    dml_net *net = dml_net_create(L, s->models[m].parameterization, inf->precision, init_seed, threads,
                                  (size_t)(batch < 1024 ? batch : 1024), err);
    free(L);
    if (!net) return -1;
    cfg.shuffle_seed = shuffle_seed;
    dml_dataset sub = *tr;   /* the first n images: a view, nested like the kernel arms' subsets */
    sub.n = n;
    epoch_ctx ec = {R, (double)R->done};
    int rc = dml_train(net, &cfg, &sub, te, res, on_epoch, &ec, err);
    dml_net_free(net);
    if (rc == 0 && res->diverged) {
        /* a diverged run is a result (NaN metrics), not a failure of the experiment */
        res->test_mse = res->test_accuracy = res->train_mse = NAN;
    }
    return rc;
}

/* Store one finished point; nonzero (the store failed) aborts the run. */
static int report(runner *R, const dml_point *p, dml_error *err)
{
    const dml_run_hooks *h = R->h;
    if (h->on_point && h->on_point(h->ctx, p)) return dml_fail(err, DML_ERR_INTERNAL, NULL, "storing a point failed");
    R->done++;
    progress(R);
    return 0;
}

typedef struct {
    runner *R;
    double base, weight;   /* progress of the points before this unit, and the share of the unit's tiles */
    size_t done, total;
    const char *key;       /* the unit's kernel key */
} tile_ctx;

/* A tile shard's tile that its server has already (dml_run_hooks.have_tile). */
static int tile_skip(void *ctx, const dml_tile *t)
{
    tile_ctx *c = ctx;
    const dml_run_hooks *h = c->R->h;
    return h->have_tile && h->have_tile(h->ctx, c->key, t);
}

static int tile_cancelled(void *ctx)
{
    const dml_run_hooks *h = ((tile_ctx *)ctx)->R->h;
    return h->cancelled && h->cancelled(h->ctx);
}

/* Progress per tile: the tile stage counts for `weight` of the unit's missing kernel points. */
static void tile_done(void *ctx, const dml_tile *t, int computed, size_t done, size_t total, double eta)
{
    tile_ctx *c = ctx;
    const dml_run_hooks *h = c->R->h;
    if (h->on_tile) h->on_tile(h->ctx, t, computed, eta);
    if (h->on_progress && c->R->total)
        h->on_progress(h->ctx, (c->base + c->weight * (double)done / (double)total) / (double)c->R->total);
}

/* The spectral readout of a unit (docs/spectrum.md): its dense NNGP and NTK Gram on the tr->n points loaded for it,
 * freed before the kernel arms' tiles. */
static int readout_stage(runner *R, int d, int m, const dml_dataset *tr, dml_error *err)
{
    const dml_spec *s = R->s;
    const dml_run_hooks *h = R->h;
    size_t Nk = tr->n;
    int threads = h->threads > 0 ? h->threads : 1, rc = -1;
    double *Knn = malloc(sizeof(double) * (Nk * Nk + 1)), *Tnn = malloc(sizeof(double) * (Nk * Nk + 1));
    char f[64];
    if (!Knn || !Tnn)
        dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory for the spectrum's kernels of %zu points", Nk);
    else if (dml_kernel_cancellable(&s->models[m], &tr->shape, tr->x, Nk, NULL, Nk, Knn, Tnn, threads, h->cancelled,
                                    h->ctx, err)) {
        if (err && err->code != DML_ERR_CANCELLED) set_field(err, dml_spec_field(s, "models", m, NULL, f, sizeof f));
    }
    else
        rc = dml_readout_stage(s, d, m, Knn, Tnn, Nk, tr, h, err);
    free(Knn);
    free(Tnn);
    return rc;
}

/* The kernel arms of one unit: one NNGP+NTK computation on the largest n_train serves every kernel method and
 * size (nested subsets: leading blocks of one Gram matrix), computed in durable tiles, then solved one inference
 * at a time from them; and the spectral readout (its dense Gram on the tr->n >= N points the unit loaded, computed
 * and freed before the tiles). `t0`: when the unit started loading its data. */
static int kernel_stage(runner *R, int d, int m, int rep, const char *need, int missing, int readout,
                        const dml_dataset *tr, const dml_dataset *te, double t0, dml_error *err)
{
    const dml_spec *s = R->s;
    const dml_run_hooks *h = R->h;
    const dml_data_spec *ds = &s->data[d];
    int nsz = ds->nn_train, k = tr->k, rc = -1, threads = h->threads > 0 ? h->threads : 1;
    size_t N = ds->n_train[nsz - 1], M = ds->n_test;
    const dml_model *mod = &s->models[m];
    char f[64], key[DML_SHA256_HEX];
    dml_tile_hold hold = {.lock_fd = -1};
    double *pt = malloc(sizeof(double) * ((size_t)nsz * M * (size_t)k + 1));
    size_t nsum = 0;   /* train predictions of every size */
    for (int j = 0; j < nsz; j++) nsum += ds->n_train[j];
    double *pn = malloc(sizeof(double) * (nsum * (size_t)k + 1));
    dml_ridge_size *sz = calloc((size_t)nsz, sizeof *sz);
    if (!pt || !pn || !sz) {
        dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory for the predictions of %zu test points", M);
        goto out;
    }
    if (readout && readout_stage(R, d, m, tr, err)) goto out;
    if (!missing) {
        rc = 0;
        goto out;
    }
    if (dml_tile_key(h->engine, mod, &tr->shape, tr->x, N, te->x, M, key, err) ||
        dml_tile_cache_enter(R->tile_dir, key, &hold, err))
        goto out;
    size_t rows = h->tile_rows ? h->tile_rows : dml_tile_rows_for(mod, &tr->shape, N, threads, 2.0);
    dml_kernel_unit u = {.m = mod, .shape = &tr->shape, .x = tr->x, .xt = te->x, .dir = hold.dir,
                         .cache = R->tile_dir, .threads = threads};
    dml_tiling_init(&u.tiling, N, M, rows);
    size_t ntiles = u.tiling.ngram + u.tiling.ncross, stored = dml_kernel_unit_present(&u);
    if (h->on_kernel) {
        dml_kernel_info info = {s->data[d].name, mod->name, rep, key,
                                stored == ntiles ? "hit" : stored ? "partial" : "miss", ntiles, stored};
        h->on_kernel(h->ctx, &info);
    }
    /* the tiles' share of the unit's progress, from the cost model: kernel seconds against solve seconds */
    dml_kernel_cost gc, cc;
    dml_kernel_cost_estimate(mod, &tr->shape, N, N, 1, threads, &gc);
    dml_kernel_cost_estimate(mod, &tr->shape, M, N, 0, threads, &cc);
    double solve_s = dml_ridge_curve_flops(M, (size_t)k, ds->n_train, (size_t)nsz) * DML_SEC_PER_SOLVE_FLOP;
    int nsolve = 0;
    for (int i = 0; i < s->ninference; i++) nsolve += dml_method_is_kernel(s->inference[i].method);
    double ks = gc.seconds + cc.seconds, weight = ks + nsolve * solve_s > 0 ? ks / (ks + nsolve * solve_s) : 0;
    int shard = h->tile_end > h->tile_first;   /* a tile shard: its tiles only, kept for the solve */
    tile_ctx tc = {R, (double)R->done, weight * missing, 0, ntiles, key};
    u.ctx = &tc;
    u.cancelled = tile_cancelled;
    u.on_tile = tile_done;
    u.skip = shard ? tile_skip : NULL;
    if (shard ? dml_kernel_unit_tiles_range(&u, h->tile_first, h->tile_end, err) : dml_kernel_unit_tiles(&u, err)) {
        if (err && err->code != DML_ERR_CANCELLED && err->code != DML_ERR_IO)
            set_field(err, dml_spec_field(s, "models", m, NULL, f, sizeof f));
        goto out;
    }
    if (shard) {
        rc = 0;
        goto out;
    }
    double share = (now() - t0) / (double)missing;
    for (int i = 0; i < s->ninference; i++) {
        const dml_inference *inf = &s->inference[i];
        if (!dml_method_is_kernel(inf->method)) continue;
        size_t nwant = 0, off = 0;
        for (int j = 0; j < nsz; j++)
            if (need[i * nsz + j]) {
                sz[nwant] = (dml_ridge_size){.n = ds->n_train[j], .pred_test = pt + nwant * M * (size_t)k,
                                             .pred_train = pn + off * (size_t)k};
                off += ds->n_train[j];
                nwant++;
            }
        if (!nwant) continue;
        if (h->cancelled && h->cancelled(h->ctx)) {
            dml_fail(err, DML_ERR_CANCELLED, NULL, "cancelled");
            goto out;
        }
        double t1 = now();
        if (dml_kernel_unit_solve(&u, inf->method == DML_INF_NTK, tr->y, (size_t)k, inf->ridge, sz, nwant, err)) {
            if (err && err->code == DML_ERR_NUMERIC)
                set_field(err, dml_spec_field(s, "inference", i, "ridge", f, sizeof f));
            goto out;
        }
        double each = (now() - t1) / (double)nwant;
        for (size_t w = 0; w < nwant; w++) {
            if (w && h->cancelled && h->cancelled(h->ctx)) {   /* cancel is honoured between points */
                dml_fail(err, DML_ERR_CANCELLED, NULL, "cancelled");
                goto out;
            }
            dml_point p;
            memset(&p, 0, sizeof p);
            arm_name(s, d, m, i, &p);
            p.n_train = sz[w].n;
            p.repeat = rep;
            metrics(sz[w].pred_test, te->y, te->label, M, k, &p.test_mse, &p.test_accuracy);
            metrics(sz[w].pred_train, tr->y, tr->label, sz[w].n, k, &p.train_mse, NULL);
            p.seconds = share + each;
            if (report(R, &p, err)) goto out;
            keep_point(R, d, m, rep, i, &p);
        }
    }
    rc = 0;
out:
    /* a finished kernel stays only for the cache; an interrupted one stays for its resumption */
    int shard_tiles = h->tile_end > h->tile_first;
    dml_tile_cache_leave(&hold, rc != 0 || h->cache_bytes > 0 || shard_tiles);
    if (rc == 0 && !shard_tiles) dml_tile_cache_evict(R->tile_dir, h->cache_bytes);
    free(pt);
    free(pn);
    free(sz);
    return rc;
}

/* The audit cells of unit (d, m) not yet stored: need[i * ngroups + k] for inference i and group k. */
static int audit_missing(runner *R, int d, int m, char *need)
{
    const dml_spec *s = R->s;
    const dml_run_hooks *h = R->h;
    int ng = s->audit.ngroups, missing = 0;
    for (int i = 0; i < s->ninference; i++)
        for (int k = 0; k < ng; k++) {
            dml_point p;
            arm_name(s, d, m, i, &p);
            int have = h->have_audit && h->have_audit(h->ctx, p.arm, dml_transform_name(s->audit.groups[k].kind));
            need[i * ng + k] = (char)!have;
            missing += !have;
            if (have) R->done++;
        }
    return missing;
}

/* The audit of unit (d, m) on repeat 0's data: each arm under each missing group (docs/audit.md). */
static int audit_stage(runner *R, int d, int m, const char *need, const dml_dataset *tr, const dml_dataset *te,
                       dml_error *err)
{
    const dml_spec *s = R->s;
    const dml_run_hooks *h = R->h;
    int ng = s->audit.ngroups, rc = -1;
    dml_group_elem *g = calloc((size_t)ng, sizeof *g);
    if (!g) return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
    int drawn = 0;
    for (; drawn < ng; drawn++)
        if (dml_group_draw(s->audit.groups[drawn].kind, s->audit.groups[drawn].seed, &tr->shape, &g[drawn], err)) {
            char f[64];
            snprintf(f, sizeof f, "audit.groups[%d]", drawn);
            set_field(err, f);
            goto out;
        }
    for (int i = 0; i < s->ninference; i++) {
        dml_audit_arm a = {.model = &s->models[m], .inf = &s->inference[i], .train = tr,
                           .n_train = s->audit.n_train, .test = te, .seeds = s->audit.seeds,
                           .threads = h->threads > 0 ? h->threads : 1};
        net_seeds(s, 0, m, &a.init_seed, &a.shuffle_seed);
        uint64_t keys[4] = {s->seed, 0x656e73656d626c65ULL /* "ensemble" */, (uint64_t)m, (uint64_t)i};
        dml_rng r;
        dml_rng_seed(&r, keys, 4);
        a.ensemble_seed = dml_rng_next(&r);
        for (int k = 0; k < ng; k++) {
            if (!need[i * ng + k]) continue;
            if (h->cancelled && h->cancelled(h->ctx)) {
                dml_fail(err, DML_ERR_CANCELLED, NULL, "cancelled");
                dml_audit_arm_free(&a);
                goto out;
            }
            double t1 = now();
            dml_audit_entry e;
            memset(&e, 0, sizeof e);
            dml_point p;
            arm_name(s, d, m, i, &p);
            memcpy(e.arm, p.arm, sizeof e.arm);
            memcpy(e.data, p.data, sizeof e.data);
            memcpy(e.model, p.model, sizeof e.model);
            memcpy(e.inference, p.inference, sizeof e.inference);
            if (dml_audit_measure(&a, &g[k], &e, err)) {
                dml_audit_arm_free(&a);
                goto out;
            }
            e.seconds = now() - t1;
            if (h->on_audit && h->on_audit(h->ctx, &e)) {
                dml_audit_arm_free(&a);
                dml_fail(err, DML_ERR_INTERNAL, NULL, "storing an audit result failed");
                goto out;
            }
            R->done++;
            progress(R);
        }
        dml_audit_arm_free(&a);
    }
    rc = 0;
out:
    for (int k = 0; k < drawn; k++) dml_group_free(&g[k]);
    free(g);
    return rc;
}

/* One unit: data variant d, model m, repeat r: its kernel arms, then (their matrices freed) its trained arms. */
static int run_unit(runner *R, int d, int m, int rep, dml_error *err)
{
    const dml_spec *s = R->s;
    const dml_run_hooks *h = R->h;
    const dml_data_spec *ds = &s->data[d];
    int nsz = ds->nn_train, ninf = s->ninference;
    /* which points are missing? (kernel methods share one kernel computation; trained ones do not) */
    char *need = calloc((size_t)(nsz * ninf), 1);
    if (!need) return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
    int missing = 0, train_missing = 0;
    for (int i = 0; i < ninf; i++)
        for (int k = 0; k < nsz && rep < dml_spec_arm_repeats(s, d, i); k++) {
            dml_point p;
            arm_name(s, d, m, i, &p);
            int have = h->have_point && h->have_point(h->ctx, p.arm, ds->n_train[k], rep);
            need[i * nsz + k] = (char)!have;
            if (dml_method_is_kernel(s->inference[i].method)) missing += !have;
            else train_missing += !have;
            if (have) R->done++;
        }
    /* a model whose kernel an earlier one computed (they differ in width only): its kernel points are those */
    int twin = missing ? dml_spec_kernel_twin(s, m) : -1;
    for (int pass = 0; twin >= 0 && pass < 2; pass++)
        for (int i = 0; i < ninf; i++)
            for (int k = 0; k < nsz; k++) {
                if (!need[i * nsz + k] || !dml_method_is_kernel(s->inference[i].method)) continue;
                const dml_point *q = kept_point(R, d, twin, rep, i, ds->n_train[k]);
                if (!q) {   /* not kept (a resumed run): compute the kernel */
                    twin = -1;
                    break;
                }
                if (pass == 0) continue;
                dml_point p = *q;
                arm_name(s, d, m, i, &p);
                p.seconds = 0;   /* the computation was the twin's */
                if (report(R, &p, err)) {
                    free(need);
                    return -1;
                }
                need[i * nsz + k] = 0;
                missing--;
            }
    int readout = dml_readout_missing(s, d, m, rep, h);   /* a kernel arm's spectrum is not stored yet */
    int ng = rep == 0 ? s->audit.ngroups : 0, amissing = 0;
    char *aneed = calloc((size_t)(ng * ninf) + 1, 1);
    if (!aneed) {
        free(need);
        return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
    }
    if (ng) amissing = audit_missing(R, d, m, aneed);
    progress(R);
    if (!missing && !train_missing && !readout && !amissing) {
        free(need);
        free(aneed);
        return 0;
    }
    size_t N = readout ? dml_unit_train_points(s, d, rep) : ds->n_train[nsz - 1];
    dml_dataset tr, te;
    dml_variant_source src;
    double t0 = now();
    if (data_source(R, d, &src, err) || dml_variant_load(ds, s->seed, rep, N, &src, &tr, &te, err)) {
        free(need);
        free(aneed);
        char f[200];
        if (err && err->field[0]) {   /* point the field at this data variant */
            dml_spec_field(s, "data", d, err->field, f, sizeof f);
            set_field(err, f);
        }
        return -1;
    }
    double load = now() - t0;   /* loading and preprocessing, shared by the points of this unit */
    int rc = -1;
    if ((missing || readout) && kernel_stage(R, d, m, rep, need, missing, readout, &tr, &te, t0, err)) goto out;
    for (int i = 0; i < ninf; i++) {
        if (dml_method_is_kernel(s->inference[i].method)) continue;
        for (int j = 0; j < nsz; j++) {
            if (!need[i * nsz + j]) continue;
            if (h->cancelled && h->cancelled(h->ctx)) {
                dml_fail(err, DML_ERR_CANCELLED, NULL, "cancelled");
                goto out;
            }
            double t1 = now();
            dml_point p;
            memset(&p, 0, sizeof p);
            arm_name(s, d, m, i, &p);
            p.n_train = ds->n_train[j];
            p.repeat = rep;
            dml_train_result res;
            memset(&res, 0, sizeof res);
            if (train_point(R, m, i, rep, &tr, p.n_train, &te, &res, err)) {
                dml_train_result_free(&res);
                goto out;
            }
            p.test_mse = res.test_mse;
            p.test_accuracy = res.test_accuracy;
            p.train_mse = res.train_mse;
            p.curve = res.curve;
            p.n_curve = res.n_curve;
            p.seconds = now() - t1 + (missing ? 0.0 : load / (double)train_missing);
            int bad = report(R, &p, err);
            dml_train_result_free(&res);
            if (bad) goto out;
        }
    }
    if (amissing && audit_stage(R, d, m, aneed, &tr, &te, err)) goto out;
    rc = 0;
out:
    free(need);
    free(aneed);
    dml_dataset_free(&tr);
    dml_dataset_free(&te);
    return rc;
}

int dml_experiment_run(const dml_spec *s, const dml_run_hooks *h, dml_error *err)
{
    dml_run_hooks none = {0};
    if (!h) h = &none;
    runner R = {.s = s, .h = h,
                .total = dml_spec_points(s) + (size_t)s->ndata * (size_t)s->nmodels * (size_t)s->ninference *
                                                  (size_t)s->audit.ngroups};
    R.split = calloc((size_t)s->ndata + 1, sizeof *R.split);
    R.npy = calloc((size_t)s->ndata + 1, sizeof *R.npy);
    R.npy_sha = calloc((size_t)s->ndata + 1, sizeof *R.npy_sha);
    R.loaded = calloc((size_t)s->ndata + 1, 1);
    char tmp[1024] = "";
    int rc = 0;
    if (!R.split || !R.npy || !R.npy_sha || !R.loaded) {
        rc = dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
        goto out;
    }
    R.tile_dir = h->tile_dir;
    if (!R.tile_dir) {
        const char *td = getenv("TMPDIR");
        snprintf(tmp, sizeof tmp, "%s/dmilab-tiles-XXXXXX", td && *td ? td : "/tmp");
        if (!mkdtemp(tmp)) {
            tmp[0] = 0;
            rc = dml_fail(err, DML_ERR_IO, NULL, "cannot create a temporary directory for kernel tiles in %s",
                          td && *td ? td : "/tmp");
            goto out;
        }
        R.tile_dir = tmp;
    }
    for (int d = 0; d < s->ndata && rc == 0; d++)
        for (int m = 0; m < s->nmodels && rc == 0; m++)
            for (long long r = 0; r < s->repeats && rc == 0; r++) {
                if (h->cancelled && h->cancelled(h->ctx)) rc = dml_fail(err, DML_ERR_CANCELLED, NULL, "cancelled");
                else rc = run_unit(&R, d, m, (int)r, err);
            }
out:
    for (int d = 0; R.split && d < s->ndata; d++)
        for (int k = 0; k < 2; k++) dml_idx_release(R.split[d][k]);
    for (int d = 0; R.npy && d < s->ndata; d++)
        for (int k = 0; k < DML_NPY_FILES; k++) free(R.npy[d][k].v);
    free(R.split);
    free(R.npy);
    free(R.npy_sha);
    free(R.loaded);
    free(R.kept);
    if (tmp[0]) dml_tile_cache_remove_all(tmp);
    if (rc) return -1;
    R.done = R.total;
    progress(&R);
    return 0;
}
