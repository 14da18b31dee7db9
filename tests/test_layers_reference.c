/* Layer lists beyond the presets, average pooling above all, against independent implementations written in
 * this test (nothing from core/ but the public API; geometry from tests/reference.h):
 *
 *   kernel   Neural Tangents' rules (stax, parameterization ntk) on full position-by-position covariances of
 *            every pair of inputs: input K[a,b] = sum_c x[a,c] x'[b,c] / C; Dense / Conv K <- w^2 mean_d
 *            K[i(a,d), i(b,d)] + b^2, Theta <- w^2 mean_d Theta[..] + K (same offset d on both positions);
 *            ConvLocal the same on the diagonal, 0 off it; activation K <- T(K11[a,a], K22[b,b], K[a,b]),
 *            Theta <- Theta T'; AvgPool K <- (1/F^2) sum_{d1,d2} K[i(a,d1), i(b,d2)] (NT's _pool_kernel:
 *            reduce_window over both position axes, normalize_edges False); Flatten the mean of the diagonal;
 *            GAP the mean of all pairs; the readout a Dense.
 *   finite   a naive forward pass of the same layers with the network's parameters (AvgPool: the mean over
 *            the window, zero padding counted, circular wrapping), and central finite differences of a linear
 *            loss for the backward pass (parameters and inputs; activations made erf there, smooth everywhere).
 *
 * Cases: the mixed list of issue 10 (conv, relu, avg-pool, conv, relu, gap, dense) with every padding in 1D
 * and 2D, and 200 seeded random lists (conv / conv-local / dense / avg-pool / activation blocks, flatten or
 * gap, optional dense blocks; 1D and 2D; every padding, strides, windows, relu and erf). Criteria: kernels
 * within 1e-10 relative (cross and Gram, widened only for near-degenerate ReLU angles as in
 * test_kernel_reference.c), finite forward within 1e-12 (float64), gradients within 1e-6 of the finite
 * differences. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "dmilab/kernel.h"
#include "dmilab/nn.h"
#include "dmilab/rng.h"
#include "reference.h"

#define NOUT 2

/* ---- the independent kernel ---- */

static double min_sin;

static void dual(dml_activation act, double k11, double k22, double k12, double *t, double *tp, int self)
{
    ref_dual(act, k11, k22, k12, t, tp, self, &min_sin);
}

/* Geometry of a windowed layer of spec s on an input of g's sizes: its geo (filter, stride, padding). */
static geo layer_geo(const geo *in, const dml_layer_spec *s)
{
    geo g = *in;
    g.pad = s->padding;
    for (int a = 0; a < g.nd; a++) {
        g.filter[a] = s->nfilter > 1 ? s->filter[a] : s->filter[0];
        g.stride[a] = s->nstride > 1 ? s->stride[a] : s->stride[0];
    }
    return g;
}

typedef struct {
    int P;
    double *K[2][2], *T[2][2];   /* P x P for the pairs (x, x), (x, x'), (x', x), (x', x') */
} kstate;

static void kfree(kstate *k)
{
    for (int s = 0; s < 2; s++)
        for (int t = 0; t < 2; t++) free(k->K[s][t]), free(k->T[s][t]);
}

/* NNGP and NTK of one pair (xa, xb) under the list of m on inputs of geometry g0 (same: xa is xb). */
static void ref_kernel(const dml_model *m, const geo *g0, const double *xa, const double *xb, int same, double *nngp,
                       double *ntk)
{
    geo g = *g0;
    int flat = g.nd == 0, P = 1;
    for (int a = 0; a < g.nd; a++) P *= g.size[a];
    int C = g.C;
    const double *xs[2] = {xa, xb};
    kstate k = {.P = P};
    for (int s = 0; s < 2; s++)
        for (int t = 0; t < 2; t++) {
            k.K[s][t] = calloc((size_t)P * P, sizeof(double));
            k.T[s][t] = calloc((size_t)P * P, sizeof(double));
            for (int a = 0; a < P; a++)
                for (int b = 0; b < P; b++) {
                    double acc = 0;
                    for (int c = 0; c < C; c++) acc += xs[s][a * C + c] * xs[t][b * C + c];
                    k.K[s][t][a * P + b] = acc / C;
                }
        }
    for (int l = 0; l < m->nlayers; l++) {
        const dml_layer_spec *ls = &m->layers[l];
        dml_layer_kind kind = ls->kind;
        if (kind == DML_LAYER_DENSE && !flat) kind = DML_LAYER_CONV;   /* NT's Dense on the channel axis */
        if (kind == DML_LAYER_ACT) {
            double *D[2] = {malloc(sizeof(double) * k.P), malloc(sizeof(double) * k.P)};
            for (int s = 0; s < 2; s++)
                for (int a = 0; a < k.P; a++) D[s][a] = k.K[s][s][a * k.P + a];
            for (int s = 0; s < 2; s++)
                for (int t = 0; t < 2; t++)
                    for (int a = 0; a < k.P; a++)
                        for (int b = 0; b < k.P; b++) {
                            double tv, tpv;
                            dual(ls->activation, D[s][a], D[t][b], k.K[s][t][a * k.P + b], &tv, &tpv,
                                 a == b && (s == t || same));
                            k.K[s][t][a * k.P + b] = tv;
                            k.T[s][t][a * k.P + b] *= tpv;
                        }
            free(D[0]);
            free(D[1]);
        } else if (kind == DML_LAYER_FLATTEN || kind == DML_LAYER_GAP) {
            if (flat) continue;
            for (int s = 0; s < 2; s++)
                for (int t = 0; t < 2; t++) {
                    double rk = 0, rt = 0;
                    for (int a = 0; a < k.P; a++)
                        for (int b = 0; b < k.P; b++)
                            if (kind == DML_LAYER_GAP || a == b) {
                                rk += k.K[s][t][a * k.P + b];
                                rt += k.T[s][t][a * k.P + b];
                            }
                    double nrm = kind == DML_LAYER_GAP ? (double)k.P * k.P : k.P;
                    k.K[s][t][0] = rk / nrm;
                    k.T[s][t][0] = rt / nrm;
                }
            k.P = 1;
            flat = 1;
            g.nd = 0;
        } else if (kind == DML_LAYER_DENSE || kind == DML_LAYER_READOUT) {
            double w2 = ls->w_std * ls->w_std, b2 = ls->b_std * ls->b_std;
            for (int s = 0; s < 2; s++)
                for (int t = 0; t < 2; t++) {
                    k.K[s][t][0] = w2 * k.K[s][t][0] + b2;
                    k.T[s][t][0] = w2 * k.T[s][t][0] + k.K[s][t][0];
                }
        } else {   /* Conv, ConvLocal, AvgPool */
            geo lg = kind == DML_LAYER_CONV && ls->kind == DML_LAYER_DENSE ? g : layer_geo(&g, ls);
            if (ls->kind == DML_LAYER_DENSE)
                for (int a = 0; a < g.nd; a++) lg.filter[a] = lg.stride[a] = 1, lg.pad = DML_PAD_VALID;
            int osz[2] = {1, 1}, lo[2] = {0, 0}, Pn = 1, F = 1;
            for (int a = 0; a < lg.nd; a++) {
                osz[a] = axis_out(lg.size[a], lg.filter[a], lg.stride[a], lg.pad, &lo[a]);
                Pn *= osz[a];
                F *= lg.filter[a];
            }
            double w2 = ls->w_std * ls->w_std, b2 = ls->b_std * ls->b_std;
            for (int s = 0; s < 2; s++)
                for (int t = 0; t < 2; t++) {
                    double *Kn = calloc((size_t)Pn * Pn, sizeof(double)), *Tn = calloc((size_t)Pn * Pn, sizeof(double));
                    for (int a = 0; a < Pn; a++)
                        for (int b = 0; b < Pn; b++) {
                            double sk = 0, st = 0;
                            if (kind == DML_LAYER_AVG_POOL) {
                                for (int d1 = 0; d1 < F; d1++)
                                    for (int d2 = 0; d2 < F; d2++) {
                                        int i = src_pos(&lg, osz, lo, a, d1), j = src_pos(&lg, osz, lo, b, d2);
                                        if (i < 0 || j < 0) continue;
                                        sk += k.K[s][t][i * k.P + j];
                                        st += k.T[s][t][i * k.P + j];
                                    }
                                Kn[a * Pn + b] = sk / ((double)F * F);
                                Tn[a * Pn + b] = st / ((double)F * F);
                                continue;
                            }
                            if (kind == DML_LAYER_CONV_LOCAL && a != b) continue;
                            for (int d = 0; d < F; d++) {
                                int i = src_pos(&lg, osz, lo, a, d), j = src_pos(&lg, osz, lo, b, d);
                                if (i < 0 || j < 0) continue;
                                sk += k.K[s][t][i * k.P + j];
                                st += k.T[s][t][i * k.P + j];
                            }
                            double kn = w2 * sk / F + b2;
                            Kn[a * Pn + b] = kn;
                            Tn[a * Pn + b] = w2 * st / F + kn;
                        }
                    free(k.K[s][t]);
                    free(k.T[s][t]);
                    k.K[s][t] = Kn;
                    k.T[s][t] = Tn;
                }
            for (int a = 0; a < g.nd; a++) g.size[a] = osz[a];
            k.P = Pn;
        }
    }
    *nngp = k.K[0][1][0];
    *ntk = k.T[0][1][0];
    kfree(&k);
}

/* ---- the independent finite network ---- */

/* Forward pass of one input x through the list (layer list L for shapes, parameters p, parameterization ntk or
 * standard as the network was made) into out[NOUT]. */
static void ref_forward(const dml_model *m, const dml_layers *L, const geo *g0, const double *p, const double *x,
                        double *out)
{
    geo g = *g0;
    int P = 1;
    for (int a = 0; a < g.nd; a++) P *= g.size[a];
    int C = g.C;
    double *h = malloc(sizeof *h * (size_t)P * C);
    memcpy(h, x, sizeof *h * (size_t)P * C);
    int ntk = m->parameterization == DML_PARAM_NTK;
    size_t off = 0;
    for (int l = 0; l < L->n; l++) {
        const dml_layer *ly = &L->layer[l];
        const dml_layer_spec *ls = &m->layers[l];
        if (ly->kind == DML_LAYER_ACT) {
            for (int j = 0; j < P * C; j++) h[j] = ls->activation == DML_ACT_RELU ? (h[j] > 0 ? h[j] : 0) : erf(h[j]);
        } else if (ly->kind == DML_LAYER_FLATTEN) {
            C = P * C;
            P = 1;
            g.nd = 0;
        } else if (ly->kind == DML_LAYER_GAP) {
            double *y = calloc((size_t)C, sizeof *y);
            for (int q = 0; q < P; q++)
                for (int c = 0; c < C; c++) y[c] += h[q * C + c] / P;
            free(h);
            h = y;
            P = 1;
            g.nd = 0;
        } else if (ly->kind == DML_LAYER_DENSE || ly->kind == DML_LAYER_READOUT) {
            int Co = ly->out_channels;
            double fan = C, alpha = ntk ? ls->w_std / sqrt(fan) : 1, beta = ntk ? ls->b_std : 1;
            const double *W = p + off, *b = W + (size_t)C * Co;
            double *y = malloc(sizeof *y * Co);
            for (int k = 0; k < Co; k++) {
                double acc = 0;
                for (int c = 0; c < C; c++) acc += h[c] * W[c * Co + k];
                y[k] = alpha * acc + beta * b[k];
            }
            off += (size_t)C * Co + Co;
            free(h);
            h = y;
            C = Co;
        } else {   /* Conv (also a Dense on spatial inputs), ConvLocal, AvgPool */
            geo lg = g;
            lg.pad = ly->padding;
            int osz[2] = {1, 1}, lo[2] = {0, 0}, Pn = 1, F = 1;
            for (int a = 0; a < g.nd; a++) {
                lg.filter[a] = ly->filter[a];
                lg.stride[a] = ly->stride[a];
                osz[a] = axis_out(lg.size[a], lg.filter[a], lg.stride[a], lg.pad, &lo[a]);
                Pn *= osz[a];
                F *= lg.filter[a];
            }
            int pool = ly->kind == DML_LAYER_AVG_POOL, local = ly->kind == DML_LAYER_CONV_LOCAL;
            int Co = pool ? C : ly->out_channels;
            double *y = calloc((size_t)Pn * Co, sizeof *y);
            double fan = (double)F * C, alpha = ntk ? ls->w_std / sqrt(fan) : 1, beta = ntk ? ls->b_std : 1;
            size_t wsz = (size_t)F * C * Co;
            for (int o = 0; o < Pn; o++)
                for (int k = 0; k < Co; k++) {
                    double acc = 0;
                    for (int d = 0; d < F; d++) {
                        int i = src_pos(&lg, osz, lo, o, d);
                        if (i < 0) continue;
                        if (pool) {
                            acc += h[i * C + k];
                            continue;
                        }
                        const double *W = p + off + (local ? (size_t)o * wsz : 0);
                        for (int c = 0; c < C; c++) acc += h[i * C + c] * W[(d * C + c) * Co + k];
                    }
                    if (pool) {
                        y[o * Co + k] = acc / F;
                    } else {
                        const double *b = p + off + (local ? (size_t)Pn * wsz + (size_t)o * Co : wsz);
                        y[o * Co + k] = alpha * acc + beta * b[k];
                    }
                }
            if (!pool) off += local ? (size_t)Pn * (wsz + Co) : wsz + Co;
            free(h);
            h = y;
            for (int a = 0; a < g.nd; a++) g.size[a] = osz[a];
            P = Pn;
            C = Co;
        }
    }
    memcpy(out, h, sizeof *out * NOUT);
    free(h);
}

/* ---- the cases ---- */

static double worst_kernel, worst_forward, worst_grad;
static int ill;

static double tolerance(void) { return min_sin >= 1e-5 ? 1e-10 : 1e-10 + fmin(1e-15 / fmax(min_sin, 1e-300), 1e-7); }

static void check_model(const dml_model *m, const geo *g, const char *label, dml_rng *r)
{
    dml_shape s = {.nd = g->nd, .channels = g->C};
    for (int a = 0; a < g->nd; a++) s.size[a] = g->size[a];
    size_t D = dml_shape_numel(&s), n1 = 3, n2 = 2;
    double *x1 = malloc(sizeof *x1 * n1 * D), *x2 = malloc(sizeof *x2 * n2 * D);
    for (size_t j = 0; j < n1 * D; j++) x1[j] = dml_rng_normal(r);
    for (size_t j = 0; j < n2 * D; j++) x2[j] = dml_rng_normal(r);
    dml_error err;
    /* kernel, cross and Gram */
    double en[9], et[9], rn[9], rt[9];
    for (int gram = 0; gram < 2; gram++) {
        size_t nb = gram ? n1 : n2;
        const double *xb = gram ? x1 : x2;
        int rc = dml_kernel(m, &s, x1, n1, gram ? NULL : x2, nb, en, et, 2, &err);
        CHECK(rc == 0, "%s: dml_kernel: %s", label, err.message);
        if (rc) continue;
        min_sin = 1;
        for (size_t i = 0; i < n1; i++)
            for (size_t j = 0; j < nb; j++)
                ref_kernel(m, g, x1 + i * D, xb + j * D, gram && i == j, &rn[i * nb + j], &rt[i * nb + j]);
        double e = fmax(rel_err(en, rn, n1 * nb), rel_err(et, rt, n1 * nb)), tol = tolerance();
        CHECK(e <= tol, "%s: %s kernels off by %.3g (tolerance %.2g)", label, gram ? "Gram" : "cross", e, tol);
        if (tol == 1e-10) worst_kernel = fmax(worst_kernel, e);
        else ill++;
    }
    /* finite network: forward against the naive pass, backward against finite differences (with erf, smooth
     * everywhere, so that no ReLU kink falls inside the stencil) */
    dml_model fm = *m;
    for (int l = 0; l < fm.nlayers; l++) {
        fm.layers[l].width = 2 + (int)dml_rng_below(r, 3);
        fm.layers[l].activation = DML_ACT_ERF;
    }
    fm.parameterization = dml_rng_below(r, 2) ? DML_PARAM_NTK : DML_PARAM_STANDARD;
    dml_layers L;
    if (dml_model_layers(&fm, &s, NOUT, &L, &err)) {
        CHECK(0, "%s: layers: %s", label, err.message);
        goto out;
    }
    dml_net *net = dml_net_create(&L, fm.parameterization, DML_F64, 3, 1, 0, &err);
    CHECK(net != NULL, "%s: dml_net_create: %s", label, err.message);
    if (!net) goto out;
    size_t np = dml_net_num_params(net);
    double *p = malloc(sizeof *p * (np + 1)), f[3 * NOUT], ref[3 * NOUT];
    dml_net_get_params(net, p);
    dml_net_forward(net, x1, n1, f, &err);
    for (size_t i = 0; i < n1; i++) ref_forward(&fm, &L, g, p, x1 + i * D, ref + i * NOUT);
    double e = rel_err(f, ref, n1 * NOUT);
    CHECK(e <= 1e-12, "%s: finite forward off by %.3g", label, e);
    worst_forward = fmax(worst_forward, e);
    /* loss sum_i,k w_ik f_k(x_i): gradients of parameters and inputs by 4th-order central differences */
    double gw[3 * NOUT], *gp = malloc(sizeof *gp * (np + 1)), *gx = malloc(sizeof *gx * n1 * D);
    for (int j = 0; j < 3 * NOUT; j++) gw[j] = dml_rng_normal(r);
    dml_net_backward(net, x1, n1, gw, NULL, gp, gx, &err);
    double h = 1e-3, worst = 0, scale = 0;
    for (int probe = 0; probe < 8; probe++) {
        int on_x = probe % 2;
        size_t j = on_x ? dml_rng_below(r, n1 * D) : np ? dml_rng_below(r, np) : 0;
        if (!on_x && !np) continue;
        double *v = on_x ? x1 + j : p + j, v0 = *v, fs[4];
        for (int q = 0; q < 4; q++) {
            static const double at[4] = {-2, -1, 1, 2};
            *v = v0 + at[q] * h;
            if (!on_x) dml_net_set_params(net, p);
            double fo[3 * NOUT];
            dml_net_forward(net, x1, n1, fo, &err);
            fs[q] = 0;
            for (int t = 0; t < 3 * NOUT; t++) fs[q] += gw[t] * fo[t];
        }
        *v = v0;
        if (!on_x) dml_net_set_params(net, p);
        double fd = (fs[0] - 8 * fs[1] + 8 * fs[2] - fs[3]) / (12 * h), an = on_x ? gx[j] : gp[j];
        worst = fmax(worst, fabs(fd - an));
        scale = fmax(scale, fabs(fd));
    }
    double ge = scale > 0 ? worst / scale : worst;
    CHECK(ge <= 1e-6, "%s: gradients off the finite differences by %.3g", label, ge);
    worst_grad = fmax(worst_grad, ge);
    free(gp);
    free(gx);
    free(p);
    dml_net_free(net);
out:
    free(x1);
    free(x2);
}

static dml_layer_spec layer(const dml_model *m, dml_layer_kind k) { return dml_layer_spec_from_model(m, k); }

/* A random windowed layer's filter/window, stride and padding. */
static void random_window(dml_rng *r, int nd, dml_layer_spec *s)
{
    s->nfilter = s->nstride = nd;
    for (int a = 0; a < nd; a++) {
        s->filter[a] = 1 + (int)dml_rng_below(r, 3);
        s->stride[a] = dml_rng_below(r, 3) ? 1 : 2;
    }
    s->padding = (dml_padding)dml_rng_below(r, 3);
}

static void random_list(dml_rng *r, int k)
{
    for (int attempt = 0; attempt < 50; attempt++) {
        dml_model m;
        dml_model_defaults(&m);
        m.w_std = uniform(r, 0.7, 1.8);
        m.b_std = dml_rng_below(r, 2) ? uniform(r, 0.0, 0.5) : 0.0;
        geo g = {.nd = 1 + (int)dml_rng_below(r, 2), .C = 1 + (int)dml_rng_below(r, 2)};
        for (int a = 0; a < g.nd; a++) g.size[a] = 2 + (int)dml_rng_below(r, g.nd == 1 ? 7 : 4);
        dml_activation act = dml_rng_below(r, 2) ? DML_ACT_ERF : DML_ACT_RELU;
        int n = 0, blocks = (int)dml_rng_below(r, 4);
        char desc[160] = "";
        for (int b = 0; b < blocks; b++) {
            int t = (int)dml_rng_below(r, 5);
            static const dml_layer_kind kinds[] = {DML_LAYER_CONV, DML_LAYER_CONV_LOCAL, DML_LAYER_DENSE,
                                                   DML_LAYER_AVG_POOL, DML_LAYER_ACT};
            dml_layer_spec s = layer(&m, kinds[t]);
            if (t != 2 && t != 4) random_window(r, g.nd, &s);
            s.w_std = uniform(r, 0.7, 1.8);
            s.activation = act;
            m.layers[n++] = s;
            strncat(desc, dml_layer_kind_name(s.kind), sizeof desc - strlen(desc) - 2);
            strncat(desc, " ", sizeof desc - strlen(desc) - 1);
            if (t < 3) {
                dml_layer_spec a = layer(&m, DML_LAYER_ACT);
                a.activation = act;
                m.layers[n++] = a;
            }
        }
        int gap = (int)dml_rng_below(r, 2);
        m.layers[n++] = layer(&m, gap ? DML_LAYER_GAP : DML_LAYER_FLATTEN);
        strncat(desc, gap ? "gap " : "flatten ", sizeof desc - strlen(desc) - 1);
        if (dml_rng_below(r, 2)) {
            m.layers[n++] = layer(&m, DML_LAYER_DENSE);
            dml_layer_spec a = layer(&m, DML_LAYER_ACT);
            a.activation = act;
            m.layers[n++] = a;
            strncat(desc, "dense act ", sizeof desc - strlen(desc) - 1);
        }
        dml_layer_spec ro = layer(&m, DML_LAYER_READOUT);
        ro.w_std = uniform(r, 0.5, 1.5);
        ro.b_std = uniform(r, 0.0, 0.3);
        m.layers[n++] = ro;
        m.nlayers = n;
        m.arch = DML_ARCH_LAYERS;
        dml_shape s = {.nd = g.nd, .channels = g.C};
        for (int a = 0; a < g.nd; a++) s.size[a] = g.size[a];
        dml_layers L;
        if (dml_model_layers(&m, &s, NOUT, &L, NULL)) continue;   /* e.g. a valid window larger than its input */
        char label[256];
        snprintf(label, sizeof label, "#%d %dD %dx%dx%d %s: %s", k, g.nd, g.size[0], g.nd > 1 ? g.size[1] : 1, g.C,
                 act == DML_ACT_RELU ? "relu" : "erf", desc);
        check_model(&m, &g, label, r);
        return;
    }
    CHECK(0, "#%d: no random list fitted its input in 50 attempts", k);
}

/* The mixed list of issue 10: conv, relu, avg-pool, conv, relu, gap, dense, every padding, 1D and 2D. */
static void mixed(dml_rng *r)
{
    for (int nd = 1; nd <= 2; nd++)
        for (int pad = 0; pad < 3; pad++)
            for (int act = 0; act < 2; act++) {
                dml_model m;
                dml_model_defaults(&m);
                m.b_std = 0.2;
                m.padding = (dml_padding)pad;
                m.nfilter = m.nstride = 1;
                dml_layer_kind kinds[] = {DML_LAYER_CONV, DML_LAYER_ACT, DML_LAYER_AVG_POOL, DML_LAYER_CONV,
                                          DML_LAYER_ACT, DML_LAYER_GAP, DML_LAYER_READOUT};
                for (int l = 0; l < 7; l++) {
                    m.layers[l] = layer(&m, kinds[l]);
                    m.layers[l].activation = act ? DML_ACT_ERF : DML_ACT_RELU;
                }
                m.layers[2].filter[0] = 2;   /* window 2, stride 1 */
                m.nlayers = 7;
                m.arch = DML_ARCH_LAYERS;
                geo g = {.nd = nd, .C = 2, .size = {nd == 1 ? 9 : 7, 7}};
                char label[96];
                snprintf(label, sizeof label, "mixed %dD %s %s", nd, pad == 0 ? "same" : pad == 1 ? "valid" : "circular",
                         act ? "erf" : "relu");
                check_model(&m, &g, label, r);
            }
}

int main(void)
{
    dml_rng r;
    uint64_t key = 1030;
    dml_rng_seed(&r, &key, 1);
    mixed(&r);
    for (int k = 0; k < 200; k++) random_list(&r, k);
    printf("worst relative differences: kernels %.3g (%d near-degenerate ReLU angles at a wider tolerance), "
           "finite forward %.3g, gradients %.3g\n", worst_kernel, ill, worst_forward, worst_grad);
    return check_summary("layers_reference");
}
