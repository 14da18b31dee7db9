/* Finite networks: central finite-difference checks of the backward pass (float64) for every layer kind
 * and every arch (fcn: Flatten/Dense/Act/Readout; lcn: ConvLocal; cnn-vec: Conv/Flatten; cnn-gap: Conv/GAP),
 * relu and erf, 1D and 2D, same/valid/circular padding, strides 1 and 2, both parameterizations, and three
 * objectives: a random linear functional of the outputs, the mse loss and the cross-entropy loss.
 *
 * Criterion: for every parameter and input coordinate, with h = 1e-4 and the fourth-order central stencil
 *   fd = (8 (L(theta+h) - L(theta-h)) - (L(theta+2h) - L(theta-2h))) / 12h,
 *   |fd - g| <= 1e-6 * max(|fd|, |g|, 1e-4 * max_j |g_j|)
 * (the last term compares gradients 1e4 times smaller than the largest in absolute terms). Rounding in fd
 * is about 1e-16 |L| / h = 1e-12 |L| and the truncation error h^4 L^(5) / 30 about 3e-18 |L^(5)| (none for the
 * piecewise-linear relu networks under the linear and mse objectives), far below 1e-6 of the gradients.
 * ReLU kinks: a relu network is piecewise linear in each coordinate, so the linear and mse objectives are
 * piecewise quadratic and cross-entropy smooth between kinks; there the second differences at steps h and
 * 2h agree, L(t+h) - 2L(t) + L(t-h) = (L(t+2h) - 2L(t) + L(t-2h)) / 4, up to rounding and O(h^4). A
 * coordinate where they differ by more than 1e-6 * scale * h has a kink within 2h (a slope jump that large
 * would spoil fd) and is skipped; only for relu networks, and at most 3% of the coordinates may be. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "dmilab/nn.h"
#include "dmilab/rng.h"

typedef struct {
    const char *name;
    dml_arch arch;
    dml_activation act;
    int nd, size[2], C;
    int filter[2], nfilter, stride[2], nstride;
    dml_padding pad;
    int depth, width;
} cfg;

enum { OBJ_LINEAR, OBJ_MSE, OBJ_CE };
static const char *obj_name[] = {"linear", "mse", "cross-entropy"};

#define NOUT 3
#define NX 3

typedef struct {
    dml_net *net;
    int obj;
    const double *x, *y, *gout;
    const int *lab;
    size_t n;
} problem;

static double objective(problem *p, const double *x)
{
    double v = 0.0;
    dml_error err;
    if (p->obj == OBJ_LINEAR) {
        double out[NX * NOUT];
        dml_net_forward(p->net, x, p->n, out, &err);
        for (size_t j = 0; j < p->n * NOUT; j++) v += p->gout[j] * out[j];
    } else {
        dml_net_loss_grad(p->net, p->obj == OBJ_MSE ? DML_LOSS_MSE : DML_LOSS_CROSS_ENTROPY, x, p->n, p->y, p->lab,
                          &v, NULL, NULL, &err);
    }
    return v;
}

/* Compare analytic g (m coordinates of vector v, which objective reads through `set`) with central
 * differences. Returns the number of failures; *skipped counts kink skips. */
static int compare(problem *p, double *v, size_t m, const double *g, int relu, int is_params, int *skipped,
                   double *worst)
{
    double gmax = 0.0;
    for (size_t j = 0; j < m; j++) gmax = fmax(gmax, fabs(g[j]));
    const double h = 1e-4;
    int fails = 0;
    for (size_t j = 0; j < m; j++) {
        double t = v[j], L0 = 0.0, Lp, Lm, Lp2, Lm2;
        if (is_params) {
            if (relu) {
                dml_net_set_params(p->net, v);
                L0 = objective(p, p->x);
            }
            v[j] = t + h;
            dml_net_set_params(p->net, v);
            Lp = objective(p, p->x);
            v[j] = t - h;
            dml_net_set_params(p->net, v);
            Lm = objective(p, p->x);
            v[j] = t + 2 * h;
            dml_net_set_params(p->net, v);
            Lp2 = objective(p, p->x);
            v[j] = t - 2 * h;
            dml_net_set_params(p->net, v);
            Lm2 = objective(p, p->x);
            v[j] = t;
            dml_net_set_params(p->net, v);
        } else {
            if (relu) L0 = objective(p, v);
            v[j] = t + h;
            Lp = objective(p, v);
            v[j] = t - h;
            Lm = objective(p, v);
            v[j] = t + 2 * h;
            Lp2 = objective(p, v);
            v[j] = t - 2 * h;
            Lm2 = objective(p, v);
            v[j] = t;
        }
        double fd = (8 * (Lp - Lm) - (Lp2 - Lm2)) / (12 * h);
        double den = fmax(fmax(fabs(fd), fabs(g[j])), 1e-4 * gmax);
        if (den == 0.0) continue;
        if (relu) {
            double d2h = Lp - 2 * L0 + Lm, d22h = (Lp2 - 2 * L0 + Lm2) / 4;
            if (fabs(d2h - d22h) > 1e-6 * den * h) {
                (*skipped)++;
                continue;
            }
        }
        double e = fabs(fd - g[j]) / den;
        if (e > *worst) *worst = e;
        if (e > 1e-6) {
            if (fails < 3) fprintf(stderr, "  %s[%zu]: analytic %.12g fd %.12g rel %.3g\n", is_params ? "param" : "x", j,
                                   g[j], fd, e);
            fails++;
        }
    }
    return fails;
}

static void run(const cfg *c, dml_parameterization par, int obj)
{
    dml_model m;
    dml_model_defaults(&m);
    m.arch = c->arch;
    m.activation = c->act;
    m.depth = c->depth;
    m.width = c->width;
    m.b_std = 0.3;
    m.readout_b_std = 0.2;
    m.readout_w_std = 1.3;
    m.padding = c->pad;
    m.parameterization = par;
    if (c->nfilter) {
        memcpy(m.filter, c->filter, sizeof m.filter);
        m.nfilter = c->nfilter;
    }
    if (c->nstride) {
        memcpy(m.stride, c->stride, sizeof m.stride);
        m.nstride = c->nstride;
    }
    dml_shape s = {.nd = c->nd, .channels = c->C};
    memcpy(s.size, c->size, sizeof s.size);
    dml_layers L;
    dml_error err;
    char label[200];
    snprintf(label, sizeof label, "%s %s %s", c->name, par == DML_PARAM_NTK ? "ntk" : "standard", obj_name[obj]);
    if (dml_model_layers(&m, &s, NOUT, &L, &err)) {
        CHECK(0, "%s: layers: %s", label, err.message);
        return;
    }
    dml_net *net = dml_net_create(&L, par, DML_F64, 11, 1, 0, &err);
    CHECK(net != NULL, "%s: create: %s", label, err.message);
    if (!net) return;
    size_t D = dml_net_input_size(net), np = dml_net_num_params(net);
    dml_rng r;
    uint64_t key = 99;
    dml_rng_seed(&r, &key, 1);
    double x[NX * 256], y[NX * NOUT], gout[NX * NOUT];
    int lab[NX];
    for (size_t j = 0; j < NX * D; j++) x[j] = dml_rng_normal(&r);
    for (size_t j = 0; j < NX * NOUT; j++) {
        y[j] = dml_rng_normal(&r);
        gout[j] = dml_rng_normal(&r);
    }
    for (int i = 0; i < NX; i++) lab[i] = (int)dml_rng_below(&r, NOUT);
    problem p = {net, obj, x, y, gout, lab, NX};
    double *theta = malloc(sizeof *theta * np), *gp = malloc(sizeof *gp * np), gx[NX * 256];
    dml_net_get_params(net, theta);
    /* perturb the biases off their N(0,1) draws is unnecessary; analytic gradients: */
    if (obj == OBJ_LINEAR) dml_net_backward(net, x, NX, gout, NULL, gp, gx, &err);
    else
        dml_net_loss_grad(net, obj == OBJ_MSE ? DML_LOSS_MSE : DML_LOSS_CROSS_ENTROPY, x, NX, y, lab, NULL, gp, gx,
                          &err);
    int relu = c->act == DML_ACT_RELU, skipped = 0;
    double worst = 0.0;
    int fp = compare(&p, theta, np, gp, relu, 1, &skipped, &worst);
    double xx[NX * 256];
    memcpy(xx, x, sizeof(double) * NX * D);
    int fx = compare(&p, xx, NX * D, gx, relu, 0, &skipped, &worst);
    size_t total = np + NX * D;
    CHECK(fp == 0, "%s: %d of %zu parameter gradients off", label, fp, np);
    CHECK(fx == 0, "%s: %d of %zu input gradients off", label, fx, (size_t)(NX * D));
    CHECK(skipped <= 0.03 * total, "%s: %d of %zu coordinates skipped at kinks", label, skipped, total);
    printf("  %-44s params %5zu  worst rel %.2e  kink skips %d\n", label, np, worst, skipped);
    free(theta);
    free(gp);
    dml_net_free(net);
}

/* float32 and float64 networks with the same seed agree (to float rounding) in outputs and gradients. */
static void precision_agreement(void)
{
    dml_model m;
    dml_model_defaults(&m);
    m.arch = DML_ARCH_CNN_GAP;
    m.width = 8;
    m.b_std = 0.1;
    dml_shape s = {.nd = 2, .size = {6, 6}, .channels = 2};
    dml_layers L;
    dml_error err;
    dml_model_layers(&m, &s, NOUT, &L, &err);
    dml_net *a = dml_net_create(&L, DML_PARAM_NTK, DML_F64, 5, 1, 0, &err);
    dml_net *b = dml_net_create(&L, DML_PARAM_NTK, DML_F32, 5, 1, 0, &err);
    size_t D = dml_net_input_size(a), np = dml_net_num_params(a);
    double x[4 * 72], go[4 * NOUT], fa[4 * NOUT], fb[4 * NOUT];
    dml_rng r;
    uint64_t key = 3;
    dml_rng_seed(&r, &key, 1);
    for (size_t j = 0; j < 4 * D; j++) x[j] = dml_rng_normal(&r);
    for (size_t j = 0; j < 4 * NOUT; j++) go[j] = dml_rng_normal(&r);
    double *ga = malloc(sizeof(double) * np), *gb = malloc(sizeof(double) * np);
    dml_net_backward(a, x, 4, go, fa, ga, NULL, &err);
    dml_net_backward(b, x, 4, go, fb, gb, NULL, &err);
    double df = 0, nf = 0, dg = 0, ng = 0;
    for (int j = 0; j < 4 * NOUT; j++) {
        df += (fa[j] - fb[j]) * (fa[j] - fb[j]);
        nf += fa[j] * fa[j];
    }
    for (size_t j = 0; j < np; j++) {
        dg += (ga[j] - gb[j]) * (ga[j] - gb[j]);
        ng += ga[j] * ga[j];
    }
    CHECK(sqrt(df / nf) < 1e-5, "float32 outputs off by %g", sqrt(df / nf));
    CHECK(sqrt(dg / ng) < 1e-5, "float32 gradients off by %g", sqrt(dg / ng));
    /* same seed, same parameters; another seed, other parameters */
    dml_net *c = dml_net_create(&L, DML_PARAM_NTK, DML_F64, 5, 2, 0, &err);
    dml_net *d = dml_net_create(&L, DML_PARAM_NTK, DML_F64, 6, 1, 0, &err);
    double *pc = malloc(sizeof(double) * np), *pd = malloc(sizeof(double) * np);
    dml_net_get_params(a, ga);
    dml_net_get_params(c, pc);
    dml_net_get_params(d, pd);
    CHECK(memcmp(ga, pc, sizeof(double) * np) == 0, "same seed gives different parameters");
    CHECK(memcmp(ga, pd, sizeof(double) * np) != 0, "different seeds give the same parameters");
    free(ga);
    free(gb);
    free(pc);
    free(pd);
    dml_net_free(a);
    dml_net_free(b);
    dml_net_free(c);
    dml_net_free(d);
}

int main(void)
{
    static const cfg cfgs[] = {
        {"fcn relu 2D 4x4x2", DML_ARCH_FCN, DML_ACT_RELU, 2, {4, 4}, 2, {0}, 0, {0}, 0, DML_PAD_SAME, 2, 5},
        {"fcn erf 1D 6x1 depth 3", DML_ARCH_FCN, DML_ACT_ERF, 1, {6, 0}, 1, {0}, 0, {0}, 0, DML_PAD_SAME, 3, 4},
        {"lcn relu 1D 7x2 same f3", DML_ARCH_LCN, DML_ACT_RELU, 1, {7, 0}, 2, {3}, 1, {0}, 0, DML_PAD_SAME, 2, 3},
        {"lcn erf 2D 5x4x2 valid f3x2 s2", DML_ARCH_LCN, DML_ACT_ERF, 2, {5, 4}, 2, {3, 2}, 2, {2}, 1, DML_PAD_VALID,
         1, 4},
        {"lcn relu 2D 4x4 circular f3", DML_ARCH_LCN, DML_ACT_RELU, 2, {4, 4}, 1, {3}, 1, {0}, 0, DML_PAD_CIRCULAR, 2,
         2},
        {"cnn-vec relu 2D 5x5x2 circular f3", DML_ARCH_CNN_VEC, DML_ACT_RELU, 2, {5, 5}, 2, {3}, 1, {0}, 0,
         DML_PAD_CIRCULAR, 2, 3},
        {"cnn-vec erf 1D 12x2 valid f4 s2", DML_ARCH_CNN_VEC, DML_ACT_ERF, 1, {12, 0}, 2, {4}, 1, {2}, 1, DML_PAD_VALID,
         2, 3},
        {"cnn-vec erf 2D 4x5 same f2x3", DML_ARCH_CNN_VEC, DML_ACT_ERF, 2, {4, 5}, 1, {2, 3}, 2, {0}, 0, DML_PAD_SAME,
         1, 3},
        {"cnn-gap relu 2D 6x5x2 same f3x2 s2", DML_ARCH_CNN_GAP, DML_ACT_RELU, 2, {6, 5}, 2, {3, 2}, 2, {2}, 1,
         DML_PAD_SAME, 2, 4},
        {"cnn-gap erf 1D 6x2 circular f5", DML_ARCH_CNN_GAP, DML_ACT_ERF, 1, {6, 0}, 2, {5}, 1, {0}, 0,
         DML_PAD_CIRCULAR, 2, 3},
        {"cnn-gap relu 1D 8 same s2 f3", DML_ARCH_CNN_GAP, DML_ACT_RELU, 1, {8, 0}, 1, {3}, 1, {2}, 1, DML_PAD_SAME, 2,
         3},
        /* 2D 3x3 stride 1 with >= 8 input channels: Winograd F(2x2, 3x3) layers */
        {"cnn-vec relu 2D 5x5x8 same f3 winograd", DML_ARCH_CNN_VEC, DML_ACT_RELU, 2, {5, 5}, 8, {3}, 1, {0}, 0,
         DML_PAD_SAME, 2, 8},
        {"cnn-gap erf 2D 4x5x8 circular f3 winograd", DML_ARCH_CNN_GAP, DML_ACT_ERF, 2, {4, 5}, 8, {3}, 1, {0}, 0,
         DML_PAD_CIRCULAR, 2, 8},
        {"cnn-vec erf 2D 5x4x9 valid f3 winograd", DML_ARCH_CNN_VEC, DML_ACT_ERF, 2, {5, 4}, 9, {3}, 1, {0}, 0,
         DML_PAD_VALID, 1, 5},
        {"cnn-gap erf 2D 4x4 valid f2 depth 0", DML_ARCH_CNN_GAP, DML_ACT_ERF, 2, {4, 4}, 2, {2}, 1, {0}, 0,
         DML_PAD_VALID, 0, 3},
    };
    for (size_t i = 0; i < sizeof cfgs / sizeof cfgs[0]; i++)
        for (int par = 0; par < 2; par++)
            for (int obj = 0; obj < 3; obj++)
                run(&cfgs[i], par ? DML_PARAM_STANDARD : DML_PARAM_NTK, obj);
    precision_agreement();
    return check_summary("nn_grad");
}
