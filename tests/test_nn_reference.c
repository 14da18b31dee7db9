/* Finite networks against a naive forward pass written from the layouts documented in dmilab/nn.h and the
 * geometry of DESIGN 2.1 (tests/reference.h, nothing from core/ but the public API), on 400 seeded random
 * models: every arch, 1D and 2D, sizes 1-8, filters 1-4 per axis, strides 1-3, each padding, depth 0-3,
 * widths 1-10, channels 1-9, relu and erf, both parameterizations, random w_std, b_std and readout scales.
 *
 * The reference reads the parameters through dml_net_get_params and applies, layer by layer,
 *   Dense / Readout  y = alpha x W + beta b,            W (in, out)
 *   Conv             y[o,k] = alpha sum_{d,c} x[i(o,d), c] W[d Cin + c, k] + beta b[k]   (zero padding adds 0)
 *   ConvLocal        the same with W[o] (P_out, F Cin, Cout) and b[o]
 *   Act, Flatten (position-major), GAP (mean over positions),
 * alpha = w_std / sqrt(fan_in), beta = b_std for 'ntk', alpha = beta = 1 for 'standard'.
 * Criterion: max |net - reference| / max |reference| <= 1e-12 (float64; 1 and 2 threads) and <= 1e-5
 * (float32). Winograd layers (3x3, stride 1, >= 8 channels) are among them and are counted: this is their
 * check against an independent implementation rather than against the im2col path. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "dmilab/nn.h"
#include "dmilab/rng.h"
#include "reference.h"

#define NOUT 3
#define NX 2

static int winograd_layers, models_run;

/* Naive forward pass of one input x through model m (layer list L for its shapes) with parameters p. */
static void reference(const dml_model *m, const dml_layers *L, const geo *g0, const double *p, const double *x,
                      double *out)
{
    geo g = *g0;
    int P = 1;
    for (int a = 0; a < g.nd; a++) P *= g.size[a];
    int C = g.C;
    size_t n = (size_t)P * C;
    double *a = malloc(sizeof *a * n);
    memcpy(a, x, sizeof *a * n);
    int ntk = m->parameterization == DML_PARAM_NTK;
    size_t off = 0;
    for (int l = 0; l < L->n; l++) {
        const dml_layer *ly = &L->layer[l];
        double ws = ly->kind == DML_LAYER_READOUT ? m->readout_w_std : m->w_std;
        double bs = ly->kind == DML_LAYER_READOUT ? m->readout_b_std : m->b_std;
        switch (ly->kind) {
        case DML_LAYER_FLATTEN:
            C = (int)n;
            P = 1;
            break;
        case DML_LAYER_GAP: {
            double *y = calloc((size_t)C, sizeof *y);
            for (int q = 0; q < P; q++)
                for (int c = 0; c < C; c++) y[c] += a[q * C + c] / P;
            free(a);
            a = y;
            n = (size_t)C;
            P = 1;
            break;
        }
        case DML_LAYER_ACT:
            for (size_t j = 0; j < n; j++) a[j] = ly->activation == DML_ACT_RELU ? fmax(a[j], 0) : erf(a[j]);
            break;
        case DML_LAYER_DENSE:
        case DML_LAYER_READOUT: {
            int in = (int)n, o = ly->out_channels;
            double alpha = ntk ? ws / sqrt(in) : 1, beta = ntk ? bs : 1;
            const double *W = p + off, *b = W + (size_t)in * o;
            double *y = malloc(sizeof *y * o);
            for (int k = 0; k < o; k++) {
                double s = 0;
                for (int i = 0; i < in; i++) s += a[i] * W[(size_t)i * o + k];
                y[k] = alpha * s + beta * b[k];
            }
            off += (size_t)in * o + o;
            free(a);
            a = y;
            n = (size_t)o;
            C = o;
            break;
        }
        case DML_LAYER_CONV:
        case DML_LAYER_CONV_LOCAL: {
            int osz[2] = {1, 1}, lo[2] = {0, 0}, Po = 1, F = 1, Co = ly->out_channels;
            for (int ax = 0; ax < g.nd; ax++) {
                osz[ax] = axis_out(g.size[ax], g.filter[ax], g.stride[ax], g.pad, &lo[ax]);
                Po *= osz[ax];
                F *= g.filter[ax];
            }
            size_t K = (size_t)F * C;
            double alpha = ntk ? ws / sqrt((double)K) : 1, beta = ntk ? bs : 1;
            int local = ly->kind == DML_LAYER_CONV_LOCAL;
            const double *W0 = p + off, *b0 = W0 + (local ? (size_t)Po : 1) * K * Co;
            double *y = malloc(sizeof *y * (size_t)Po * Co);
            for (int o = 0; o < Po; o++) {
                const double *W = W0 + (local ? (size_t)o * K * Co : 0), *b = b0 + (local ? (size_t)o * Co : 0);
                for (int k = 0; k < Co; k++) {
                    double s = 0;
                    for (int d = 0; d < F; d++) {
                        int i = src_pos(&g, osz, lo, o, d);
                        if (i < 0) continue;
                        for (int c = 0; c < C; c++) s += a[(size_t)i * C + c] * W[((size_t)d * C + c) * Co + k];
                    }
                    y[(size_t)o * Co + k] = alpha * s + beta * b[k];
                }
            }
            off += (local ? (size_t)Po : 1) * (K * Co + Co);
            free(a);
            a = y;
            P = Po;
            C = Co;
            n = (size_t)Po * Co;
            for (int ax = 0; ax < g.nd; ax++) g.size[ax] = osz[ax];
            break;
        }
        case DML_LAYER_AVG_POOL:   /* no preset has one (test_layers_reference covers it) */
            abort();
        }
    }
    memcpy(out, a, sizeof *out * NOUT);
    free(a);
}

static void one(dml_rng *r, int k)
{
    static const char *arch_names[] = {"fcn", "lcn", "cnn-vec", "cnn-gap"};
    static const char *pad_names[] = {"same", "valid", "circular"};
    dml_model m;
    dml_model_defaults(&m);
    m.arch = (dml_arch)dml_rng_below(r, 4);
    m.activation = dml_rng_below(r, 2) ? DML_ACT_ERF : DML_ACT_RELU;
    m.depth = (int)dml_rng_below(r, 4);
    m.width = 1 + (int)dml_rng_below(r, 10);
    m.parameterization = dml_rng_below(r, 2) ? DML_PARAM_STANDARD : DML_PARAM_NTK;
    m.w_std = uniform(r, 0.5, 2.0);
    m.b_std = uniform(r, 0.0, 0.6);
    m.readout_w_std = uniform(r, 0.5, 1.5);
    m.readout_b_std = uniform(r, 0.0, 0.5);
    geo g = {.nd = 1 + (int)dml_rng_below(r, 2), .C = 1 + (int)dml_rng_below(r, 9)};
    g.pad = (dml_padding)dml_rng_below(r, 3);
    m.padding = g.pad;
    int square3 = dml_rng_below(r, 3) == 0;   /* a third of the models: 3x3 stride 1 (Winograd when wide enough) */
    for (int a = 0; a < g.nd; a++) {
        g.size[a] = 1 + (int)dml_rng_below(r, g.nd == 1 ? 8 : 6);
        g.filter[a] = square3 ? 3 : 1 + (int)dml_rng_below(r, 4);
        g.stride[a] = square3 || dml_rng_below(r, 3) ? 1 : 2 + (int)dml_rng_below(r, 2);
    }
    if (g.pad == DML_PAD_VALID && m.arch != DML_ARCH_FCN)
        for (int a = 0; a < g.nd; a++) {   /* valid padding: inputs large enough for every layer */
            int need = 1;
            for (int l = 0; l < m.depth; l++) need = (need - 1) * g.stride[a] + g.filter[a];
            if (g.size[a] < need) g.size[a] = need;
        }
    m.nfilter = m.nstride = g.nd;
    for (int a = 0; a < g.nd; a++) {
        m.filter[a] = g.filter[a];
        m.stride[a] = g.stride[a];
    }
    dml_shape s = {.nd = g.nd, .channels = g.C};
    for (int a = 0; a < g.nd; a++) s.size[a] = g.size[a];
    char label[220];
    snprintf(label, sizeof label, "#%d %s %s depth %d width %d %s %dD %dx%dx%d f%dx%d s%dx%d %s", k, arch_names[m.arch],
             m.activation == DML_ACT_RELU ? "relu" : "erf", m.depth, m.width,
             m.parameterization == DML_PARAM_NTK ? "ntk" : "standard", g.nd, g.size[0], g.nd > 1 ? g.size[1] : 1, g.C,
             g.filter[0], g.nd > 1 ? g.filter[1] : 1, g.stride[0], g.nd > 1 ? g.stride[1] : 1, pad_names[g.pad]);
    dml_layers L;
    dml_error err;
    if (dml_model_layers(&m, &s, NOUT, &L, &err)) {
        CHECK(0, "%s: layers: %s", label, err.message);
        return;
    }
    for (int prec = 0; prec < 2; prec++) {
        dml_net *net = dml_net_create(&L, m.parameterization, prec ? DML_F32 : DML_F64, 100 + (uint64_t)k, 1, 0, &err);
        CHECK(net != NULL, "%s: create: %s", label, net ? "" : err.message);
        if (!net) return;
        size_t D = dml_net_input_size(net), np = dml_net_num_params(net);
        double *x = malloc(sizeof *x * NX * D), *p = malloc(sizeof *p * (np ? np : 1));
        double f[NX * NOUT], ref[NX * NOUT];
        for (size_t j = 0; j < NX * D; j++) x[j] = dml_rng_normal(r);
        dml_net_get_params(net, p);
        for (int i = 0; i < NX; i++) reference(&m, &L, &g, p, x + i * D, ref + i * NOUT);
        double tol = prec ? 1e-5 : 1e-12;
        for (int threads = 1; threads <= 2; threads++) {
            dml_net_set_threads(net, threads);
            int rc = dml_net_forward(net, x, NX, f, &err);
            double e = rc ? INFINITY : rel_err(f, ref, NX * NOUT);
            CHECK(e <= tol, "%s %s, %d threads: outputs off by %.3g (tolerance %.0e)", label, prec ? "f32" : "f64",
                  threads, e, tol);
        }
        if (!prec) {
            for (int l = 0; l < L.n; l++) {
                const char *alg = dml_net_conv_algorithm(net, l);
                winograd_layers += alg && strcmp(alg, "winograd") == 0;
            }
            models_run++;
        }
        free(x);
        free(p);
        dml_net_free(net);
    }
}

int main(void)
{
    dml_rng r;
    uint64_t key = 4242;
    dml_rng_seed(&r, &key, 1);
    for (int k = 0; k < 400; k++) one(&r, k);
    printf("%d random models, %d Winograd layers among them\n", models_run, winograd_layers);
    CHECK(models_run == 400 && winograd_layers >= 10, "coverage: %d models, %d Winograd layers", models_run,
          winograd_layers);
    return check_summary("nn_reference");
}
