/* Synthetic sources (sphere, gaussian) with teacher and local-polynomial targets and label noise; the
 * definitions, seeds and the polynomial family are in dmilab/synthetic.h. */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/nn.h"
#include "dmilab/rng.h"
#include "dmilab/synthetic.h"

#define TAG_INPUT 0x73796e7468696e70ULL  /* "synthinp" */
#define TAG_NOISE 0x73796e74686e6f69ULL  /* "synthnoi" */
#define TAG_POLY 0x6c6f63616c706f6cULL   /* "localpol" */
#define MAX_NUMEL ((size_t)1 << 24)

/* C(m, r), or SIZE_MAX once it exceeds `cap` (cap * m must fit size_t: here 2^16 * 2^24). */
static size_t binomial_capped(size_t m, size_t r, size_t cap)
{
    if (r > m) return 0;
    if (r > m - r) r = m - r;
    size_t c = 1;
    for (size_t i = 0; i < r; i++) {
        c = c * (m - i) / (i + 1);   /* exact: c becomes C(m, i + 1) */
        if (c > cap) return SIZE_MAX;
    }
    return c;
}

/* Window positions per axis (s) and numbers per window (m = s^nd * C). */
static size_t window_numbers(const dml_synthetic *s, size_t *Q)
{
    size_t q = 1;
    for (int a = 0; a < s->shape.nd; a++) q *= (size_t)s->target.support;
    *Q = q;
    return q * (size_t)s->shape.channels;
}

int dml_synthetic_check(const dml_synthetic *s, dml_error *err)
{
    const dml_shape *sh = &s->shape;
    if (sh->nd < 1 || sh->nd > 2 || sh->channels < 1)
        return dml_fail(err, DML_ERR_INVALID_SPEC, "shape", "shape must be [L, C] or [H, W, C] with C >= 1");
    size_t numel = (size_t)sh->channels;
    for (int a = 0; a < sh->nd; a++) {
        if (sh->size[a] < 1) return dml_fail(err, DML_ERR_INVALID_SPEC, "shape", "spatial sizes must be >= 1");
        numel *= (size_t)sh->size[a];
        if (numel > MAX_NUMEL) break;
    }
    if (numel > MAX_NUMEL)
        return dml_fail(err, DML_ERR_INVALID_SPEC, "shape", "an input holds more than %zu numbers", MAX_NUMEL);
    if (!isfinite(s->noise) || s->noise < 0)
        return dml_fail(err, DML_ERR_INVALID_SPEC, "noise", "noise must be a finite standard deviation >= 0");
    const dml_syn_target *t = &s->target;
    if (t->outputs < 1 || t->outputs > DML_SYN_MAX_OUTPUTS)
        return dml_fail(err, DML_ERR_INVALID_SPEC, "target.outputs", "outputs must be in [1, %d]", DML_SYN_MAX_OUTPUTS);
    if (t->kind == DML_TARGET_TEACHER) {
        dml_layers L;
        if (dml_model_layers(&t->model, sh, t->outputs, &L, err)) {
            char f[sizeof err->field];
            snprintf(f, sizeof f, "target.model%s%.100s", err->field[0] ? "." : "", err->field);
            memcpy(err->field, f, sizeof f);
            return -1;
        }
        return 0;
    }
    if (t->kind != DML_TARGET_LOCAL_POLYNOMIAL)
        return dml_fail(err, DML_ERR_INVALID_SPEC, "target.kind", "unknown target kind %d", (int)t->kind);
    for (int a = 0; a < sh->nd; a++)
        if (t->support < 1 || t->support > sh->size[a])
            return dml_fail(err, DML_ERR_INVALID_SPEC, "target.support",
                            "support must be in [1, %d] (at most the input's size on every axis), got %d", sh->size[a],
                            t->support);
    size_t Q, m = window_numbers(s, &Q);
    if (t->degree < 1 || (size_t)t->degree > m)
        return dml_fail(err, DML_ERR_INVALID_SPEC, "target.degree",
                        "degree must be in [1, %zu] (products of distinct coordinates of a window of %zu numbers)", m,
                        m);
    size_t terms = binomial_capped(m, (size_t)t->degree, DML_POLY_MAX_TERMS);
    if (terms > DML_POLY_MAX_TERMS)
        return dml_fail(err, DML_ERR_INVALID_SPEC, "target.degree",
                        "degree %d on windows of %zu numbers gives more than %d products", t->degree, m,
                        DML_POLY_MAX_TERMS);
    size_t copies = (size_t)t->outputs * (t->shared ? 1 : dml_shape_positions(sh));
    if (copies > DML_POLY_MAX_COEFFS / terms)
        return dml_fail(err, DML_ERR_INVALID_SPEC, t->shared ? "target.outputs" : "target.shared",
                        "%zu polynomials of %zu products exceed %zu coefficients", copies, terms, DML_POLY_MAX_COEFFS);
    return 0;
}

/* ---- inputs and noise ---- */

static void seed_example(dml_rng *r, uint64_t seed, uint64_t tag, uint64_t stream, size_t index)
{
    uint64_t keys[4] = {seed, tag, stream, (uint64_t)index};
    dml_rng_seed(r, keys, 4);
}

void dml_synthetic_inputs(const dml_synthetic *s, uint64_t seed, uint64_t stream, size_t first, size_t n, double *x)
{
    size_t P = dml_shape_positions(&s->shape), C = (size_t)s->shape.channels, D = P * C;
    for (size_t i = 0; i < n; i++) {
        dml_rng r;
        seed_example(&r, seed, TAG_INPUT, stream, first + i);
        double *v = x + i * D;
        if (s->input == DML_SYN_GAUSSIAN) {
            for (size_t j = 0; j < D; j++) v[j] = dml_rng_normal(&r);
            continue;
        }
        for (size_t p = 0; p < P; p++) {
            double *u = v + p * C, n2;
            do {   /* a normalised Gaussian vector is uniform on the sphere (a zero vector has probability 0) */
                n2 = 0.0;
                for (size_t c = 0; c < C; c++) {
                    u[c] = dml_rng_normal(&r);
                    n2 += u[c] * u[c];
                }
            } while (n2 == 0.0);
            if (C == 1) {   /* the sphere of radius 1 in R^1 is {-1, 1}: exactly */
                u[0] = u[0] < 0 ? -1.0 : 1.0;
                continue;
            }
            double scale = sqrt((double)C / n2);
            for (size_t c = 0; c < C; c++) u[c] *= scale;
        }
    }
}

void dml_synthetic_add_noise(const dml_synthetic *s, uint64_t seed, uint64_t stream, size_t first, size_t n,
                             double *y)
{
    if (s->noise == 0.0) return;
    size_t k = (size_t)s->target.outputs;
    for (size_t i = 0; i < n; i++) {
        dml_rng r;
        seed_example(&r, seed, TAG_NOISE, stream, first + i);
        for (size_t o = 0; o < k; o++) y[i * k + o] += s->noise * dml_rng_normal(&r);
    }
}

/* ---- targets ---- */

static int teacher_targets(const dml_synthetic *s, const double *x, size_t n, double *y, dml_error *err)
{
    const dml_syn_target *t = &s->target;
    dml_layers L;
    if (dml_model_layers(&t->model, &s->shape, t->outputs, &L, err)) return -1;
    dml_net *net = dml_net_create(&L, t->model.parameterization, DML_F64, t->seed, 1, 1, err);
    if (!net) return -1;
    size_t D = dml_shape_numel(&s->shape), k = (size_t)t->outputs;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) rc = dml_net_forward(net, x + i * D, 1, y + i * k, err);
    dml_net_free(net);
    return rc;
}

/* The local polynomials of a source, ready to evaluate. */
typedef struct {
    size_t P, C, Q, m, terms, k;
    int r, shared;
    size_t *nb;       /* P x Q: the input position at window offset q of position p */
    int *subset;      /* terms x r: the coordinates of each product, increasing */
    double *w;        /* k x (shared ? 1 : P) x terms: a_S / sd_S */
    double *u, *term; /* workspaces: m, P */
} local_poly;

static void poly_free(local_poly *lp)
{
    free(lp->nb);
    free(lp->subset);
    free(lp->w);
    free(lp->u);
    free(lp->term);
}

/* sd of prod_{j in S} u_j under the sphere distribution: per window position holding t of S's coordinates,
 * E prod u_c^2 = C^t / (C (C+2) ... (C + 2(t-1))) (Dirichlet(1/2, ..., 1/2) moments of u_c^2 / C). */
static double sphere_sd(const int *S, int r, size_t C)
{
    double var = 1.0;
    for (int j = 0; j < r;) {
        size_t q = (size_t)S[j] / C;
        int t = 0;
        while (j < r && (size_t)S[j] / C == q) t++, j++;   /* S is increasing: a position's coordinates adjoin */
        for (int i = 0; i < t; i++) var *= (double)C / ((double)C + 2.0 * i);
    }
    return sqrt(var);
}

static int poly_build(const dml_synthetic *s, local_poly *lp, dml_error *err)
{
    memset(lp, 0, sizeof *lp);
    if (dml_synthetic_check(s, err)) return -1;
    const dml_syn_target *t = &s->target;
    const dml_shape *sh = &s->shape;
    lp->P = dml_shape_positions(sh);
    lp->C = (size_t)sh->channels;
    lp->m = window_numbers(s, &lp->Q);
    lp->r = t->degree;
    lp->terms = binomial_capped(lp->m, (size_t)lp->r, DML_POLY_MAX_TERMS);
    lp->k = (size_t)t->outputs;
    lp->shared = t->shared != 0;
    size_t copies = lp->shared ? 1 : lp->P, r = (size_t)lp->r;
    lp->nb = malloc(sizeof *lp->nb * lp->P * lp->Q);
    lp->subset = malloc(sizeof *lp->subset * lp->terms * r);
    lp->w = malloc(sizeof *lp->w * lp->k * copies * lp->terms);
    lp->u = malloc(sizeof *lp->u * lp->m);
    lp->term = malloc(sizeof *lp->term * lp->P);
    if (!lp->nb || !lp->subset || !lp->w || !lp->u || !lp->term) {
        poly_free(lp);
        return dml_fail(err, DML_ERR_NOMEM, NULL, "local-polynomial target: out of memory");
    }
    /* windows: s positions per axis from p, wrapping around; offsets row-major */
    int S = t->support, H = sh->size[0], W = sh->nd > 1 ? sh->size[1] : 1;
    for (size_t p = 0; p < lp->P; p++) {
        int i0 = (int)(p / (size_t)W), i1 = (int)(p % (size_t)W);
        for (size_t q = 0; q < lp->Q; q++) {
            int d0 = sh->nd > 1 ? (int)q / S : (int)q, d1 = sh->nd > 1 ? (int)q % S : 0;
            lp->nb[p * lp->Q + q] = (size_t)((i0 + d0) % H) * (size_t)W + (size_t)((i1 + d1) % W);
        }
    }
    /* the r-subsets of 0..m-1 in lexicographic order */
    int *cur = lp->subset;
    for (size_t j = 0; j < r; j++) cur[j] = (int)j;
    for (size_t n = 1; n < lp->terms; n++) {
        int *next = cur + r;
        memcpy(next, cur, sizeof *next * r);
        size_t j = r;
        while (j > 0 && next[j - 1] == (int)(lp->m - r + j - 1)) j--;
        next[j - 1]++;
        for (size_t i = j; i < r; i++) next[i] = next[i - 1] + 1;
        cur = next;
    }
    /* coefficients: N(0, 1) normalised to unit length, divided by each product's sd */
    for (size_t o = 0; o < lp->k; o++)
        for (size_t c = 0; c < copies; c++) {
            dml_rng rg;
            uint64_t keys[4] = {t->seed, TAG_POLY, (uint64_t)o, (uint64_t)c};
            dml_rng_seed(&rg, keys, lp->shared ? 3 : 4);
            double *w = lp->w + (o * copies + c) * lp->terms, n2 = 0.0;
            do {
                n2 = 0.0;
                for (size_t j = 0; j < lp->terms; j++) {
                    w[j] = dml_rng_normal(&rg);
                    n2 += w[j] * w[j];
                }
            } while (n2 == 0.0);
            double inv = 1.0 / sqrt(n2);
            for (size_t j = 0; j < lp->terms; j++)
                w[j] *= inv / (s->input == DML_SYN_SPHERE ? sphere_sd(lp->subset + j * r, lp->r, lp->C) : 1.0);
        }
    return 0;
}

/* The correctly rounded sum of v[0..n) (Shewchuk 1997, "Adaptive precision floating-point arithmetic and fast
 * robust geometric predicates", Discrete Comput. Geom. 18; the algorithm of Python's math.fsum): a function of
 * the multiset of the terms alone, so a permutation of the terms (a translation of the input) gives the same
 * sum bit for bit, and so does their negation (the sum negated). Finite terms. */
static double exact_sum(const double *v, size_t n)
{
    double partials[64];   /* non-overlapping, increasing: at most 2098 / 53 + 1 of them */
    size_t np = 0;
    for (size_t k = 0; k < n; k++) {
        double x = v[k];
        size_t i = 0;
        for (size_t j = 0; j < np; j++) {
            double y = partials[j];
            if (fabs(x) < fabs(y)) {
                double t = x;
                x = y;
                y = t;
            }
            double hi = x + y, lo = y - (hi - x);
            if (lo != 0.0) partials[i++] = lo;
            x = hi;
        }
        assert(i < sizeof partials / sizeof partials[0]);
        partials[i] = x;
        np = i + 1;
    }
    /* round the exact sum of the partials once, correctly (half-way cases included) */
    if (np == 0) return 0.0;
    size_t m = np - 1;
    double hi = partials[m], lo = 0.0;
    while (m > 0) {
        double x = hi, y = partials[--m];
        hi = x + y;
        lo = y - (hi - x);
        if (lo != 0.0) break;
    }
    if (m > 0 && ((lo < 0 && partials[m - 1] < 0) || (lo > 0 && partials[m - 1] > 0))) {
        double y = lo * 2, x = hi + y;
        if (y == x - hi) hi = x;
    }
    return hi;
}

static void poly_eval(local_poly *lp, const double *x, double *y)
{
    size_t r = (size_t)lp->r, C = lp->C;
    double norm = sqrt((double)lp->P);
    for (size_t o = 0; o < lp->k; o++) {
        for (size_t p = 0; p < lp->P; p++) {
            for (size_t q = 0; q < lp->Q; q++) memcpy(lp->u + q * C, x + lp->nb[p * lp->Q + q] * C, sizeof *lp->u * C);
            const double *w = lp->w + (o * (lp->shared ? 1 : lp->P) + (lp->shared ? 0 : p)) * lp->terms;
            double f = 0.0;
            for (size_t j = 0; j < lp->terms; j++) {
                const int *S = lp->subset + j * r;
                double prod = lp->u[S[0]];
                for (size_t i = 1; i < r; i++) prod *= lp->u[S[i]];
                f += w[j] * prod;
            }
            lp->term[p] = f;
        }
        y[o] = exact_sum(lp->term, lp->P) / norm;
    }
}

int dml_synthetic_targets(const dml_synthetic *s, const double *x, size_t n, double *y, dml_error *err)
{
    if (dml_synthetic_check(s, err)) return -1;
    if (s->target.kind == DML_TARGET_TEACHER) return teacher_targets(s, x, n, y, err);
    local_poly lp;
    if (poly_build(s, &lp, err)) return -1;
    size_t D = dml_shape_numel(&s->shape);
    for (size_t i = 0; i < n; i++) poly_eval(&lp, x + i * D, y + i * lp.k);
    poly_free(&lp);
    return 0;
}

static int make_set(const dml_synthetic *s, uint64_t seed, uint64_t stream, size_t n, int noisy, dml_dataset *d,
                    dml_error *err)
{
    memset(d, 0, sizeof *d);
    d->n = n;
    d->shape = s->shape;
    d->k = s->target.outputs;
    size_t D = dml_shape_numel(&s->shape);
    d->x = malloc(sizeof *d->x * (n * D + 1));
    d->y = malloc(sizeof *d->y * (n * (size_t)d->k + 1));
    if (!d->x || !d->y) {
        dml_dataset_free(d);
        return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory for %zu synthetic inputs", n);
    }
    dml_synthetic_inputs(s, seed, stream, 0, n, d->x);
    if (dml_synthetic_targets(s, d->x, n, d->y, err)) {
        dml_dataset_free(d);
        return -1;
    }
    if (noisy) dml_synthetic_add_noise(s, seed, stream, 0, n, d->y);
    return 0;
}

int dml_synthetic_load(const dml_synthetic *s, uint64_t seed, int repeat, size_t n_train, size_t n_test,
                       dml_dataset *train, dml_dataset *test, dml_error *err)
{
    if (dml_synthetic_check(s, err)) return -1;
    if (repeat < 0) return dml_fail(err, DML_ERR_INVALID_SPEC, "repeat", "repeat must be >= 0");
    if (make_set(s, seed, 1 + (uint64_t)repeat, n_train, 1, train, err)) return -1;
    if (make_set(s, seed, 0, n_test, 0, test, err)) {
        dml_dataset_free(train);
        return -1;
    }
    return 0;
}
