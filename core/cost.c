/* The cost estimate of an experiment (dmilab/cost.h): the dry run of a submission and the time limit of
 * admission. Kernel seconds come from the kernel engine's cost model (dml_kernel_cost_estimate), training
 * seconds from the layers' own costs (dml_train_seconds), memory from dml_unit_memory_estimate, the
 * memory model of one unit of work (below) that the limits and the dry run share. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/audit.h"
#include "dmilab/cost.h"
#include "dmilab/kernel.h"
#include "dmilab/kernel_unit.h"
#include "dmilab/nn.h"
#include "dmilab/spectrum.h"

/* Bytes of the data files every distinct data source of the spec holds through the run: IDX splits as read, npy
 * arrays as doubles (synthetic data holds none). */
static double cached_bytes(const dml_spec *s)
{
    double b = 0;
    for (int d = 0; d < s->ndata; d++) {
        int seen = 0;
        for (int e = 0; e < d && !seen; e++)
            seen = s->data[e].source == s->data[d].source &&
                   (s->data[d].source == DML_SRC_NPY ? memcmp(s->data[e].npy, s->data[d].npy, sizeof s->data[d].npy) == 0
                                                     : strcmp(s->data[e].path, s->data[d].path) == 0);
        if (seen) continue;
        const dml_data_spec *ds = &s->data[d];
        if (ds->source == DML_SRC_NPY) {   /* the four arrays as doubles (experiment.c) */
            double D = (double)dml_shape_numel(&ds->npy_shape);
            b += 8.0 * (double)(ds->train_images + ds->test_images) * (D + (double)dml_data_outputs(ds));
        } else if (dml_source_is_idx(ds->source)) {
            b += (double)(ds->train_images + ds->test_images) * ((double)ds->rows * ds->cols + 1.0);
        }
    }
    return b;
}

/* An audit kernel fit (core/audit/: dense dml_kernel calls, then dml_ridge_predict): the peak of the Gram call
 * (its NNGP and NTK outputs and workspace, dml_kernel_memory_bytes), the cross call with the Gram held, and the
 * solve with both held (Cholesky factor, coefficients, test and train predictions). */
static double audit_kernel_bytes(const dml_model *m, const dml_shape *sh, size_t n, size_t M, int k, int threads)
{
    double N = (double)n, T = (double)M;
    double gram = dml_kernel_memory_bytes(m, sh, n, n, 1, threads);
    double cross = 8.0 * 2.0 * N * N + dml_kernel_memory_bytes(m, sh, M, n, 0, threads);
    double solve = 8.0 * (2.0 * N * N + 2.0 * T * N + T * k + N * k + N * N + N * k);
    return fmax(gram, fmax(cross, solve));
}

void dml_unit_memory_estimate(const dml_spec *s, int d, int m, int threads, dml_unit_memory *out)
{
    memset(out, 0, sizeof *out);
    out->train_inference = -1;
    if (threads < 1) threads = 1;
    const dml_data_spec *ds = &s->data[d];
    dml_shape sh = dml_data_shape(ds);
    int k = dml_data_outputs(ds);
    /* repeat 0 loads the spectrum's points when they are more (dml_unit_train_points) */
    double N = (double)dml_unit_train_points(s, d, 0), M = (double)ds->n_test, D = (double)dml_shape_numel(&sh);
    out->cached = cached_bytes(s);
    /* x and y in double, labels in int (variant.c) */
    out->dataset = (N + M) * (8.0 * (D + k) + 4.0);
    /* eligible indices of both splits and the subset permutation (variant.c); a transform's copy of the larger
     * set and, for `orthogonal`, its D x D matrix (transform.c) */
    double tr = (double)(ds->train_images ? ds->train_images : (size_t)N), te = (double)(ds->test_images ? ds->test_images : (size_t)M);
    out->loading = 8.0 * (2.0 * tr + te);
    for (int t = 0; t < ds->ntransform; t++)
        out->loading = fmax(out->loading, 8.0 * fmax(N, M) * D + (ds->transform[t].kind == DML_TF_ORTHOGONAL ? 8.0 * D * D : 0));
    dml_layers *L = malloc(sizeof *L);
    int fits = L && dml_model_layers(&s->models[m], &sh, k, L, NULL) == 0;
    for (int i = 0; i < s->ninference; i++) {
        const dml_inference *inf = &s->inference[i];
        if (dml_method_is_kernel(inf->method)) {
            if (out->kernel > 0 || !fits) continue;
            /* the kernel stage: one tile at a time, then one solve at a time from the tiles (packed Gram, one
             * factor copy, streamed test rows), with the tile rows the runner chooses by default */
            out->kernel = dml_kernel_unit_bytes(&s->models[m], &sh, ds->n_train, (size_t)ds->nn_train, (size_t)M, k,
                                                threads, 0);
            /* the spectral readout comes first, on its own dense Gram of the spectrum's points (freed before the
             * tiles): that Gram with the engine's workspace, the eigendecomposition's workspace (dml_spectrum_bytes)
             * and the arrays of one arm kept while it is stored */
            if (s->spectrum_n) {
                out->spectrum = dml_spectrum_bytes(s->spectrum_n, (size_t)k, 0) + 8.0 * 3.0 * (double)s->spectrum_n;
                size_t Nk = dml_unit_train_points(s, d, 0);
                double dense = dml_kernel_memory_bytes(&s->models[m], &sh, Nk, Nk, 1, threads) + out->spectrum;
                out->kernel = fmax(out->kernel, dense);
            }
        } else if (fits) {
            double b = dml_train_memory_bytes(L, inf->precision, inf->method == DML_INF_GD ? (size_t)N : (size_t)inf->train.batch,
                                              (size_t)N, (size_t)M, threads);
            if (b > out->train) {
                out->train = b;
                out->train_inference = i;
            }
        }
    }
    if (s->audit.ngroups && fits) {
        double na = (double)s->audit.n_train, fits_max = 0;
        int orth = 0;
        for (int g = 0; g < s->audit.ngroups; g++) orth |= s->audit.groups[g].kind == DML_TF_ORTHOGONAL;
        for (int i = 0; i < s->ninference; i++) {
            const dml_inference *inf = &s->inference[i];
            double b = dml_method_is_kernel(inf->method)
                           ? audit_kernel_bytes(&s->models[m], &sh, (size_t)na, (size_t)M, k, threads)
                           : dml_train_memory_bytes(L, DML_F64, inf->method == DML_INF_GD ? (size_t)na
                                                                                       : (size_t)inf->train.batch,
                                                    (size_t)na, (size_t)M, threads);
            fits_max = fmax(fits_max, b);
        }
        out->audit = (na + M) * (8.0 * (D + k) + 4.0) + (orth ? 8.0 * D * D : 0) + 3.0 * 8.0 * M * k + fits_max;
    }
    free(L);
    /* the training stage's count already holds the inputs and targets (in both precisions) */
    out->total = out->cached + fmax(fmax(out->dataset + fmax(out->loading, out->kernel), out->train),
                                    out->dataset + out->audit);
}

/* Seconds per flop of the spectral readout (dml_spectrum_flops): its tridiagonal reduction is half matrix-vector
 * products, bound by memory bandwidth, far below the rate of the Cholesky solves (bench/bench_solve --method
 * spectrum, docs/spectrum.md). */
#define SEC_PER_FLOP_SPECTRUM 2e-10
/* Reading, decompressing and preprocessing a data set's files once (IDX, npy; bench/estimate.sh). */
#define SEC_PER_DATA_LOAD 0.4
/* Generating a synthetic data set (sphere, gaussian), per number of its inputs (bench/README.md, "Dry-run
 * estimate": the flat load time overestimated the synthetic examples 4 to 6 times). */
#define SEC_PER_SYNTHETIC_NUMBER 2e-8

/* The audit of one (data variant, model): per kernel arm, the kernels of D and of every g.D at audit.n_train
 * (and their solves); per trained arm the float64 trainings of each cell's measurement (dml_audit_trainings). */
static double audit_seconds(const dml_spec *s, const dml_model *mod, const dml_layers *L, const dml_shape *sh, int k,
                            size_t M, int threads)
{
    size_t na = s->audit.n_train;
    int ng = s->audit.ngroups;
    double t = 0, n = (double)na;
    for (int i = 0; i < s->ninference; i++) {
        const dml_inference *inf = &s->inference[i];
        if (dml_method_is_kernel(inf->method)) {
            dml_kernel_cost gram, cross;
            dml_kernel_cost_estimate(mod, sh, na, na, 1, threads, &gram);
            dml_kernel_cost_estimate(mod, sh, M, na, 0, threads, &cross);
            double solve = (n * n * n / 3.0 + 2.0 * n * n * k + 2.0 * (double)M * n * k) * DML_SEC_PER_SOLVE_FLOP;
            t += (ng + 1) * (gram.seconds + cross.seconds + solve);
            continue;
        }
        double one = dml_train_seconds(L, DML_F64, inf->train.method, na, M, inf->train.epochs, inf->train.batch,
                                       threads);
        int per_arm[3] = {0, 0, 0}, cells = 0;   /* the fits on D, shared by the cells of one method */
        for (int g = 0; g < ng; g++) {
            dml_audit_method am = dml_audit_method_for(L, inf->method, s->audit.groups[g].kind);
            cells += dml_audit_trainings(am, s->audit.seeds, 0);
            per_arm[am] = dml_audit_trainings(am, s->audit.seeds, 1);
        }
        t += one * (cells + per_arm[1] + per_arm[2]);
    }
    return t;
}

void dml_spec_cost(const dml_spec *s, int threads, dml_cost *out)
{
    if (threads < 1) threads = 1;
    double pairs = 0, duals = 0, seconds = 0, mem = 0, train_steps = 0, units = 0, spectra = 0, spectrum_flops = 0,
           audit = 0;
    /* the spectral readout: one eigendecomposition per kernel method (nngp, ntk) used, per (data, model), in repeat 0 */
    int methods[2] = {0, 0};
    for (int i = 0; i < s->ninference; i++)
        if (dml_method_is_kernel(s->inference[i].method)) methods[s->inference[i].method == DML_INF_NTK] = 1;
    double R = (double)s->repeats;
    int nkernel = 0;   /* kernel methods: they share one kernel per (data, model, repeat) */
    for (int i = 0; i < s->ninference; i++) nkernel += dml_method_is_kernel(s->inference[i].method);
    int any_kernel = nkernel > 0;
    for (int d = 0; d < s->ndata; d++) {
        const dml_data_spec *ds = &s->data[d];
        double N = (double)ds->n_train[ds->nn_train - 1], M = (double)ds->n_test;
        dml_shape sh = dml_data_shape(ds);
        int k = dml_data_outputs(ds);
        seconds += dml_source_is_synthetic(ds->source)
                       ? SEC_PER_SYNTHETIC_NUMBER * (N + M) * (double)dml_shape_numel(&sh)
                       : SEC_PER_DATA_LOAD;
        /* kernel arms: one unit per (data, model, repeat), the kernel of the largest n_train shared by every
         * kernel method and size */
        double solve = 0;
        for (int j = 0; any_kernel && j < ds->nn_train; j++) {
            double n = (double)ds->n_train[j];
            solve += n * n * n / 3.0 + 2.0 * n * n * k + 2.0 * M * n * k;
        }
        for (int mi = 0; mi < s->nmodels; mi++) {
            const dml_model *mod = &s->models[mi];
            dml_layers L;
            if (dml_model_layers(mod, &sh, k, &L, NULL)) continue;
            dml_unit_memory um;
            dml_unit_memory_estimate(s, d, mi, threads, &um);
            mem = fmax(mem, um.total);
            if (any_kernel && dml_spec_kernel_twin(s, mi) < 0) {   /* a width sweep's twins reuse the kernel */
                /* kernel arms on a `subset: head` variant compute one repeat (dml_spec_arm_repeats) */
                double R = ds->subset == DML_SUBSET_HEAD ? 1.0 : (double)s->repeats;
                dml_kernel_cost gram, cross;
                dml_kernel_cost_estimate(mod, &sh, (size_t)N, (size_t)N, 1, threads, &gram);
                dml_kernel_cost_estimate(mod, &sh, (size_t)M, (size_t)N, 0, threads, &cross);
                units += R;
                pairs += (gram.pairs + cross.pairs) * R;
                duals += (gram.dual_evaluations + cross.dual_evaluations) * R;
                seconds += R * (gram.seconds + cross.seconds + solve * nkernel * DML_SEC_PER_SOLVE_FLOP / (threads > 1 ? 1.6 : 1.0));
                if (s->spectrum_n) {
                    size_t Ns = s->spectrum_n, Nk = dml_unit_train_points(s, d, 0);
                    if (Nk > (size_t)N) {   /* repeat 0's Gram on the spectrum's points instead */
                        dml_kernel_cost big;
                        dml_kernel_cost_estimate(mod, &sh, Nk, Nk, 1, threads, &big);
                        pairs += big.pairs - gram.pairs;
                        duals += big.dual_evaluations - gram.dual_evaluations;
                        seconds += big.seconds - gram.seconds;
                    }
                    double f = (methods[0] + methods[1]) * dml_spectrum_flops(Ns, (size_t)k, 0);
                    spectra += methods[0] + methods[1];
                    spectrum_flops += f;
                    seconds += f * SEC_PER_FLOP_SPECTRUM;
                }
            }
            if (s->audit.ngroups) audit += audit_seconds(s, mod, &L, &sh, k, (size_t)M, threads);
            /* training arms: one unit per point (dml_train_seconds: the layers' own costs, core/layers/) */
            for (int i = 0; i < s->ninference; i++) {
                const dml_inference *inf = &s->inference[i];
                if (dml_method_is_kernel(inf->method)) continue;
                int epochs = inf->train.epochs;
                for (int j = 0; j < ds->nn_train; j++) {
                    double n = (double)ds->n_train[j];
                    units += R;
                    train_steps += R * (inf->method == DML_INF_GD ? epochs : epochs * ceil(n / inf->train.batch));
                    seconds += R * dml_train_seconds(&L, inf->precision, inf->train.method, ds->n_train[j], ds->n_test, epochs,
                                                     inf->train.batch, threads);
                }
            }
        }
    }
    out->points = (double)dml_spec_points(s);
    out->units = units;
    out->kernel_pairs = pairs;
    out->dual_evaluations = duals;
    out->training_steps = train_steps;
    out->memory_bytes = ceil(mem);
    out->spectra = spectra;
    out->spectrum_flops = spectrum_flops;
    out->seconds = seconds + audit;
    out->audit_seconds = audit;
}

cJSON *dml_cost_json(const dml_cost *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "points", c->points);
    cJSON_AddNumberToObject(o, "units", c->units);
    cJSON_AddNumberToObject(o, "kernel_pairs", c->kernel_pairs);
    cJSON_AddNumberToObject(o, "dual_evaluations", c->dual_evaluations);
    cJSON_AddNumberToObject(o, "training_steps", c->training_steps);
    cJSON_AddNumberToObject(o, "memory_bytes", c->memory_bytes);
    cJSON_AddNumberToObject(o, "spectra", c->spectra);
    cJSON_AddNumberToObject(o, "spectrum_flops", c->spectrum_flops);
    cJSON_AddNumberToObject(o, "estimated_seconds", c->seconds);
    cJSON_AddNumberToObject(o, "audit_seconds", c->audit_seconds);
    return o;
}

cJSON *dml_spec_cost_json(const dml_spec *s, int threads)
{
    dml_cost c;
    dml_spec_cost(s, threads, &c);
    return dml_cost_json(&c);
}
