/* Winograd F(2x2, 3x3) convolutions against the im2col + GEMM path: the same network (same seed, same
 * parameters) built once with each algorithm (DMILAB_CONV=im2col forces the second) must give the same outputs,
 * parameter gradients and input gradients, in float64 to 1e-12 and in float32 to 2e-5 relative (max-norm over
 * the array). Geometries cover what the tiling has to get right: odd output sizes (a partial last tile),
 * outputs smaller than a tile (1x1, 1x2), same / valid / circular padding (circular on inputs smaller than the
 * filter, where one input position is read by several taps of a window), rectangular inputs, more tiles than
 * one block of transforms (several blocks per pass, and a batch whose tiles end mid-block), channel counts
 * that are not multiples of the SIMD width. The finite-difference checks in test_nn_grad.c cover Winograd
 * layers independently of this comparison. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "dmilab/nn.h"
#include "dmilab/rng.h"
#include "reference.h"

#define NOUT 4

typedef struct {
    const char *name;
    dml_arch arch;
    dml_activation act;
    int h, w, C;
    dml_padding pad;
    int depth, width;
    size_t n;
} cfg;

static double maxabs(const double *a, size_t m)
{
    double s = 0.0;
    for (size_t j = 0; j < m; j++)
        if (fabs(a[j]) > s) s = fabs(a[j]);
    return s;
}

static dml_net *make(const dml_layers *L, dml_precision prec, int im2col, int threads)
{
    dml_error err;
    if (im2col) setenv("DMILAB_CONV", "im2col", 1);
    else unsetenv("DMILAB_CONV");
    dml_net *net = dml_net_create(L, DML_PARAM_NTK, prec, 21, threads, 0, &err);
    unsetenv("DMILAB_CONV");
    CHECK(net != NULL, "create: %s", net ? "" : err.message);
    return net;
}

static void run(const cfg *c, dml_precision prec)
{
    dml_model m;
    dml_model_defaults(&m);
    m.arch = c->arch;
    m.activation = c->act;
    m.depth = c->depth;
    m.width = c->width;
    m.b_std = 0.2;
    m.padding = c->pad;
    dml_shape s = {.nd = 2, .size = {c->h, c->w}, .channels = c->C};
    dml_layers L;
    dml_error err;
    char label[160];
    snprintf(label, sizeof label, "%s %s", c->name, prec == DML_F64 ? "f64" : "f32");
    if (dml_model_layers(&m, &s, NOUT, &L, &err)) {
        CHECK(0, "%s: layers: %s", label, err.message);
        return;
    }
    dml_net *a = make(&L, prec, 0, 1), *b = make(&L, prec, 1, 1);
    if (!a || !b) return;
    int wino_layers = 0, other = 0;
    for (int l = 0; l < L.n; l++) {
        const char *ca = dml_net_conv_algorithm(a, l), *cb = dml_net_conv_algorithm(b, l);
        if (L.layer[l].kind != DML_LAYER_CONV) continue;
        CHECK(cb && strcmp(cb, "im2col") == 0, "%s: layer %d runs %s with DMILAB_CONV=im2col", label, l, cb);
        if (ca && strcmp(ca, "winograd") == 0) wino_layers++;
        else other++;
    }
    CHECK(wino_layers >= 1, "%s: no layer runs Winograd", label);
    size_t D = dml_net_input_size(a), np = dml_net_num_params(a), n = c->n;
    double *x = malloc(sizeof *x * n * D), *go = malloc(sizeof *go * n * NOUT);
    double *fa = malloc(sizeof *fa * n * NOUT), *fb = malloc(sizeof *fb * n * NOUT);
    double *pa = malloc(sizeof *pa * np), *pb = malloc(sizeof *pb * np);
    double *xa = malloc(sizeof *xa * n * D), *xb = malloc(sizeof *xb * n * D);
    dml_rng r;
    uint64_t key = 5;
    dml_rng_seed(&r, &key, 1);
    for (size_t j = 0; j < n * D; j++) x[j] = dml_rng_normal(&r);
    for (size_t j = 0; j < n * NOUT; j++) go[j] = dml_rng_normal(&r);
    dml_net_get_params(a, pa);
    dml_net_get_params(b, pb);
    CHECK(memcmp(pa, pb, sizeof *pa * np) == 0, "%s: the two networks differ in parameters", label);
    int ok = !dml_net_backward(a, x, n, go, fa, pa, xa, &err) && !dml_net_backward(b, x, n, go, fb, pb, xb, &err);
    CHECK(ok, "%s: backward: %s", label, err.message);
    double tol = prec == DML_F64 ? 1e-12 : 2e-5;
    double ef = rel_err(fa, fb, n * NOUT), ep = rel_err(pa, pb, np), ex = rel_err(xa, xb, n * D);
    CHECK(ef <= tol, "%s: outputs differ by %.3g (tolerance %.0e)", label, ef, tol);
    CHECK(ep <= tol, "%s: parameter gradients differ by %.3g", label, ep);
    CHECK(ex <= tol, "%s: input gradients differ by %.3g", label, ex);
    CHECK(maxabs(fb, n * NOUT) > 0 && maxabs(pb, np) > 0 && maxabs(xb, n * D) > 0, "%s: all-zero reference", label);
    /* and the forward-only path (dml_net_forward, data parallel over 2 threads) */
    dml_net *a2 = make(&L, prec, 0, 2);
    if (a2) {
        double *f2 = malloc(sizeof *f2 * n * NOUT);
        CHECK(!dml_net_forward(a2, x, n, f2, &err), "%s: forward: %s", label, err.message);
        double e2 = rel_err(f2, fb, n * NOUT);
        CHECK(e2 <= tol, "%s: 2-thread forward differs by %.3g", label, e2);
        free(f2);
        dml_net_free(a2);
    }
    printf("  %-42s winograd layers %d, im2col %d: outputs %.1e, dW %.1e, dx %.1e\n", label, wino_layers, other, ef,
           ep, ex);
    free(x);
    free(go);
    free(fa);
    free(fb);
    free(pa);
    free(pb);
    free(xa);
    free(xb);
    dml_net_free(a);
    dml_net_free(b);
}

int main(void)
{
    static const cfg cfgs[] = {
        {"cnn-vec relu 8x8x8 same", DML_ARCH_CNN_VEC, DML_ACT_RELU, 8, 8, 8, DML_PAD_SAME, 2, 8, 3},
        {"cnn-gap erf 7x5x9 same", DML_ARCH_CNN_GAP, DML_ACT_ERF, 7, 5, 9, DML_PAD_SAME, 2, 10, 3},
        {"cnn-vec relu 9x6x8 valid", DML_ARCH_CNN_VEC, DML_ACT_RELU, 9, 6, 8, DML_PAD_VALID, 2, 11, 2},
        {"cnn-gap relu 3x4x12 valid (1x2 out)", DML_ARCH_CNN_GAP, DML_ACT_RELU, 3, 4, 12, DML_PAD_VALID, 1, 5, 3},
        {"cnn-gap erf 6x7x8 circular", DML_ARCH_CNN_GAP, DML_ACT_ERF, 6, 7, 8, DML_PAD_CIRCULAR, 2, 9, 2},
        {"cnn-vec relu 2x3x8 circular (wraps twice)", DML_ARCH_CNN_VEC, DML_ACT_RELU, 2, 3, 8, DML_PAD_CIRCULAR, 2, 8,
         3},
        {"cnn-gap relu 1x1x8 same", DML_ARCH_CNN_GAP, DML_ACT_RELU, 1, 1, 8, DML_PAD_SAME, 2, 9, 4},
        {"cnn-gap relu 1x2x8 circular", DML_ARCH_CNN_GAP, DML_ACT_RELU, 1, 2, 8, DML_PAD_CIRCULAR, 1, 4, 2},
        {"cnn-vec relu 14x14x1 same, several blocks", DML_ARCH_CNN_VEC, DML_ACT_RELU, 14, 14, 1, DML_PAD_SAME, 2, 16, 33},
        {"cnn-gap relu 28x28x1 same, width 64", DML_ARCH_CNN_GAP, DML_ACT_RELU, 28, 28, 1, DML_PAD_SAME, 2, 64, 5},
    };
    for (size_t i = 0; i < sizeof cfgs / sizeof cfgs[0]; i++) {
        run(&cfgs[i], DML_F64);
        run(&cfgs[i], DML_F32);
    }
    return check_summary("nn_winograd");
}
