/* Finite networks against the infinite-width kernels: the Monte Carlo NNGP and the empirical NTK of wide
 * random networks (dml_empirical_kernel, parameterization ntk) agree with dml_kernel for every arch,
 * relu and erf.
 *
 * Tolerance (derived, per entry (a, b), in units of s = sqrt(K[a,a] K[b,b]) of the exact kernel):
 *   - Monte Carlo error: the estimate is a mean over S independent networks (each averaging its `outputs`
 *     readout units); its standard error se is estimated from the spread of the S per-network estimates.
 *   - Finite-width bias: at width W the expectation of the empirical kernels differs from the limit by
 *     O(1/W) relative (Hanin & Nica 2019; Yaida 2020), with an O(1) constant for depth 2: we allow 2/W * s.
 *   Pass when |estimate - exact| <= 4 se + 2/W s (4 se: with 3 x 3 entries x 16 cases the chance of a
 *   false alarm stays small even with se estimated from S = 8 draws) and, in any case, <= 0.05 s
 *   (the "a few percent" requirement, binding when a sample is unluckily noisy).
 * The NNGP uses the exact readout average (exact_readout = 1; the literal mean over output units is
 * checked against it separately). Sizes keep the test fast: 3 inputs, width 512, S = 8 networks with 4 outputs each; fcn on 8x8x1,
 * lcn on 1D length 8 with 2 channels (its unshared weights grow as positions x width^2), cnn-vec and
 * cnn-gap on 6x6x1 (3x3 filters, same padding; cnn-gap also with circular padding and stride 2); average
 * pooling in two explicit layer lists (run_pool). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "check.h"
#include "dmilab/kernel.h"
#include "dmilab/nn.h"
#include "dmilab/rng.h"

#define NIN 3
#define S 8
#define W 512
#define OUT 4

static void run_model(const char *name, dml_model m, dml_shape sh)
{
    size_t D = dml_shape_numel(&sh);
    double *x = malloc(sizeof *x * NIN * D);
    dml_rng r;
    uint64_t key = 7;
    dml_rng_seed(&r, &key, 1);
    for (size_t j = 0; j < NIN * D; j++) x[j] = dml_rng_normal(&r);
    double K[NIN * NIN], T[NIN * NIN], k[S][NIN * NIN], t[S][NIN * NIN];
    dml_error err;
    int rc = dml_kernel(&m, &sh, x, NIN, NULL, NIN, K, T, 2, &err);
    CHECK(rc == 0, "%s: kernel: %s", name, err.message);
    clock_t c0 = clock();
    for (int s = 0; s < S && rc == 0; s++) {
        rc = dml_empirical_kernel(&m, &sh, x, NIN, NULL, NIN, W, OUT, 1, 1, 1000 + s, k[s], t[s], 2, &err);
        CHECK(rc == 0, "%s: empirical kernel: %s", name, err.message);
    }
    if (rc == 0) {
        double worst_k = 0, worst_t = 0;
        for (int what = 0; what < 2; what++) {
            const double *ex = what ? T : K;
            for (int a = 0; a < NIN; a++)
                for (int b = 0; b < NIN; b++) {
                    int e = a * NIN + b;
                    double mean = 0, var = 0;
                    for (int s = 0; s < S; s++) mean += (what ? t[s][e] : k[s][e]) / S;
                    for (int s = 0; s < S; s++) {
                        double d = (what ? t[s][e] : k[s][e]) - mean;
                        var += d * d / (S - 1);
                    }
                    double se = sqrt(var / S), sc = sqrt(ex[a * NIN + a] * ex[b * NIN + b]);
                    double dev = fabs(mean - ex[e]);
                    double tol = 4 * se + 2.0 / W * sc;
                    if (tol > 0.05 * sc) tol = 0.05 * sc;
                    CHECK(dev <= tol, "%s %s[%d,%d]: empirical %.6g exact %.6g (se %.3g, tol %.3g)", name,
                          what ? "ntk" : "nngp", a, b, mean, ex[e], se, tol);
                    if (what) worst_t = fmax(worst_t, dev / sc);
                    else worst_k = fmax(worst_k, dev / sc);
                }
        }
        printf("  %-28s nngp dev %.4f  ntk dev %.4f (relative to sqrt(K_aa K_bb))  %.1f s cpu\n", name, worst_k,
               worst_t, (double)(clock() - c0) / CLOCKS_PER_SEC);
    }
    free(x);
}

static void run(const char *name, dml_arch arch, dml_activation act, dml_shape sh, dml_padding pad, int stride)
{
    dml_model m;
    dml_model_defaults(&m);
    m.arch = arch;
    m.activation = act;
    m.padding = pad;
    m.stride[0] = stride;
    m.b_std = 0.2;
    m.readout_b_std = 0.1;
    if (act == DML_ACT_ERF) m.w_std = 1.5;
    run_model(name, m, sh);
}

/* Average pooling (explicit layer lists, DESIGN 3.1): conv, act, avg-pool, conv, act, gap, dense on 6x6 (window
 * 2, same padding), and conv, act, avg-pool (window 3, stride 2, circular), flatten, dense on 1D length 9. */
static void run_pool(const char *name, dml_activation act, int mixed)
{
    dml_model m;
    dml_model_defaults(&m);
    m.b_std = 0.2;
    m.readout_b_std = 0.1;
    if (act == DML_ACT_ERF) m.w_std = 1.5;
    const dml_layer_kind a[] = {DML_LAYER_CONV, DML_LAYER_ACT, DML_LAYER_AVG_POOL, DML_LAYER_CONV, DML_LAYER_ACT,
                                DML_LAYER_GAP, DML_LAYER_READOUT};
    const dml_layer_kind b[] = {DML_LAYER_CONV, DML_LAYER_ACT, DML_LAYER_AVG_POOL, DML_LAYER_FLATTEN, DML_LAYER_READOUT};
    const dml_layer_kind *k = mixed ? a : b;
    m.nlayers = mixed ? 7 : 5;
    m.arch = DML_ARCH_LAYERS;
    for (int l = 0; l < m.nlayers; l++) {
        m.layers[l] = dml_layer_spec_from_model(&m, k[l]);
        m.layers[l].activation = act;
    }
    m.layers[2].filter[0] = mixed ? 2 : 3;
    if (!mixed) {
        m.layers[2].stride[0] = 2;
        m.layers[2].padding = DML_PAD_CIRCULAR;
    }
    dml_shape img6 = {.nd = 2, .size = {6, 6}, .channels = 1}, seq9 = {.nd = 1, .size = {9, 0}, .channels = 2};
    run_model(name, m, mixed ? img6 : seq9);
}

/* The literal estimator (mean over sampled output units) against the exact readout average of the same
 * networks (same seeds: the hidden layers are drawn first, so they coincide): the difference is pure readout
 * noise, of sd at most sqrt(2 / outputs) * s per entry (Var f_k f'_k = K K' + K12^2 <= 2 s^2); allow 5 sd. */
static void literal_readout(void)
{
    dml_model m;
    dml_model_defaults(&m);
    dml_shape sh = {.nd = 2, .size = {8, 8}, .channels = 1};
    double x[NIN * 64], k0[NIN * NIN], k1[NIN * NIN];
    dml_rng r;
    uint64_t key = 8;
    dml_rng_seed(&r, &key, 1);
    for (int j = 0; j < NIN * 64; j++) x[j] = dml_rng_normal(&r);
    dml_error err;
    const int outs = 4096;
    int rc = dml_empirical_kernel(&m, &sh, x, NIN, NULL, NIN, W, outs, 1, 0, 5, k0, NULL, 2, &err) ||
             dml_empirical_kernel(&m, &sh, x, NIN, NULL, NIN, W, outs, 1, 1, 5, k1, NULL, 2, &err);
    CHECK(rc == 0, "literal readout: %s", err.message);
    for (int a = 0; a < NIN; a++)
        for (int b = 0; b < NIN; b++) {
            double s = sqrt(k1[a * NIN + a] * k1[b * NIN + b]);
            CHECK(fabs(k0[a * NIN + b] - k1[a * NIN + b]) <= 5 * sqrt(2.0 / outs) * s,
                  "literal nngp[%d,%d] %.6g vs exact readout %.6g", a, b, k0[a * NIN + b], k1[a * NIN + b]);
        }
}

/* x2 given: the cross block equals the matching block of the Gram matrix (same seeds, same networks). */
static void cross_block(void)
{
    dml_model m;
    dml_model_defaults(&m);
    m.arch = DML_ARCH_CNN_GAP;
    m.padding = DML_PAD_CIRCULAR;
    dml_shape sh = {.nd = 1, .size = {6, 0}, .channels = 2};
    double x[4 * 12], kg[16], tg[16], kc[4 * 2], tc[4 * 2];
    dml_rng r;
    uint64_t key = 4;
    dml_rng_seed(&r, &key, 1);
    for (int j = 0; j < 4 * 12; j++) x[j] = dml_rng_normal(&r);
    dml_error err;
    int rc = dml_empirical_kernel(&m, &sh, x, 4, NULL, 4, 16, 3, 2, 1, 11, kg, tg, 1, &err) ||
             dml_empirical_kernel(&m, &sh, x, 4, x + 2 * 12, 2, 16, 3, 2, 1, 11, kc, tc, 1, &err);
    CHECK(rc == 0, "cross block: %s", err.message);
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 2; b++) {
            CHECK(close_rel(kc[a * 2 + b], kg[a * 4 + 2 + b], 1e-12), "cross nngp[%d,%d]", a, b);
            CHECK(close_rel(tc[a * 2 + b], tg[a * 4 + 2 + b], 1e-12), "cross ntk[%d,%d]", a, b);
        }
}

/* The standard errors of dml_empirical_kernel_se are those of the per-network estimates: network s's own
 * estimate is recovered from the means over s and s + 1 networks, (s + 1) m_{s+1} - s m_s, and their sample
 * standard deviation over sqrt(S) must match (to the rounding of that recovery). */
static void standard_errors(void)
{
    enum { NS = 5 };
    dml_model m;
    dml_model_defaults(&m);
    m.arch = DML_ARCH_CNN_GAP;
    dml_shape sh = {.nd = 1, .size = {5, 0}, .channels = 2};
    double x[3 * 10], mk[NS + 1][9], mt[NS + 1][9], sek[9], set[9];
    dml_rng r;
    uint64_t key = 12;
    dml_rng_seed(&r, &key, 1);
    for (int j = 0; j < 30; j++) x[j] = dml_rng_normal(&r);
    dml_error err;
    int rc = 0;
    memset(mk[0], 0, sizeof mk[0]);
    memset(mt[0], 0, sizeof mt[0]);
    for (int s = 1; s <= NS; s++) rc |= dml_empirical_kernel(&m, &sh, x, 3, NULL, 3, 32, 2, s, 0, 9, mk[s], mt[s], 1, &err);
    double ek[9], et[9];
    rc |= dml_empirical_kernel_se(&m, &sh, x, 3, NULL, 3, 32, 2, NS, 0, 9, ek, et, sek, set, 1, &err);
    CHECK(rc == 0, "standard errors: %s", err.message);
    for (int e = 0; e < 9 && rc == 0; e++)
        for (int k = 0; k < 2; k++) {
            double (*mm)[9] = k ? mt : mk, v[NS], mean = 0, var = 0;
            for (int s = 0; s < NS; s++) mean += (v[s] = (s + 1) * mm[s + 1][e] - s * mm[s][e]) / NS;
            for (int s = 0; s < NS; s++) var += (v[s] - mean) * (v[s] - mean) / (NS - 1);
            double want = sqrt(var / NS), got = (k ? set : sek)[e];
            CHECK(fabs(got - want) <= 1e-9 * fabs(mean) && (k ? et : ek)[e] == mm[NS][e],
                  "%s[%d]: standard error %.10g, from the per-network estimates %.10g", k ? "ntk" : "nngp", e, got, want);
        }
}

int main(void)
{
    standard_errors();
    literal_readout();
    cross_block();
    dml_shape img8 = {.nd = 2, .size = {8, 8}, .channels = 1};
    dml_shape img6 = {.nd = 2, .size = {6, 6}, .channels = 1};
    dml_shape seq8 = {.nd = 1, .size = {8, 0}, .channels = 2};
    for (int a = 0; a < 2; a++) {
        dml_activation act = a ? DML_ACT_ERF : DML_ACT_RELU;
        const char *an = a ? "erf" : "relu";
        char name[64];
        snprintf(name, sizeof name, "fcn %s 8x8", an);
        run(name, DML_ARCH_FCN, act, img8, DML_PAD_SAME, 1);
        snprintf(name, sizeof name, "lcn %s 1D 8x2", an);
        run(name, DML_ARCH_LCN, act, seq8, DML_PAD_SAME, 1);
        snprintf(name, sizeof name, "cnn-vec %s 6x6", an);
        run(name, DML_ARCH_CNN_VEC, act, img6, DML_PAD_SAME, 1);
        snprintf(name, sizeof name, "cnn-gap %s 6x6", an);
        run(name, DML_ARCH_CNN_GAP, act, img6, DML_PAD_SAME, 1);
        snprintf(name, sizeof name, "cnn-gap %s 6x6 circ s2", an);
        run(name, DML_ARCH_CNN_GAP, act, img6, DML_PAD_CIRCULAR, 2);
        snprintf(name, sizeof name, "avg-pool gap %s 6x6", an);
        run_pool(name, act, 1);
        snprintf(name, sizeof name, "avg-pool flatten %s 1D 9x2", an);
        run_pool(name, act, 0);
    }
    return check_summary("nn_kernel");
}
