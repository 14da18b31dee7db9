/* Input transforms as group elements (DESIGN 2.2): orthogonality, bijectivity, inverses, translation
 * identities, the pull-back of first-layer weights, per-example translation, and the results of the first
 * implementation kept bit for bit. */
#include <string.h>
#include "dmilab/nn.h"
#include "dmilab/rng.h"
#include "dmilab/transform.h"
#include "../core/data/variant.h"
#include "check.h"

static const char *const kind_name[] = {"orthogonal", "permutation", "local-orthogonal", "channel-orthogonal",
                                        "translation", "signed-permutation"};

static dml_rng rng;

static double *randn(size_t n)
{
    double *x = malloc(sizeof *x * (n + 1));
    for (size_t i = 0; i < n; i++) x[i] = dml_rng_normal(&rng);
    return x;
}

/* max |A A^T - I| over a d x d row-major matrix */
static double orthogonality_error(const double *a, size_t d)
{
    double worst = 0.0;
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++) {
            double s = 0.0;
            for (size_t k = 0; k < d; k++) s += a[i * d + k] * a[j * d + k];
            worst = fmax(worst, fabs(s - (i == j)));
        }
    return worst;
}

static int is_permutation(const size_t *v, size_t n)
{
    char *seen = calloc(n + 1, 1);
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) {
        ok = v[i] < n && !seen[v[i]];
        if (ok) seen[v[i]] = 1;
    }
    free(seen);
    return ok;
}

static double max_abs_diff(const double *a, const double *b, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i] - b[i]));
    return m;
}

/* Results of the first implementation of dml_transform_apply (before group elements), inputs
 * x[i] = ((37 i) mod 101) / 16 - 3 for 3 inputs, seed 11 + 7 kind: outputs x[0], x[5], x[10], x[15]. */
static const double golden[3][6][4] = {
    {{-0x1.6db97d023acebp+0, 0x1.19a7b3c9d0c47p+0, -0x1.023464ffdd68p+0, -0x1.80037dc51b261p+0},
     {0x1.38p+1, -0x1.68p+1, -0x1p-1, -0x1.6p-1},
     {-0x1.591d972a47403p+1, -0x1.1c563cfe2943bp+1, 0x1.5eddba7d9bdc4p+1, 0x1.88ef4619b8cfdp+0},
     {-0x1.7b5f3909754bep+1, -0x1.1f4abc4767ff2p+1, 0x1.51f4267783887p+0, -0x1.525aceb77d5bp-6},
     {0x1.8p-1, -0x1.4p-2, -0x1p-4, -0x1.6p-1},
     {0x1.4p-2, -0x1.9p+0, -0x1.2p+1, 0x1.5p+1}},
    {{-0x1.a786ce6c8b99p+1, -0x1.b27b1947efec9p+0, -0x1.54d9b0a26f1e6p-1, 0x1.04f2d2482b4dfp+1},
     {-0x1p-1, -0x1.68p+1, 0x1.2p-1, 0x1.5p+1},
     {-0x1.44eb64390de06p+1, 0x1.2877eccc5e545p-1, 0x1.381b02b1f63dp+1, -0x1.d7304bea55496p-2},
     {-0x1.431cf3059c987p+1, 0x1.6366e258401ddp-2, -0x1.6d13397ab6096p+1, -0x1.8b48069a998ep-1},
     {-0x1p-1, 0x1.ap+0, 0x1.2p-1, 0x1.5p+1},
     {-0x1.18p+1, 0x1.3p+0, -0x1p-4, 0x1.ep-1}},
    {{-0x1.008c355847402p+1, 0x1.491aa3305322bp-4, 0x1.13ee71add8639p+2, -0x1.679099dc4115fp+1},
     {0x1.2p-1, -0x1.68p+1, 0x1p-3, 0x1.2p+1},
     {0x1.8p+1, -0x1.2p+1, 0x1.3p+0, 0x1p-3},
     {0x1.8p+1, -0x1.2p+1, -0x1.3p+0, -0x1p-3},
     {0x1.dp+0, 0x1.ap+0, 0x1.2p-1, 0x1.7p+1},
     {0x1.ap+0, 0x1p-1, 0x1.3p+0, -0x1.cp+0}},
};

static void first_implementation_kept(void)
{
    dml_shape shapes[3] = {{2, {3, 4}, 2}, {1, {5}, 3}, {2, {4, 4}, 1}};
    for (int s = 0; s < 3; s++)
        for (int k = 0; k < 6; k++) {
            size_t D = dml_shape_numel(&shapes[s]), n = 3;
            double *x = malloc(sizeof *x * n * D);
            for (size_t i = 0; i < n * D; i++) x[i] = (double)((i * 37) % 101) / 16.0 - 3.0;
            dml_transform t = {.kind = (dml_transform_kind)k, .seed = 11 + 7 * (uint64_t)k};
            dml_error err = {0};
            CHECK(dml_transform_apply(&t, &shapes[s], x, n, &err) == 0, "%s: %s", kind_name[k], err.message);
            /* Haar draws go through LAPACK and BLAS, whose rounding may differ between CPUs; the rest is exact */
            int haar = k == DML_TF_ORTHOGONAL ||
                       ((k == DML_TF_LOCAL_ORTHOGONAL || k == DML_TF_CHANNEL_ORTHOGONAL) && shapes[s].channels > 1);
            int ok = 1;
            for (int i = 0; i < 4; i++) {
                double v = x[i * 5 % (n * D)];
                ok &= haar ? close_rel(v, golden[s][k][i], 1e-12) : v == golden[s][k][i];
            }
            CHECK(ok, "shape %d %s: the first implementation's results (%a %a %a %a)", s, kind_name[k], x[0], x[5],
                  x[10], x[15 % (n * D)]);
            free(x);
        }
}

/* Every kind on one shape: orthogonal matrix, bijective maps, apply == matrix, inverse, determinism. */
static void group_element(dml_transform_kind kind, const dml_shape *s)
{
    char what[96];
    if (s->nd == 2) snprintf(what, sizeof what, "%s on %dx%dx%d", kind_name[kind], s->size[0], s->size[1], s->channels);
    else if (s->nd == 1) snprintf(what, sizeof what, "%s on %dx%d", kind_name[kind], s->size[0], s->channels);
    else snprintf(what, sizeof what, "%s on flat %d", kind_name[kind], s->channels);
    dml_group_elem g, g2, g3;
    dml_error err = {0};
    if (dml_group_draw(kind, 5, s, &g, &err)) {
        CHECK(0, "%s: draw: %s", what, err.message);
        return;
    }
    size_t D = g.D, P = g.P, C = g.C, n = 4;
    CHECK(D == dml_shape_numel(s) && P == dml_shape_positions(s), "%s: sizes", what);
    double *G = malloc(sizeof *G * D * D);
    dml_group_matrix(&g, G);
    double e = orthogonality_error(G, D);
    CHECK(e <= 1e-12, "%s: G G^T = I (error %.3g)", what, e);
    if (g.blocks) {
        size_t nb = kind == DML_TF_LOCAL_ORTHOGONAL ? P : 1;
        double worst = 0.0;
        for (size_t b = 0; b < nb; b++) worst = fmax(worst, orthogonality_error(g.blocks + b * C * C, C));
        CHECK(worst <= 1e-12, "%s: every O(C) block orthogonal (error %.3g)", what, worst);
    }
    if (kind == DML_TF_PERMUTATION) CHECK(is_permutation(g.perm, P), "%s: the position map is a bijection", what);
    if (g.src) CHECK(is_permutation(g.src, D), "%s: the coordinate map is a bijection", what);
    if (g.sign) {
        int ok = 1;
        for (size_t i = 0; i < D; i++) ok &= g.sign[i] == 1.0 || g.sign[i] == -1.0;
        CHECK(ok, "%s: signs are +-1", what);
    }
    if (kind == DML_TF_TRANSLATION) {
        int ok = 1;
        for (int a = 0; a < s->nd; a++) ok &= g.shift[a] >= 0 && g.shift[a] < s->size[a];
        CHECK(ok, "%s: shift within the sizes", what);
    }
    /* exact kinds: signed coordinate maps and the C = 1 sign flips */
    int exact = kind != DML_TF_ORTHOGONAL && !(g.blocks && C > 1);

    double *x = randn(n * D), *y = malloc(sizeof *y * n * D), *z = malloc(sizeof *z * n * D);
    memcpy(y, x, sizeof *y * n * D);
    CHECK(dml_group_apply(&g, y, n, &err) == 0, "%s: apply", what);
    for (size_t k = 0; k < n; k++)
        for (size_t i = 0; i < D; i++) {
            double v = 0.0;
            for (size_t j = 0; j < D; j++) v += G[i * D + j] * x[k * D + j];
            z[k * D + i] = v;
        }
    double d = max_abs_diff(y, z, n * D);
    CHECK(exact ? d == 0.0 : d <= 1e-12, "%s: apply equals G x (%.3g)", what, d);
    double nx = 0.0, ny = 0.0;
    for (size_t i = 0; i < n * D; i++) nx += x[i] * x[i], ny += y[i] * y[i];
    CHECK(close_rel(nx, ny, 1e-13), "%s: norms kept (%.17g, %.17g)", what, nx, ny);
    CHECK(dml_group_apply_inverse(&g, y, n, &err) == 0, "%s: inverse", what);
    d = max_abs_diff(y, x, n * D);
    CHECK(exact ? d == 0.0 : d <= 1e-12, "%s: the inverse restores the input (%.3g)", what, d);
    /* the inverse on the other side too: g (g^-1 x) = x */
    memcpy(y, x, sizeof *y * n * D);
    dml_group_apply_inverse(&g, y, n, &err);
    dml_group_apply(&g, y, n, &err);
    d = max_abs_diff(y, x, n * D);
    CHECK(exact ? d == 0.0 : d <= 1e-12, "%s: g g^-1 = identity (%.3g)", what, d);

    /* the same seed draws the same element, another seed another one (unless the group is trivial) */
    CHECK(dml_group_draw(kind, 5, s, &g2, &err) == 0 && dml_group_draw(kind, 6, s, &g3, &err) == 0, "%s: redraw", what);
    double *G2 = malloc(sizeof *G2 * D * D), *G3 = malloc(sizeof *G3 * D * D);
    dml_group_matrix(&g2, G2);
    dml_group_matrix(&g3, G3);
    CHECK(memcmp(G, G2, sizeof *G * D * D) == 0, "%s: same seed, same element", what);
    int trivial = (kind == DML_TF_CHANNEL_ORTHOGONAL && C == 1) || (kind == DML_TF_PERMUTATION && P == 1);
    if (!trivial) CHECK(memcmp(G, G3, sizeof *G * D * D) != 0, "%s: another seed, another element", what);
    dml_group_free(&g2);
    dml_group_free(&g3);
    free(G2);
    free(G3);
    free(G);
    free(x);
    free(y);
    free(z);
    dml_group_free(&g);
}

static void translations(void)
{
    dml_error err = {0};
    /* by hand: 1D, L = 4, C = 1: (g.x)[p] = x[p + 1] */
    dml_shape s1 = {1, {4}, 1};
    dml_group_elem g;
    CHECK(dml_group_translation(&s1, (int[]){1}, &g, &err) == 0, "translation by 1");
    double x[4] = {0, 1, 2, 3};
    dml_group_apply(&g, x, 1, &err);
    CHECK(x[0] == 1 && x[1] == 2 && x[2] == 3 && x[3] == 0, "shift by 1: %g %g %g %g", x[0], x[1], x[2], x[3]);
    dml_group_free(&g);

    dml_shape shapes[2] = {{1, {7}, 3}, {2, {4, 5}, 2}};
    for (int k = 0; k < 2; k++) {
        const dml_shape *s = &shapes[k];
        size_t D = dml_shape_numel(s), n = 3;
        double *x0 = randn(n * D), *a = malloc(sizeof *a * n * D), *b = malloc(sizeof *b * n * D);
        /* a translation by the full length on every axis is the identity */
        int full[2] = {s->size[0], s->nd > 1 ? s->size[1] : 0};
        dml_group_translation(s, full, &g, &err);
        memcpy(a, x0, sizeof *a * n * D);
        dml_group_apply(&g, a, n, &err);
        CHECK(memcmp(a, x0, sizeof *a * n * D) == 0, "shape %d: translation by the full length is the identity", k);
        dml_group_free(&g);
        /* shift by u then by v = shift by u + v; shift by -u = the inverse of shift by u */
        int u[2] = {2, 3}, v[2] = {6, -1}, uv[2] = {8, 2}, mu[2] = {-2, -3};
        dml_group_elem gu, gv, guv, gmu;
        dml_group_translation(s, u, &gu, &err);
        dml_group_translation(s, v, &gv, &err);
        dml_group_translation(s, uv, &guv, &err);
        dml_group_translation(s, mu, &gmu, &err);
        memcpy(a, x0, sizeof *a * n * D);
        memcpy(b, x0, sizeof *b * n * D);
        dml_group_apply(&gu, a, n, &err);
        dml_group_apply(&gv, a, n, &err);
        dml_group_apply(&guv, b, n, &err);
        CHECK(memcmp(a, b, sizeof *a * n * D) == 0, "shape %d: shifts compose additively", k);
        memcpy(a, x0, sizeof *a * n * D);
        memcpy(b, x0, sizeof *b * n * D);
        dml_group_apply(&gmu, a, n, &err);
        dml_group_apply_inverse(&gu, b, n, &err);
        CHECK(memcmp(a, b, sizeof *a * n * D) == 0, "shape %d: shift by -u is the inverse of shift by u", k);
        dml_group_free(&gu);
        dml_group_free(&gv);
        dml_group_free(&guv);
        dml_group_free(&gmu);
        free(x0);
        free(a);
        free(b);
    }
    dml_shape flat = {0, {0}, 5};
    CHECK(dml_group_draw(DML_TF_TRANSLATION, 1, &flat, &g, &err) == -1 && !strcmp(err.field, "shape"),
          "translation of flat vectors is an error naming the shape: %s", err.message);
}

/* Pull-back: a network whose first layer's weights are pulled back through g computes on g.x what the
 * original computes on x (float64, to rounding); without the pull-back it does not. */
static void pullback(dml_arch arch, dml_padding pad, int stride, dml_transform_kind kind, const dml_shape *s)
{
    char what[128];
    snprintf(what, sizeof what, "pull-back %s into %s (%s, stride %d, C=%d, %dD)", kind_name[kind],
             dml_arch_name(arch), dml_padding_name(pad), stride, s->channels, s->nd);
    dml_model m;
    dml_model_defaults(&m);
    m.arch = arch;
    m.padding = pad;
    m.width = 6;
    m.depth = pad == DML_PAD_VALID ? 1 : 2;   /* two 'valid' layers leave nothing of these small inputs */
    m.b_std = 0.2;
    m.stride[0] = m.stride[1] = stride;
    m.nstride = 1;
    dml_layers L;
    dml_error err = {0};
    if (dml_model_layers(&m, s, 3, &L, &err)) {
        CHECK(0, "%s: layers: %s", what, err.message);
        return;
    }
    dml_net *a = dml_net_create(&L, DML_PARAM_NTK, DML_F64, 17, 1, 0, &err);
    dml_net *b = dml_net_create(&L, DML_PARAM_NTK, DML_F64, 17, 1, 0, &err);
    int first = L.layer[0].kind == DML_LAYER_FLATTEN ? 1 : 0;
    size_t np = dml_net_num_params(a), w_off, nw, D = dml_shape_numel(s), n = 5;
    double *theta = malloc(sizeof *theta * np);
    dml_net_get_params(a, theta);
    dml_net_layer_params(a, first, &w_off, &nw, NULL, NULL);
    dml_group_elem g;
    dml_group_draw(kind, 23, s, &g, &err);
    if (kind == DML_TF_TRANSLATION && g.shift[0] == 0 && g.shift[1] == 0) {   /* drew the identity: another */
        dml_group_free(&g);
        dml_group_draw(kind, 24, s, &g, &err);
    }
    CHECK(dml_group_absorbed_by(kind, L.layer[first].kind), "%s: absorbable", what);
    CHECK(dml_group_pullback(&g, &L.layer[first], theta + w_off, &err) == 0, "%s: %s", what, err.message);
    dml_net_set_params(b, theta);
    double *x = randn(n * D), *gx = malloc(sizeof *gx * n * D), fa[15], fb[15], fc[15];
    memcpy(gx, x, sizeof *gx * n * D);
    dml_group_apply(&g, gx, n, &err);
    dml_net_forward(a, x, n, fa, &err);
    dml_net_forward(b, gx, n, fb, &err);
    dml_net_forward(a, gx, n, fc, &err);
    double scale = 0.0;
    for (int i = 0; i < 15; i++) scale = fmax(scale, fabs(fa[i]));
    double d = max_abs_diff(fa, fb, 15) / scale, dc = max_abs_diff(fa, fc, 15) / scale;
    CHECK(d <= 1e-12, "%s: f(g.x; pulled-back W) = f(x; W) (rel %.3g)", what, d);
    /* (channel-orthogonal with C = 1 is x -> -x, which a relu network without the pull-back still feels) */
    CHECK(dc > 1e-6, "%s: without the pull-back the outputs differ (rel %.3g)", what, dc);
    dml_group_free(&g);
    free(theta);
    free(x);
    free(gx);
    dml_net_free(a);
    dml_net_free(b);
}

static void not_absorbable(dml_arch arch, dml_transform_kind kind, const dml_shape *s)
{
    dml_model m;
    dml_model_defaults(&m);
    m.arch = arch;
    m.width = 4;
    dml_layers L;
    dml_error err = {0};
    dml_model_layers(&m, s, 2, &L, &err);
    dml_group_elem g;
    dml_group_draw(kind, 3, s, &g, &err);
    double *w = calloc(100000, sizeof *w);
    CHECK(!dml_group_absorbed_by(kind, L.layer[0].kind), "%s into %s: not absorbable", kind_name[kind],
          dml_arch_name(arch));
    CHECK(dml_group_pullback(&g, &L.layer[0], w, &err) == -1 && err.code == DML_ERR_INVALID_SPEC &&
              strstr(err.message, kind_name[kind]),
          "%s into %s: a clear error (%s)", kind_name[kind], dml_arch_name(arch), err.message);
    dml_group_free(&g);
    free(w);
}

static void per_example(void)
{
    dml_error err = {0};
    dml_shape s = {2, {4, 6}, 2};
    size_t D = dml_shape_numel(&s), n = 40;
    double *x = randn(n * D), *y = malloc(sizeof *y * n * D), *z = malloc(sizeof *z * n * D);
    memcpy(y, x, sizeof *y * n * D);
    CHECK(dml_translate_each(&s, y, n, 9, 1, 0, 0, &err) == 0, "per-example: %s", err.message);
    /* input i is the translation of x_i by its own shift */
    int ok = 1, distinct = 0, first_shift[2];
    for (size_t i = 0; i < n; i++) {
        int sh[2];
        dml_translate_each_shift(&s, 9, 1, i, 0, sh);
        if (i == 0) memcpy(first_shift, sh, sizeof sh);
        distinct += sh[0] != first_shift[0] || sh[1] != first_shift[1];
        dml_group_elem g;
        dml_group_translation(&s, sh, &g, &err);
        memcpy(z, x + i * D, sizeof *z * D);
        dml_group_apply(&g, z, 1, &err);
        ok &= memcmp(z, y + i * D, sizeof *z * D) == 0;
        dml_group_free(&g);
    }
    CHECK(ok, "per-example: each input translated by dml_translate_each_shift");
    CHECK(distinct > (int)n / 2, "per-example: the shifts differ between inputs (%d of %zu differ from the first)",
          distinct, n);
    /* nested: the first 10 of a larger array, and a slice given by `first`, see the same shifts */
    memcpy(z, x, sizeof *z * 10 * D);
    dml_translate_each(&s, z, 10, 9, 1, 0, 0, &err);
    CHECK(memcmp(z, y, sizeof *z * 10 * D) == 0, "per-example: nested sizes keep their shifts");
    memcpy(z, x + 25 * D, sizeof *z * 5 * D);
    dml_translate_each(&s, z, 5, 9, 1, 25, 0, &err);
    CHECK(memcmp(z, y + 25 * D, sizeof *z * 5 * D) == 0, "per-example: a slice from `first` has the same shifts");
    memcpy(z, x, sizeof *z * n * D);
    dml_translate_each(&s, z, n, 9, 2, 0, 0, &err);
    CHECK(memcmp(z, y, sizeof *z * n * D) != 0, "per-example: another stream, other shifts");

    /* uniform over the torus: every shift of a 1D axis of 8 equally often (chi-square, 7 degrees of freedom) */
    dml_shape s1 = {1, {8}, 1};
    long counts[8] = {0}, N = 16000;
    for (long i = 0; i < N; i++) {
        int sh;
        dml_translate_each_shift(&s1, 4, 0, (size_t)i, 0, &sh);
        counts[sh]++;
    }
    double chi2 = 0.0;
    for (int k = 0; k < 8; k++) chi2 += (counts[k] - N / 8.0) * (counts[k] - N / 8.0) / (N / 8.0);
    CHECK(chi2 < 24.3, "per-example: uniform shifts (chi-square %.2f, 7 dof, p = 0.001 at 24.3)", chi2);
    /* max_shift m: shifts within -m..m (mod size), every one of them reached */
    long seen[8] = {0};
    for (long i = 0; i < 2000; i++) {
        int sh;
        dml_translate_each_shift(&s1, 4, 0, (size_t)i, 2, &sh);
        seen[sh]++;
    }
    CHECK(seen[0] && seen[1] && seen[2] && seen[6] && seen[7] && !seen[3] && !seen[4] && !seen[5],
          "per-example max_shift 2: shifts -2..2 only (%ld %ld %ld %ld %ld %ld %ld %ld)", seen[0], seen[1], seen[2],
          seen[3], seen[4], seen[5], seen[6], seen[7]);

    /* the distribution becomes translation-invariant: copies of one off-centre image, shifted per example,
     * have the same mean at every position (within 5 standard errors) */
    size_t m = 20000, P = 8;
    double *img = calloc(m * P, sizeof *img);
    for (size_t i = 0; i < m; i++) img[i * P + 1] = 1.0;   /* a single bright pixel at position 1 */
    dml_translate_each(&s1, img, m, 5, 0, 0, 0, &err);
    double se = sqrt((1.0 / P) * (1 - 1.0 / P) / (double)m), worst = 0.0;
    for (size_t p = 0; p < P; p++) {
        double mean = 0.0;
        for (size_t i = 0; i < m; i++) mean += img[i * P + p];
        worst = fmax(worst, fabs(mean / (double)m - 1.0 / P));
    }
    CHECK(worst < 5 * se, "per-example: position means equal (worst deviation %.4f, 5 se = %.4f)", worst, 5 * se);
    free(img);

    CHECK(dml_translate_each(&s, y, 1, 9, 1, 0, -1, &err) == -1 && !strcmp(err.field, "max_shift"),
          "negative max_shift: an error naming it");
    dml_shape flat = {0, {0}, 4};
    CHECK(dml_translate_each(&flat, y, 1, 9, 1, 0, 0, &err) == -1 && !strcmp(err.field, "shape"),
          "flat inputs: an error naming the shape");
    free(x);
    free(y);
    free(z);
}

int main(void)
{
    uint64_t seed = 2022;
    dml_rng_seed(&rng, &seed, 1);
    first_implementation_kept();
    dml_shape shapes[4] = {{1, {6}, 3}, {2, {3, 4}, 2}, {2, {4, 4}, 1}, {0, {0}, 7}};
    for (int s = 0; s < 4; s++)
        for (int k = 0; k < 6; k++)
            if (!(k == DML_TF_TRANSLATION && shapes[s].nd == 0)) group_element((dml_transform_kind)k, &shapes[s]);
    translations();

    dml_shape s1 = {1, {7}, 3}, s2 = {2, {5, 4}, 2}, s1c1 = {2, {4, 4}, 1};
    for (int k = 0; k < 6; k++) {
        pullback(DML_ARCH_FCN, DML_PAD_SAME, 1, (dml_transform_kind)k, &s1);
        pullback(DML_ARCH_FCN, DML_PAD_SAME, 1, (dml_transform_kind)k, &s2);
    }
    const dml_shape *sp[3] = {&s1, &s2, &s1c1};
    for (int i = 0; i < 3; i++)
        for (int pad = 0; pad < 3; pad++) {
            for (int stride = 1; stride <= 2; stride++) {
                pullback(DML_ARCH_LCN, (dml_padding)pad, stride, DML_TF_LOCAL_ORTHOGONAL, sp[i]);
                pullback(DML_ARCH_LCN, (dml_padding)pad, stride, DML_TF_CHANNEL_ORTHOGONAL, sp[i]);
            }
            pullback(DML_ARCH_CNN_VEC, (dml_padding)pad, 1, DML_TF_CHANNEL_ORTHOGONAL, sp[i]);
            pullback(DML_ARCH_CNN_GAP, (dml_padding)pad, 2, DML_TF_CHANNEL_ORTHOGONAL, sp[i]);
        }
    not_absorbable(DML_ARCH_CNN_VEC, DML_TF_ORTHOGONAL, &s2);
    not_absorbable(DML_ARCH_CNN_VEC, DML_TF_LOCAL_ORTHOGONAL, &s2);
    not_absorbable(DML_ARCH_LCN, DML_TF_PERMUTATION, &s2);
    not_absorbable(DML_ARCH_LCN, DML_TF_TRANSLATION, &s1);
    not_absorbable(DML_ARCH_CNN_GAP, DML_TF_SIGNED_PERMUTATION, &s1);
    per_example();
    return check_summary("transform");
}
