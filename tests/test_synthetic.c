/* Synthetic sources (dmilab/synthetic.h): sphere and gaussian moments and norms, teacher targets equal to the
 * finite network's forward pass, local-polynomial targets (exact translation invariance when shared, degree,
 * normalisation), label noise on training targets only, nested and reproducible data sets, and validation. */
#include <string.h>
#include "dmilab/nn.h"
#include "dmilab/synthetic.h"
#include "dmilab/transform.h"
#include "check.h"

/* Mean and standard error of n per-unit values. */
typedef struct {
    double mean, se;
} stat;

static stat summarise(const double *v, size_t n)
{
    double m = 0.0, s = 0.0;
    for (size_t i = 0; i < n; i++) m += v[i];
    m /= (double)n;
    for (size_t i = 0; i < n; i++) s += (v[i] - m) * (v[i] - m);
    return (stat){m, sqrt(s / (double)(n - 1) / (double)n)};
}

/* Check |mean - want| <= 5 standard errors (a false alarm has probability 6e-7) and print the measurement. */
static void moment(const char *what, const double *v, size_t n, double want)
{
    stat st = summarise(v, n);
    printf("  %-52s %10.5f (expected %.5f, se %.5f)\n", what, st.mean, want, st.se);
    CHECK(fabs(st.mean - want) <= 5 * st.se, "%s: %.5f, expected %.5f +- 5 x %.5f", what, st.mean, want, st.se);
}

static dml_synthetic source(dml_syn_input in, dml_shape shape)
{
    dml_synthetic s;
    memset(&s, 0, sizeof s);
    s.input = in;
    s.shape = shape;
    s.target.kind = DML_TARGET_LOCAL_POLYNOMIAL;
    s.target.outputs = 1;
    s.target.seed = 3;
    s.target.degree = 2;
    s.target.support = 1;
    s.target.shared = 1;
    dml_model_defaults(&s.target.model);
    return s;
}

static void input_moments(void)
{
    size_t N = 20000, P = 8, C = 3, D = P * C;
    dml_synthetic s = source(DML_SYN_SPHERE, (dml_shape){1, {8}, 3});
    double *x = malloc(sizeof *x * N * D), *v = malloc(sizeof *v * N * D);
    dml_synthetic_inputs(&s, 1, 1, 0, N, x);
    double worst = 0.0;
    for (size_t u = 0; u < N * P; u++) {
        double n2 = 0.0;
        for (size_t c = 0; c < C; c++) n2 += x[u * C + c] * x[u * C + c];
        worst = fmax(worst, fabs(n2 - (double)C));
    }
    printf("  sphere [8, 3], %zu inputs:\n", N);
    CHECK(worst <= 1e-14 * (double)C, "sphere: |x_p|^2 = C to rounding (worst %.3g)", worst);
    /* per position (independent units): the mean over channels of x, x^4, x_c^2 x_c'^2; across positions x_p x_p+1 */
    for (size_t u = 0; u < N * P; u++) v[u] = (x[u * C] + x[u * C + 1] + x[u * C + 2]) / 3.0;
    moment("sphere E x", v, N * P, 0.0);
    for (size_t u = 0; u < N * P; u++) {
        double s4 = 0.0;
        for (size_t c = 0; c < C; c++) s4 += pow(x[u * C + c], 4);
        v[u] = s4 / (double)C;
    }
    moment("sphere E x^4 = 3C/(C+2)", v, N * P, 3.0 * C / (C + 2.0));
    for (size_t u = 0; u < N * P; u++) {
        const double *w = x + u * C;
        v[u] = (w[0] * w[0] * w[1] * w[1] + w[0] * w[0] * w[2] * w[2] + w[1] * w[1] * w[2] * w[2]) / 3.0;
    }
    moment("sphere E x_c^2 x_c'^2 = C/(C+2)", v, N * P, (double)C / (C + 2.0));
    for (size_t i = 0; i < N; i++) v[i] = x[i * D] * x[i * D + C];
    moment("sphere E x_p,0 x_p+1,0 (independent positions)", v, N, 0.0);
    for (size_t i = 0; i < N; i++) v[i] = x[i * D] * x[i * D + 1];
    moment("sphere E x_p,0 x_p,1 (orthogonal channels)", v, N, 0.0);

    /* C = 1: every number is +-1 */
    dml_synthetic s1 = source(DML_SYN_SPHERE, (dml_shape){2, {3, 3}, 1});
    dml_synthetic_inputs(&s1, 1, 1, 0, N, x);
    int pm = 1;
    for (size_t i = 0; i < N * 9; i++) pm &= x[i] == 1.0 || x[i] == -1.0;
    CHECK(pm, "sphere with C = 1: every number is +-1");
    for (size_t i = 0; i < N * 9; i++) v[i] = x[i];
    moment("sphere C=1 E x", v, N * 9, 0.0);

    dml_synthetic g = source(DML_SYN_GAUSSIAN, (dml_shape){1, {8}, 3});
    dml_synthetic_inputs(&g, 1, 1, 0, N, x);
    printf("  gaussian [8, 3], %zu inputs:\n", N);
    for (size_t i = 0; i < N * D; i++) v[i] = x[i];
    moment("gaussian E x", v, N * D, 0.0);
    for (size_t i = 0; i < N * D; i++) v[i] = x[i] * x[i];
    moment("gaussian E x^2", v, N * D, 1.0);
    for (size_t i = 0; i < N * D; i++) v[i] = pow(x[i], 4);
    moment("gaussian E x^4", v, N * D, 3.0);
    for (size_t i = 0; i < N; i++) v[i] = x[i * D] * x[i * D + 1];
    moment("gaussian E x_0 x_1", v, N, 0.0);
    double n2 = 0.0;
    for (size_t i = 0; i < N * D; i++) n2 += x[i] * x[i];
    CHECK(fabs(n2 / (double)N - (double)D) > 1e-6, "gaussian norms are not fixed (mean |x|^2 %.4f)", n2 / (double)N);

    /* reproducible, and keyed by index: a slice from `first` is the same inputs; another stream other inputs */
    double *y = malloc(sizeof *y * 10 * D);
    dml_synthetic_inputs(&g, 1, 1, 0, 10, y);
    CHECK(memcmp(x, y, sizeof *y * 10 * D) == 0, "same seed and stream, same inputs");
    dml_synthetic_inputs(&g, 1, 1, 7, 3, y);
    CHECK(memcmp(x + 7 * D, y, sizeof *y * 3 * D) == 0, "inputs keyed by index");
    dml_synthetic_inputs(&g, 1, 2, 0, 10, y);
    CHECK(memcmp(x, y, sizeof *y * 10 * D) != 0, "another stream, other inputs");
    dml_synthetic_inputs(&g, 2, 1, 0, 10, y);
    CHECK(memcmp(x, y, sizeof *y * 10 * D) != 0, "another seed, other inputs");
    free(y);
    free(x);
    free(v);
}

static void teacher(dml_arch arch, dml_padding pad, dml_shape shape)
{
    dml_synthetic s = source(DML_SYN_GAUSSIAN, shape);
    s.target.kind = DML_TARGET_TEACHER;
    s.target.outputs = 3;
    s.target.seed = 41;
    s.target.model.arch = arch;
    s.target.model.padding = pad;
    s.target.model.width = 16;
    s.target.model.b_std = 0.1;
    char what[64];
    snprintf(what, sizeof what, "teacher %s %s %dD", dml_arch_name(arch), dml_padding_name(pad), shape.nd);
    dml_error err = {0};
    CHECK(dml_synthetic_check(&s, &err) == 0, "%s: %s", what, err.message);
    size_t n = 40, D = dml_shape_numel(&shape), k = 3;
    double *x = malloc(sizeof *x * n * D), *y = malloc(sizeof *y * n * k), *y2 = malloc(sizeof *y2 * n * k);
    double *f = malloc(sizeof *f * n * k);
    dml_synthetic_inputs(&s, 5, 1, 0, n, x);
    CHECK(dml_synthetic_targets(&s, x, n, y, &err) == 0, "%s: %s", what, err.message);
    /* the network built here from the documented recipe: same outputs, one input at a time bit for bit, and
     * a batched forward pass to rounding */
    dml_layers L;
    dml_model_layers(&s.target.model, &shape, 3, &L, &err);
    dml_net *net = dml_net_create(&L, DML_PARAM_NTK, DML_F64, 41, 1, 0, &err);
    int exact = 1;
    for (size_t i = 0; i < n; i++) {
        double out[3];
        dml_net_forward(net, x + i * D, 1, out, &err);
        exact &= memcmp(out, y + i * k, sizeof out) == 0;
    }
    CHECK(exact, "%s: targets = the network's forward pass, bit for bit", what);
    dml_net_forward(net, x, n, f, &err);
    double worst = 0.0, scale = 0.0;
    for (size_t i = 0; i < n * k; i++) worst = fmax(worst, fabs(f[i] - y[i])), scale = fmax(scale, fabs(f[i]));
    CHECK(worst <= 1e-12 * scale && scale > 0, "%s: batched forward pass agrees (%.3g of %.3g)", what, worst, scale);
    dml_net_free(net);
    CHECK(dml_synthetic_targets(&s, x, n, y2, &err) == 0 && memcmp(y, y2, sizeof *y * n * k) == 0,
          "%s: reproducible from the seed", what);
    /* nested training sets: the teacher's targets of the first 10 do not depend on the set's size */
    dml_dataset a, at, b, bt;
    CHECK(dml_synthetic_load(&s, 5, 0, 10, 4, &a, &at, &err) == 0 &&
              dml_synthetic_load(&s, 5, 0, 40, 4, &b, &bt, &err) == 0,
          "%s: load: %s", what, err.message);
    CHECK(memcmp(a.y, b.y, sizeof *a.y * 10 * k) == 0 && memcmp(at.y, bt.y, sizeof *at.y * 4 * k) == 0,
          "%s: nested training sets, bit for bit", what);
    dml_dataset_free(&a), dml_dataset_free(&at), dml_dataset_free(&b), dml_dataset_free(&bt);
    s.target.seed = 42;
    dml_synthetic_targets(&s, x, n, y2, &err);
    CHECK(memcmp(y, y2, sizeof *y * n * k) != 0, "%s: another seed, another teacher", what);
    free(x);
    free(y);
    free(y2);
    free(f);
}

/* y under every circular translation of the inputs: equal bit for bit (shared) or not (independent). */
static void translation_invariance(dml_syn_input in, dml_shape shape, int support, int degree, int shared)
{
    dml_synthetic s = source(in, shape);
    s.target.support = support;
    s.target.degree = degree;
    s.target.shared = shared;
    s.target.outputs = 2;
    char what[96];
    snprintf(what, sizeof what, "local-polynomial %s r=%d s=%d %dD C=%d %s",
             in == DML_SYN_SPHERE ? "sphere" : "gaussian", degree, support, shape.nd, shape.channels,
             shared ? "shared" : "independent");
    dml_error err = {0};
    size_t n = 6, D = dml_shape_numel(&shape), P = dml_shape_positions(&shape);
    double *x = malloc(sizeof *x * n * D), *gx = malloc(sizeof *gx * n * D), y[12], gy[12];
    dml_synthetic_inputs(&s, 8, 0, 0, n, x);
    CHECK(dml_synthetic_targets(&s, x, n, y, &err) == 0, "%s: %s", what, err.message);
    int all_equal = 1;
    double most = 0.0;
    for (size_t t = 1; t < P; t++) {
        int shift[2] = {shape.nd > 1 ? (int)(t / (size_t)shape.size[1]) : (int)t,
                        shape.nd > 1 ? (int)(t % (size_t)shape.size[1]) : 0};
        dml_group_elem g;
        dml_group_translation(&shape, shift, &g, &err);
        memcpy(gx, x, sizeof *gx * n * D);
        dml_group_apply(&g, gx, n, &err);
        dml_group_free(&g);
        dml_synthetic_targets(&s, gx, n, gy, &err);
        all_equal &= memcmp(y, gy, sizeof y) == 0;
        for (int i = 0; i < 12; i++) most = fmax(most, fabs(y[i] - gy[i]));
    }
    if (shared) CHECK(all_equal, "%s: exactly invariant under all %zu circular translations", what, P - 1);
    else CHECK(most > 1e-3, "%s: not invariant (largest change %.3g)", what, most);
    /* homogeneous of degree r, exactly: y(2x) = 2^r y(x), y(-x) = (-1)^r y(x) */
    for (size_t i = 0; i < n * D; i++) gx[i] = 2.0 * x[i];
    dml_synthetic_targets(&s, gx, n, gy, &err);
    int ok = 1;
    for (int i = 0; i < 12; i++) ok &= gy[i] == ldexp(y[i], degree);
    CHECK(ok, "%s: y(2x) = 2^r y(x) exactly", what);
    for (size_t i = 0; i < n * D; i++) gx[i] = -x[i];
    dml_synthetic_targets(&s, gx, n, gy, &err);
    ok = 1;
    for (int i = 0; i < 12; i++) ok &= gy[i] == (degree % 2 ? -y[i] : y[i]);
    CHECK(ok, "%s: y(-x) = (-1)^r y(x) exactly", what);
    free(x);
    free(gx);
}

/* Closed forms of the smallest members of the family: a single product, whose coefficient is +-1. */
static void closed_forms(void)
{
    dml_error err = {0};
    size_t n = 5, P = 6;
    /* degree 1, support 1, C = 1: y = +- sum_p x_p / sqrt(P) */
    dml_synthetic s = source(DML_SYN_GAUSSIAN, (dml_shape){1, {6}, 1});
    s.target.degree = 1;
    double x[5 * 12], y[5];
    dml_synthetic_inputs(&s, 2, 0, 0, n, x);
    dml_synthetic_targets(&s, x, n, y, &err);
    int ok = 1;
    double sign = 0.0;
    for (size_t i = 0; i < n; i++) {
        double sum = 0.0;
        for (size_t p = 0; p < P; p++) sum += x[i * P + p];
        double want = sum / sqrt((double)P);
        if (i == 0) sign = y[0] / want > 0 ? 1.0 : -1.0;
        ok &= close_rel(y[i], sign * want, 1e-14);
    }
    CHECK(ok, "degree 1, support 1, C = 1: y = +-sum(x)/sqrt(P)");
    /* degree 2, support 1, C = 2 on the sphere: sd(u_0 u_1) = sqrt(C^2 / (C (C + 2))) = 1/sqrt(2) */
    s = source(DML_SYN_SPHERE, (dml_shape){1, {6}, 2});
    dml_synthetic_inputs(&s, 2, 0, 0, n, x);
    dml_synthetic_targets(&s, x, n, y, &err);
    ok = 1;
    for (size_t i = 0; i < n; i++) {
        double sum = 0.0;
        for (size_t p = 0; p < P; p++) sum += x[i * 12 + 2 * p] * x[i * 12 + 2 * p + 1];
        double want = sqrt(2.0) * sum / sqrt((double)P);
        if (i == 0) sign = y[0] / want > 0 ? 1.0 : -1.0;
        ok &= close_rel(y[i], sign * want, 1e-13);
    }
    CHECK(ok, "degree 2, support 1, C = 2, sphere: y = +-sqrt(2) sum_p x_p0 x_p1 / sqrt(P)");
}

/* Mean 0 and variance 1 of y with non-overlapping windows (support 1), for both input distributions. */
static void target_moments(void)
{
    size_t N = 20000;
    for (int in = 0; in < 2; in++)
        for (int shared = 0; shared < 2; shared++) {
            dml_synthetic s = source((dml_syn_input)in, (dml_shape){2, {3, 3}, 3});
            s.target.degree = 2;
            s.target.shared = shared;
            size_t D = dml_shape_numel(&s.shape);
            double *x = malloc(sizeof *x * N * D), *y = malloc(sizeof *y * N), *v = malloc(sizeof *v * N);
            dml_error err = {0};
            dml_synthetic_inputs(&s, 4, 1, 0, N, x);
            CHECK(dml_synthetic_targets(&s, x, N, y, &err) == 0, "targets: %s", err.message);
            char what[96];
            snprintf(what, sizeof what, "local-poly %s r=2 s=1 3x3x3 %s E y", in ? "gaussian" : "sphere",
                     shared ? "shared" : "independent");
            moment(what, y, N, 0.0);
            for (size_t i = 0; i < N; i++) v[i] = y[i] * y[i];
            snprintf(what, sizeof what, "local-poly %s r=2 s=1 3x3x3 %s E y^2", in ? "gaussian" : "sphere",
                     shared ? "shared" : "independent");
            moment(what, v, N, 1.0);
            free(x);
            free(y);
            free(v);
        }
    /* overlapping windows: the variance of one draw of the coefficients (information, not a check: the
     * cross terms of overlapping windows vanish only on average over the draws) */
    dml_synthetic s = source(DML_SYN_GAUSSIAN, (dml_shape){1, {16}, 2});
    s.target.degree = 3;
    s.target.support = 3;
    size_t D = dml_shape_numel(&s.shape);
    double *x = malloc(sizeof *x * N * D), *y = malloc(sizeof *y * N), m2 = 0.0;
    dml_error err = {0};
    dml_synthetic_inputs(&s, 4, 1, 0, N, x);
    dml_synthetic_targets(&s, x, N, y, &err);
    for (size_t i = 0; i < N; i++) m2 += y[i] * y[i];
    printf("  local-poly gaussian r=3 s=3 [16, 2] shared: E y^2 = %.4f for one coefficient draw\n", m2 / (double)N);
    free(x);
    free(y);
}

static void noise_and_nesting(void)
{
    dml_synthetic s = source(DML_SYN_SPHERE, (dml_shape){2, {4, 4}, 2});
    s.target.support = 2;
    s.target.degree = 2;
    s.target.outputs = 2;
    s.noise = 0.3;
    dml_dataset tr, te, tr2, te2, tr3, te3;
    dml_error err = {0};
    size_t N = 4000, D = 32;
    CHECK(dml_synthetic_load(&s, 7, 0, N, 300, &tr, &te, &err) == 0, "load: %s", err.message);
    CHECK(tr.n == N && te.n == 300 && tr.k == 2 && !tr.label && !te.label && tr.shape.nd == 2 &&
              tr.shape.channels == 2,
          "load: sizes, k outputs, regression targets");
    double *clean = malloc(sizeof *clean * N * 2), *v = malloc(sizeof *v * N * 2);
    dml_synthetic_targets(&s, tr.x, N, clean, &err);
    for (size_t i = 0; i < N * 2; i++) v[i] = (tr.y[i] - clean[i]) * (tr.y[i] - clean[i]);
    moment("training-target noise variance (noise 0.3)", v, N * 2, 0.09);
    dml_synthetic_targets(&s, te.x, 300, clean, &err);
    CHECK(memcmp(clean, te.y, sizeof *clean * 600) == 0, "test targets are noise-free");
    /* nested: the first 100 of the 4000 are the training set of size 100; the test set does not change */
    CHECK(dml_synthetic_load(&s, 7, 0, 100, 300, &tr2, &te2, &err) == 0, "load 100: %s", err.message);
    CHECK(memcmp(tr2.x, tr.x, sizeof *tr.x * 100 * D) == 0 && memcmp(tr2.y, tr.y, sizeof *tr.y * 200) == 0,
          "nested training sets: inputs and noisy targets, bit for bit");
    CHECK(memcmp(te2.x, te.x, sizeof *te.x * 300 * D) == 0 && memcmp(te2.y, te.y, sizeof *te.y * 600) == 0,
          "the test set does not depend on n_train");
    /* another repeat: other training inputs, the same test set; test inputs independent of training inputs */
    CHECK(dml_synthetic_load(&s, 7, 1, 100, 300, &tr3, &te3, &err) == 0, "load repeat 1: %s", err.message);
    CHECK(memcmp(tr3.x, tr.x, sizeof *tr.x * 100 * D) != 0, "another repeat, other training inputs");
    CHECK(memcmp(te3.x, te.x, sizeof *te.x * 300 * D) == 0, "another repeat, the same test set");
    CHECK(memcmp(te.x, tr.x, sizeof *te.x * 100 * D) != 0, "test inputs are not training inputs");
    /* noise 0: the training targets are the clean ones */
    s.noise = 0.0;
    dml_dataset tr4, te4;
    dml_synthetic_load(&s, 7, 0, 50, 10, &tr4, &te4, &err);
    dml_synthetic_targets(&s, tr4.x, 50, clean, &err);
    CHECK(memcmp(clean, tr4.y, sizeof *clean * 100) == 0, "noise 0: clean training targets");
    dml_dataset_free(&tr), dml_dataset_free(&te), dml_dataset_free(&tr2), dml_dataset_free(&te2);
    dml_dataset_free(&tr3), dml_dataset_free(&te3), dml_dataset_free(&tr4), dml_dataset_free(&te4);
    free(clean);
    free(v);
}

static void refused(const char *what, dml_synthetic s, const char *field)
{
    dml_error err = {0};
    dml_dataset tr, te;
    CHECK(dml_synthetic_check(&s, &err) == -1 && err.code == DML_ERR_INVALID_SPEC && !strcmp(err.field, field) &&
              err.message[0],
          "%s: an error naming %s (got '%s': %s)", what, field, err.field, err.message);
    CHECK(dml_synthetic_load(&s, 0, 0, 3, 3, &tr, &te, &err) == -1, "%s: load refuses it too", what);
}

static void validation(void)
{
    dml_synthetic ok = source(DML_SYN_SPHERE, (dml_shape){1, {5}, 2}), s;
    s = ok, s.shape.nd = 0;
    refused("flat shape", s, "shape");
    s = ok, s.shape.size[0] = 0;
    refused("zero size", s, "shape");
    s = ok, s.shape = (dml_shape){2, {8192, 8192}, 1};
    refused("2^26 numbers", s, "shape");
    s = ok, s.noise = -1;
    refused("negative noise", s, "noise");
    s = ok, s.noise = NAN;
    refused("NaN noise", s, "noise");
    s = ok, s.target.outputs = 0;
    refused("no outputs", s, "target.outputs");
    s = ok, s.target.support = 6;
    refused("support beyond the size", s, "target.support");
    s = ok, s.target.degree = 0;
    refused("degree 0", s, "target.degree");
    s = ok, s.target.degree = 3;   /* windows of 1 position x 2 channels */
    refused("degree beyond the window", s, "target.degree");
    s = ok, s.shape = (dml_shape){2, {8, 8}, 4}, s.target.support = 3, s.target.degree = 5;   /* C(36, 5) = 376992 */
    refused("too many products", s, "target.degree");
    s = ok, s.shape = (dml_shape){2, {64, 64}, 2}, s.target.support = 3, s.target.degree = 5, s.target.shared = 0;
    refused("too many coefficients", s, "target.shared");
    s = ok, s.target.kind = DML_TARGET_TEACHER, s.target.model.arch = DML_ARCH_CNN_GAP,
    s.target.model.padding = DML_PAD_VALID, s.target.model.filter[0] = 7;
    refused("a teacher whose filter does not fit", s, "target.model.filter");
    dml_error err = {0};
    CHECK(dml_synthetic_check(&ok, &err) == 0, "a valid source: %s", err.message);
}

int main(void)
{
    input_moments();
    teacher(DML_ARCH_FCN, DML_PAD_SAME, (dml_shape){1, {6}, 3});
    teacher(DML_ARCH_CNN_GAP, DML_PAD_CIRCULAR, (dml_shape){2, {4, 5}, 2});
    teacher(DML_ARCH_LCN, DML_PAD_SAME, (dml_shape){2, {4, 4}, 1});
    teacher(DML_ARCH_CNN_VEC, DML_PAD_VALID, (dml_shape){1, {7}, 2});
    for (int in = 0; in < 2; in++)
        for (int shared = 0; shared < 2; shared++) {
            translation_invariance((dml_syn_input)in, (dml_shape){1, {7}, 2}, 3, 2, shared);
            translation_invariance((dml_syn_input)in, (dml_shape){2, {4, 5}, 2}, 2, 3, shared);
            translation_invariance((dml_syn_input)in, (dml_shape){2, {3, 3}, 1}, 3, 1, shared);
        }
    closed_forms();
    target_moments();
    noise_and_nesting();
    validation();
    return check_summary("synthetic");
}
