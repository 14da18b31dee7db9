/* The spectral readout (issue 13) against theory: a linear kernel on gaussian data (population covariance and its
 * finite-N estimate), the ReLU kernel on the sphere (Funk-Hecke eigenvalues with their multiplicities), target
 * power and eigenvectors, alignment and effective dimension against their definitions, the eigenlearning formula
 * with the population spectrum and the learning curve predicted from a finite spectrum, both against measured
 * kernel regression on synthetic data, and the translation-invariant kernel's concentration of a
 * translation-invariant target. */
#include <cblas.h>
#include <lapacke.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/kernel.h"
#include "dmilab/ridge.h"
#include "dmilab/ridge_packed.h"
#include "dmilab/rng.h"
#include "dmilab/experiment.h"
#include "dmilab/spectrum.h"
#include "dmilab/synthetic.h"
#include "check.h"

static dml_rng rng;

static double *randn(size_t n)
{
    double *x = malloc(sizeof *x * n);
    for (size_t i = 0; i < n; i++) x[i] = dml_rng_normal(&rng);
    return x;
}

/* n points uniform on the sphere of radius sqrt(d) in R^d (so that the fcn input covariance x.x'/d is the cosine) */
static double *sphere(size_t n, size_t d)
{
    double *x = randn(n * d);
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t c = 0; c < d; c++) s += x[i * d + c] * x[i * d + c];
        for (size_t c = 0; c < d; c++) x[i * d + c] *= sqrt((double)d / s);
    }
    return x;
}

static dml_model fcn(int depth)
{
    dml_model m;
    dml_model_defaults(&m);
    m.depth = depth;
    return m;
}

/* K (n1 x n2, or the Gram when x2 is NULL) of `m` on flat inputs of dimension d: NNGP, or NTK when ntk */
static double *kernel(const dml_model *m, size_t d, const double *x1, size_t n1, const double *x2, size_t n2, int ntk)
{
    dml_shape s = {.nd = 0, .channels = (int)d};
    size_t n = n1 * (x2 ? n2 : n1);
    double *K = malloc(sizeof *K * n), *T = ntk ? malloc(sizeof *T * n) : NULL;
    dml_error err = {0};
    CHECK(dml_kernel(m, &s, x1, n1, x2, x2 ? n2 : n1, K, T, 2, &err) == 0, "dml_kernel: %s", err.message);
    if (ntk) {
        free(K);
        return T;
    }
    return K;
}

/* ---- a linear (depth 0) kernel on gaussian data ----
 * fcn of depth 0 with readout_w_std 1, b_std 0: K(x, x') = x.x'/d. For x ~ N(0, diag(s)), the integral operator
 * E_x' K(x, x') f(x') has the eigenvalues s_c / d (eigenfunctions x_c); the Gram over N points has, divided by
 * N, exactly the eigenvalues of the sample second-moment matrix X^T X / (N d) and zeros. The sample eigenvalues
 * of distinct population eigenvalues are asymptotically normal with standard deviation l sqrt(2/N) (Anderson
 * 1963): each standardised error must be within 4, and their squares sum below 27.9 (chi^2 with 6 degrees of
 * freedom, upper 0.01% point). */
static void test_linear_gaussian(void)
{
    size_t N = 1000, d = 6;
    double s[6] = {4, 2, 1, 0.5, 0.25, 0.125};
    double *x = randn(N * d), *y = malloc(sizeof *y * N), beta[6] = {1, -1, 0.5, 2, 0, 1};
    for (size_t i = 0; i < N; i++) {
        y[i] = 0;
        for (size_t c = 0; c < d; c++) {
            x[i * d + c] *= sqrt(s[c]);
            y[i] += beta[c] * x[i * d + c];
        }
    }
    dml_model m = fcn(0);
    double *K = kernel(&m, d, x, N, NULL, N, 0);
    dml_spectrum sp;
    dml_error err = {0};
    CHECK(dml_spectrum_compute(K, N, N, y, 1, 0, &sp, &err) == 0, "spectrum: %s", err.message);
    /* exact: the eigenvalues of X^T X / (N d) */
    double C[36], w[6];
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)d, (int)N, 1.0 / (double)(N * d), x, (int)d, x,
                (int)d, 0.0, C, (int)d);
    LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'N', 'U', (lapack_int)d, C, (lapack_int)d, w);
    double top = sp.eigenvalue[0], exact = 0, rest = 0, chi2 = 0, worst_z = 0;
    for (size_t c = 0; c < d; c++) exact = fmax(exact, fabs(sp.eigenvalue[c] - w[d - 1 - c]) / top);
    for (size_t i = d; i < N; i++) rest = fmax(rest, fabs(sp.eigenvalue[i]) / top);
    CHECK(exact <= 1e-12, "top %zu eigenvalues vs X^T X / (N d): %.3g", d, exact);
    CHECK(rest <= 1e-13, "the other N - d eigenvalues vanish: %.3g of the top", rest);
    /* population */
    for (size_t c = 0; c < d; c++) {
        double l = s[c] / (double)d, z = (sp.eigenvalue[c] - l) / (l * sqrt(2.0 / (double)N));
        chi2 += z * z;
        worst_z = fmax(worst_z, fabs(z));
    }
    CHECK(worst_z <= 4 && chi2 <= 27.9, "sample vs population eigenvalues: worst |z| %.2f, chi^2 %.2f", worst_z, chi2);
    /* a linear target lies in the span of the top d eigenvectors */
    CHECK(fabs(sp.cumulative[d - 1] - 1) <= 1e-12, "linear target: cumulative power at %zu is %.15g", d,
          sp.cumulative[d - 1]);
    /* alignment and effective dimension against their definitions, computed from K */
    double Ky = 0, KF = 0, tr = 0, yy = 0;
    for (size_t i = 0; i < N; i++) {
        double r = 0;
        for (size_t j = 0; j < N; j++) {
            r += K[i * N + j] * y[j];
            KF += K[i * N + j] * K[i * N + j];
        }
        Ky += y[i] * r;
        tr += K[i * N + i];
        yy += y[i] * y[i];
    }
    double align = Ky / (sqrt(KF) * yy), deff = tr * tr / KF;
    CHECK(close_rel(sp.alignment, align, 1e-12), "alignment %.15g vs %.15g", sp.alignment, align);
    CHECK(close_rel(sp.effective_dimension, deff, 1e-12), "effective dimension %.15g vs %.15g",
          sp.effective_dimension, deff);
    CHECK(close_rel(sp.trace, tr / (double)N, 1e-13), "trace / N %.15g vs %.15g", sp.trace, tr / (double)N);
    double pop = 0, pop2 = 0;
    for (size_t c = 0; c < d; c++) {
        pop += s[c];
        pop2 += s[c] * s[c];
    }
    printf("linear kernel, gaussian data, N = %zu: top %zu eigenvalues vs X^T X/(Nd) %.2e; vs population worst |z| "
           "%.2f, chi^2 %.2f; effective dimension %.4f (population %.4f); alignment %.4f\n",
           N, d, exact, worst_z, chi2, sp.effective_dimension, pop * pop / pop2, sp.alignment);
    dml_spectrum_free(&sp);
    free(x);
    free(y);
    free(K);
}

/* ---- the ReLU kernel on the sphere S^2 ----
 * fcn of depth 1, relu, w_std^2 = 2, b_std 0, readout 1/0 on the sphere of radius sqrt(3) is the dot-product
 * kernel k(t) = (sqrt(1 - t^2) + (pi - arccos t) t) / pi of the cosine t (arc-cosine kernel of degree 1, Cho &
 * Saul 2009). By Funk-Hecke its operator eigenvalue on the degree-l spherical harmonics (2l + 1 of them on S^2) is
 * lambda_l = (1/2) int_{-1}^{1} k(t) P_l(t) dt with P_l the Legendre polynomial; in closed form lambda_0 = 3/8,
 * lambda_1 = 1/6, lambda_2 = 3/128, lambda_4 = 1/1536, lambda_6 = 3/32768 and lambda_l = 0 for odd l >= 3. */
static double relu_k(double t)
{
    if (t > 1) t = 1;
    if (t < -1) t = -1;
    return (sqrt(1 - t * t) + (M_PI - acos(t)) * t) / M_PI;
}

static double legendre(int l, double t)
{
    double a = 1, b = t;
    if (l == 0) return a;
    for (int j = 1; j < l; j++) {
        double c = ((2 * j + 1) * t * b - j * a) / (j + 1);
        a = b;
        b = c;
    }
    return b;
}

/* Gauss-Legendre nodes and weights on [-1, 1] (Newton on P_q from the Chebyshev guesses) */
static void gauss_legendre(int q, double *x, double *w)
{
    for (int i = 0; i < q; i++) {
        double z = cos(M_PI * (i + 0.75) / (q + 0.5)), dp = 1;
        for (int it = 0; it < 100; it++) {
            double p = legendre(q, z), p1 = legendre(q - 1, z);
            dp = q * (z * p - p1) / (z * z - 1);
            double dz = p / dp;
            z -= dz;
            if (fabs(dz) < 1e-16) break;
        }
        x[i] = z;
        w[i] = 2 / ((1 - z * z) * dp * dp);
    }
}

/* lambda_l by Funk-Hecke in the angle phi (t = cos phi), where the integrand is analytic and oscillates l times:
 * Gauss-Legendre with 720 nodes on [0, pi] is exact to rounding for l <= 400. Computed once. */
#define FH_LEVELS 400
static double funk_hecke(int l)
{
    static double lam[FH_LEVELS + 1];
    static int ready;
    if (!ready) {
        enum { Q = 720 };
        static double x[Q], w[Q];
        gauss_legendre(Q, x, w);
        for (int g = 0; g <= FH_LEVELS; g++) {
            double s = 0;
            for (int i = 0; i < Q; i++) {
                double phi = 0.5 * M_PI * (x[i] + 1), t = cos(phi);
                s += w[i] * relu_k(t) * legendre(g, t) * sin(phi);
            }
            lam[g] = 0.5 * 0.5 * M_PI * s;
        }
        ready = 1;
    }
    return lam[l];
}

static void test_sphere_funk_hecke(void)
{
    /* the kernel is the one dml_kernel computes */
    double *x = sphere(40, 3);
    dml_model m = fcn(1);
    double *K = kernel(&m, 3, x, 40, NULL, 40, 0), kerr = 0;
    for (size_t i = 0; i < 40; i++)
        for (size_t j = 0; j < 40; j++) {
            double t = (x[i * 3] * x[j * 3] + x[i * 3 + 1] * x[j * 3 + 1] + x[i * 3 + 2] * x[j * 3 + 2]) / 3;
            kerr = fmax(kerr, fabs(K[i * 40 + j] - relu_k(t)));
        }
    CHECK(kerr <= 1e-14, "fcn depth 1 on the sphere is the arc-cosine kernel: %.3g", kerr);
    free(x);
    free(K);
    /* the quadrature against the closed forms, and the sum rule sum_l (2l + 1) lambda_l = k(1) = 1 */
    double closed[7] = {3.0 / 8, 1.0 / 6, 3.0 / 128, 0, 1.0 / 1536, 0, 3.0 / 32768}, qerr = 0, sum = 0;
    for (int l = 0; l < 7; l++) qerr = fmax(qerr, fabs(funk_hecke(l) - closed[l]));
    for (int l = 0; l <= FH_LEVELS; l++) sum += (2 * l + 1) * funk_hecke(l);
    CHECK(qerr <= 1e-15, "Funk-Hecke quadrature vs closed forms: %.3g", qerr);
    CHECK(fabs(sum - 1) <= 1e-6, "sum rule: %.12f", sum);

    /* The Gram of N points has clusters of 1, 3, 5, 9, 13 eigenvalues (levels 0, 1, 2, 4, 6). A cluster's sum
     * estimates (2l + 1) lambda_l; its first-order fluctuation vanishes (the addition theorem makes
     * sum_m Y_lm(x)^2 = 2l + 1 at every x), and second-order perturbation theory puts the relative error at
     * about (1/N) sum_l' (2l' + 1) lambda_l' / |lambda_l - lambda_l'| (the coupling to the other levels, each
     * within its multiplicity): required within 4 times that. */
    size_t N = 1200;
    int levels[5] = {0, 1, 2, 4, 6};
    x = sphere(N, 3);
    K = kernel(&m, 3, x, N, NULL, N, 0);
    dml_spectrum sp;
    dml_error err = {0};
    CHECK(dml_spectrum_compute(K, N, N, NULL, 0, 0, &sp, &err) == 0, "spectrum: %s", err.message);
    size_t at = 0;
    double worst = 0;
    for (int g = 0; g < 5; g++) {
        int l = levels[g];
        size_t mult = 2 * (size_t)l + 1;
        double lam = closed[l], cl = 0, second = 0;
        for (size_t i = at; i < at + mult; i++) cl += sp.eigenvalue[i];
        for (int l2 = 0; l2 <= FH_LEVELS; l2++) {
            double lam2 = funk_hecke(l2);
            if (l2 != l && fabs(lam2) > 1e-17) second += (2 * l2 + 1) * lam2 / fabs(lam - lam2);
        }
        double tol = 4 * mult * lam * second / (double)N, dev = fabs(cl - mult * lam);
        /* the cluster is separated from the next one: the multiplicities are visible */
        int separated = at + mult >= N || sp.eigenvalue[at + mult - 1] > sp.eigenvalue[at + mult];
        CHECK(dev <= tol && separated, "level %d: cluster of %zu sums to %.6g, theory %.6g (tolerance %.2g)", l, mult,
              cl, mult * lam, tol);
        printf("sphere S^2, relu kernel, N = %zu: level %d, %zu eigenvalues sum to %.6g, Funk-Hecke %.6g (relative "
               "%.2e, tolerance %.2e); smallest %.4g, largest %.4g\n",
               N, l, mult, cl, mult * lam, dev / (mult * lam), tol / (mult * lam), sp.eigenvalue[at + mult - 1],
               sp.eigenvalue[at]);
        worst = fmax(worst, dev / (mult * lam));
        at += mult;
    }
    dml_spectrum_free(&sp);
    free(x);
    free(K);
}

/* ---- eigenvectors and target power ---- */
static void test_vectors_and_power(void)
{
    size_t N = 300, d = 5, q = 7;
    double *x = randn(N * d);
    dml_model m = fcn(2);
    m.b_std = 0.1;
    double *K = kernel(&m, d, x, N, NULL, N, 0);
    dml_spectrum sp, sq;
    dml_error err = {0};
    CHECK(dml_spectrum_compute(K, N, N, NULL, 0, 1, &sp, &err) == 0, "spectrum: %s", err.message);
    CHECK(sp.power == NULL && sp.cumulative == NULL && sp.vectors != NULL, "eigenvalues only, with vectors");
    /* orthonormal rows, and eigenpairs of K */
    double orth = 0, res = 0, KF = 0;
    for (size_t i = 0; i < N * N; i++) KF += K[i] * K[i];
    double *G = malloc(sizeof *G * N * N), *Kv = malloc(sizeof *Kv * N);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)N, (int)N, 1.0, sp.vectors, (int)N, sp.vectors,
                (int)N, 0.0, G, (int)N);
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < N; j++) orth = fmax(orth, fabs(G[i * N + j] - (i == j)));
    for (size_t i = 0; i < N; i++) {
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)N, (int)N, 1.0, K, (int)N, sp.vectors + i * N, 1, 0.0, Kv, 1);
        double r = 0;
        for (size_t j = 0; j < N; j++) {
            double e = Kv[j] - (double)N * sp.eigenvalue[i] * sp.vectors[i * N + j];
            r += e * e;
        }
        res = fmax(res, sqrt(r / KF));
    }
    CHECK(orth <= 1e-10, "eigenvectors orthonormal: %.3g", orth);
    CHECK(res <= 1e-10, "K u = N l u: residual %.3g of ||K||_F", res);
    /* eigenvalues against LAPACK's dsyevd */
    double *A = malloc(sizeof *A * N * N), *w = malloc(sizeof *w * N), ev = 0;
    memcpy(A, K, sizeof *A * N * N);
    LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'N', 'U', (lapack_int)N, A, (lapack_int)N, w);
    for (size_t i = 0; i < N; i++) ev = fmax(ev, fabs(sp.eigenvalue[i] * (double)N - w[N - 1 - i]) / w[N - 1]);
    CHECK(ev <= 1e-12, "eigenvalues vs dsyevd: %.3g", ev);
    for (size_t i = 1; i < N; i++) CHECK(sp.eigenvalue[i] <= sp.eigenvalue[i - 1], "descending at %zu", i);

    /* a target built from the top q eigenvectors, two outputs: power a_i^2 on mode i < q, 1 at q, 0 beyond */
    size_t k = 2;
    double a[14], asum = 0, *Y = calloc(N * k, sizeof *Y);
    for (size_t i = 0; i < q * k; i++) {
        a[i] = dml_rng_normal(&rng);
        asum += a[i] * a[i];
    }
    for (size_t i = 0; i < q; i++)
        for (size_t r = 0; r < N; r++)
            for (size_t c = 0; c < k; c++) Y[r * k + c] += a[i * k + c] * sp.vectors[i * N + r];
    CHECK(dml_spectrum_compute(K, N, N, Y, k, 0, &sq, &err) == 0, "spectrum with targets: %s", err.message);
    double pw = 0, beyond = 0, cum_beyond = 0;
    for (size_t i = 0; i < q; i++) {
        double expect = (a[i * k] * a[i * k] + a[i * k + 1] * a[i * k + 1]) / asum;
        pw = fmax(pw, fabs(sq.power[i] - expect));
    }
    for (size_t i = q; i < N; i++) {
        beyond = fmax(beyond, sq.power[i]);
        cum_beyond = fmax(cum_beyond, fabs(sq.cumulative[i] - 1));
    }
    CHECK(pw <= 1e-12, "power of the top %zu modes: %.3g", q, pw);
    CHECK(fabs(sq.cumulative[q - 1] - 1) <= 1e-12, "cumulative power at %zu: %.17g", q, sq.cumulative[q - 1]);
    CHECK(beyond <= 1e-20 && cum_beyond <= 1e-12, "power beyond %zu: %.3g, cumulative - 1: %.3g", q, beyond,
          cum_beyond);
    CHECK(q < 2 || sq.cumulative[q - 2] < 1 - 1e-3, "and not before: %.6f at %zu", sq.cumulative[q - 2], q - 1);
    printf("target on the top %zu eigenvectors (N = %zu): power error %.2e, cumulative at %zu = 1 %+.2e, power "
           "beyond %.2e; eigenvectors orthonormal to %.2e, residual %.2e\n",
           q, N, pw, q, sq.cumulative[q - 1] - 1, beyond, orth, res);
    /* from packed storage: the same numbers */
    double *arf = malloc(sizeof *arf * dml_packed_numel(N));
    dml_packed_from_dense(arf, K, N, N);
    dml_spectrum sr;
    CHECK(dml_spectrum_compute_packed(arf, N, N, Y, k, 0, &sr, &err) == 0, "packed: %s", err.message);
    CHECK(!memcmp(sr.eigenvalue, sq.eigenvalue, sizeof(double) * N) && !memcmp(sr.power, sq.power, sizeof(double) * N),
          "the packed Gram gives the same spectrum");
    dml_spectrum_free(&sr);
    /* the first n points: the leading block */
    CHECK(dml_spectrum_compute_packed(arf, N, 100, Y, k, 0, &sr, &err) == 0, "packed prefix: %s", err.message);
    dml_spectrum st;
    CHECK(dml_spectrum_compute(K, N, 100, Y, k, 0, &st, &err) == 0, "dense prefix: %s", err.message);
    CHECK(sr.n == 100 && !memcmp(sr.eigenvalue, st.eigenvalue, sizeof(double) * 100), "prefix of 100 points");
    dml_spectrum_free(&sr);
    dml_spectrum_free(&st);
    /* a zero target has no power anywhere and alignment 0 */
    memset(Y, 0, sizeof *Y * N * k);
    CHECK(dml_spectrum_compute(K, N, N, Y, k, 0, &sr, &err) == 0 && sr.power[0] == 0 && sr.cumulative[N - 1] == 0 &&
              sr.alignment == 0,
          "zero target");
    dml_spectrum_free(&sr);
    /* a NaN entry is a clear numeric error */
    K[5] = NAN;
    CHECK(dml_spectrum_compute(K, N, N, NULL, 0, 0, &sr, &err) == -1 && err.code == DML_ERR_NUMERIC, "NaN: %s",
          err.message);
    CHECK(dml_spectrum_bytes(20000, 10, 0) < 8.0 * 20000 * 20000 * 1.01, "memory: one n x n workspace");
    CHECK(dml_spectrum_flops(3000, 2, 0) == 4.0 * 2.7e10 / 3 + 6.0 * 9e6 * 2, "flops");
    /* one and two points, by hand: [[2]] with y = 3; [[2, 1], [1, 2]] (eigenvalues 3, 1; u = (1, 1)/sqrt 2, ...) */
    double K1 = 2, y1 = 3, K2[4] = {2, 1, 1, 2}, y2[2] = {1, 1};
    CHECK(dml_spectrum_compute(&K1, 1, 1, &y1, 1, 1, &sr, &err) == 0 && sr.eigenvalue[0] == 2 && sr.power[0] == 1 &&
              close_rel(sr.alignment, 1, 1e-15) && sr.effective_dimension == 1 && fabs(sr.vectors[0]) == 1,
          "one point");
    dml_spectrum_free(&sr);
    CHECK(dml_spectrum_compute(K2, 2, 2, y2, 1, 0, &sr, &err) == 0 && close_rel(sr.eigenvalue[0], 1.5, 1e-15) &&
              close_rel(sr.eigenvalue[1], 0.5, 1e-15) && close_rel(sr.power[0], 1, 1e-15) && sr.power[1] < 1e-30 &&
              close_rel(sr.effective_dimension, 1.6, 1e-15) && close_rel(sr.alignment, 6 / (sqrt(10.0) * 2), 1e-15),
          "two points: %.17g %.17g, power %.3g %.3g, alignment %.17g", sr.eigenvalue[0], sr.eigenvalue[1], sr.power[0],
          sr.power[1], sr.alignment);
    dml_spectrum_free(&sr);
    dml_spectrum_free(&sp);
    dml_spectrum_free(&sq);
    free(x);
    free(K);
    free(G);
    free(Kv);
    free(A);
    free(w);
    free(Y);
    free(arf);
}

static void test_thin(void)
{
    size_t idx[2000];
    CHECK(dml_spectrum_thin(10, 2000, idx) == 10 && idx[0] == 0 && idx[9] == 9, "small n: all");
    size_t sizes[] = {2001, 5000, 60000, 1000000};
    for (size_t t = 0; t < 4; t++) {
        size_t n = sizes[t], c = dml_spectrum_thin(n, 2000, idx);
        int ok = c <= 2000 && c >= 1998 && idx[0] == 0 && idx[c - 1] == n - 1;
        double worst = 0;   /* log-spaced: consecutive mode numbers grow by at most the common ratio (or by 1) */
        double ratio = pow((double)n, 1.0 / (double)(c - 1));
        for (size_t i = 1; i < c; i++) {
            ok &= idx[i] > idx[i - 1];
            if (idx[i] - idx[i - 1] > 1) worst = fmax(worst, (double)(idx[i] + 1) / (double)(idx[i - 1] + 1));
        }
        CHECK(ok && worst <= ratio * ratio, "thin %zu to %zu: worst step %.4f, ratio %.4f", n, c, worst, ratio);
    }
}

/* ---- eigenlearning ---- */
static void test_eigenlearning_identities(void)
{
    dml_prediction p;
    dml_error err = {0};
    /* one mode: kappa solves the quadratic n kappa^2 + (n l - l - delta) kappa - delta l = 0 */
    double l = 0.3, v2 = 0.7, delta = 0.05, noise = 0.01;
    size_t n = 5;
    CHECK(dml_eigenlearning(&l, &v2, 1, noise, delta, n, &p, &err) == 0, "one mode: %s", err.message);
    double b = n * l - l - delta, kq = (-b + sqrt(b * b + 4 * n * delta * l)) / (2 * n), L = l / (l + kq);
    double e0 = n / (n - L * L), test = e0 * ((1 - L) * (1 - L) * v2 + noise);
    CHECK(close_rel(p.kappa, kq, 1e-14) && close_rel(p.test_mse, test, 1e-13) && close_rel(p.e0, e0, 1e-14),
          "one mode: kappa %.17g vs %.17g, test %.17g vs %.17g", p.kappa, kq, p.test_mse, test);
    CHECK(close_rel(p.train_mse, pow(delta / (n * kq), 2) * test, 1e-13), "one mode: train");
    /* many modes: the constraint holds, and a huge ridge learns nothing */
    size_t M = 5000;
    double *ls = malloc(sizeof *ls * M), *vs = malloc(sizeof *vs * M), vsum = 0;
    for (size_t i = 0; i < M; i++) {
        ls[i] = pow(i + 1.0, -1.5);
        vs[i] = pow(i + 1.0, -1.2);
        vsum += vs[i];
    }
    size_t ns[] = {1, 10, 100, 1000, 4000};
    for (size_t t = 0; t < 5; t++) {
        CHECK(dml_eigenlearning(ls, vs, M, 0, 1e-3, ns[t], &p, &err) == 0, "power law: %s", err.message);
        double s = 0;
        for (size_t i = 0; i < M; i++) s += ls[i] / (ls[i] + p.kappa);
        CHECK(close_rel(s + 1e-3 / p.kappa, (double)ns[t], 1e-13) && close_rel(p.learned, s, 1e-13),
              "n = %zu: sum L + delta/kappa = %.17g", ns[t], s + 1e-3 / p.kappa);
    }
    CHECK(dml_eigenlearning(ls, vs, M, 0.02, 1e12, 100, &p, &err) == 0 && close_rel(p.test_mse, vsum + 0.02, 1e-9),
          "huge ridge: test MSE = target power + noise (%.12g vs %.12g)", p.test_mse, vsum + 0.02);
    /* ridgeless with no more modes than points: no kappa */
    CHECK(dml_eigenlearning(ls, vs, 50, 0, 0, 50, &p, &err) == -1 && err.code == DML_ERR_NUMERIC, "ridgeless: %s",
          err.message);
    CHECK(dml_eigenlearning(ls, vs, 51, 0, 0, 50, &p, &err) == 0 && p.kappa > 0 && isfinite(p.test_mse),
          "ridgeless with one mode to spare");
    free(ls);
    free(vs);
}

/* Measured kernel regression at each size against a prediction, over R independent draws of the data.
 * Tolerance: the measured and predicted MSEs of a draw share its training points, so compare their paired
 * differences: |mean(pred - meas)| <= 3 standard errors of that mean plus mean(meas) / sqrt(n), the size of the
 * deterministic-equivalent approximation's error that eigenlearning rests on (relative O(n^-1/2); Cheng &
 * Montanari 2022, Misiakiewicz & Saeed 2024). Only sizes n >= 200 are required to match. */
typedef struct {
    size_t n;
    double meas[16], pred[16], train_meas[16], train_pred[16];
} curve_point;

static int compare_curve(const char *what, curve_point *pts, size_t npts, int R)
{
    int bad = 0;
    for (size_t j = 0; j < npts; j++) {
        double mm = 0, pm = 0, dm = 0, dv = 0, tm = 0, tp = 0;
        for (int r = 0; r < R; r++) {
            mm += pts[j].meas[r] / R;
            pm += pts[j].pred[r] / R;
            dm += (pts[j].pred[r] - pts[j].meas[r]) / R;
            tm += pts[j].train_meas[r] / R;
            tp += pts[j].train_pred[r] / R;
        }
        for (int r = 0; r < R; r++) dv += pow(pts[j].pred[r] - pts[j].meas[r] - dm, 2) / (R - 1);
        double se = sqrt(dv / R), tol = 3 * se + mm / sqrt((double)pts[j].n);
        int req = pts[j].n >= 200, ok = fabs(dm) <= tol;
        if (req) {
            CHECK(ok, "%s at n = %zu: predicted %.5g, measured %.5g (tolerance %.3g)", what, pts[j].n, pm, mm, tol);
            bad += !ok;
        }
        printf("%s: n = %4zu  measured test MSE %.5f  predicted %.5f  (%+5.1f%%, tolerance %.1f%%%s)  train MSE "
               "measured %.2e predicted %.2e\n",
               what, pts[j].n, mm, pm, 100 * (pm / mm - 1), 100 * tol / mm, req ? "" : ", not required", tm, tp);
    }
    return bad;
}

static double mse(const double *p, const double *y, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (p[i] - y[i]) * (p[i] - y[i]);
    return s / (double)n;
}

/* The formula itself, with the population spectrum: the relu kernel on S^2 (Funk-Hecke eigenvalues, levels up to
 * 300 with their multiplicities) and a target of known power per level, f(x) = sum_l P_l(xi_l . x / |x|) over
 * l = 1, 2, 4, 6 (each of power 1/(2l + 1), on level l alone), with label noise 0.1, ridge 1e-3. */
static void test_eigenlearning_population(void)
{
    int lev[4] = {1, 2, 4, 6}, L = 300, R = 6;
    size_t M = 2000, ns[] = {50, 100, 200, 400, 800}, nsz = 5, N = 800, modes = 0;
    double sigma = 0.1, ridge = 1e-3;
    double *l = malloc(sizeof *l * (size_t)(L + 1) * (L + 1)), *v2 = calloc((size_t)(L + 1) * (L + 1), sizeof *v2);
    for (int g = 0; g <= L; g++) {
        double lam = funk_hecke(g), pw = 0;
        for (int t = 0; t < 4; t++)
            if (lev[t] == g) pw = 1.0 / (2 * g + 1);
        for (int mdx = 0; mdx < 2 * g + 1; mdx++) {
            l[modes] = lam;
            v2[modes++] = pw / (2 * g + 1);
        }
    }
    curve_point pts[5];
    dml_prediction p;
    dml_error err = {0};
    for (size_t j = 0; j < nsz; j++) {
        pts[j].n = ns[j];
        /* dmilab's ridge: delta = ridge * trace(K_n)/n = ridge * k(1) */
        CHECK(dml_eigenlearning(l, v2, modes, sigma * sigma, ridge * relu_k(1), ns[j], &p, &err) == 0, "%s",
              err.message);
        for (int r = 0; r < R; r++) {
            pts[j].pred[r] = p.test_mse;
            pts[j].train_pred[r] = p.train_mse;
        }
    }
    dml_model m = fcn(1);
    for (int r = 0; r < R; r++) {
        double xi[4][3];
        for (int t = 0; t < 4; t++) {
            double s = 0;
            for (int c = 0; c < 3; c++) {
                xi[t][c] = dml_rng_normal(&rng);
                s += xi[t][c] * xi[t][c];
            }
            for (int c = 0; c < 3; c++) xi[t][c] /= sqrt(s);
        }
        double *x = sphere(N + M, 3), *y = malloc(sizeof *y * (N + M));
        for (size_t i = 0; i < N + M; i++) {
            y[i] = sigma * dml_rng_normal(&rng);
            for (int t = 0; t < 4; t++)
                y[i] += legendre(lev[t], (x[i * 3] * xi[t][0] + x[i * 3 + 1] * xi[t][1] + x[i * 3 + 2] * xi[t][2]) /
                                             sqrt(3.0));
        }
        double *K = kernel(&m, 3, x, N, NULL, N, 0), *Kt = kernel(&m, 3, x + N * 3, M, x, N, 0);
        double *pt = malloc(sizeof *pt * M), *pn = malloc(sizeof *pn * N);
        for (size_t j = 0; j < nsz; j++) {
            CHECK(dml_ridge_predict(K, N, ns[j], Kt, N, M, y, 1, ridge, pt, pn, &err) == 0, "%s", err.message);
            pts[j].meas[r] = mse(pt, y + N, M);
            pts[j].train_meas[r] = mse(pn, y, ns[j]);
        }
        free(x);
        free(y);
        free(K);
        free(Kt);
        free(pt);
        free(pn);
    }
    compare_curve("eigenlearning, Funk-Hecke spectrum, sphere S^2", pts, nsz, R);
    free(l);
    free(v2);
}

/* The production path: the curve predicted from the spectrum of the N-point training Gram (dml_spectrum_predict)
 * against kernel regression on the same draws: inputs on the sphere of R^8, the NTK of a depth-1 relu fcn, a
 * random relu teacher of width 64 with label noise 0.1, ridge 1e-3, N = 1000 training points (all sizes are
 * prefixes of them, up to n = N), 1000 test points. The plug-in use of the same spectrum (its eigenvalues
 * taken as the operator's in dml_eigenlearning) is printed to show where that fails. */
static void test_predicted_curve(void)
{
    size_t d = 8, N = 1000, M = 1000, h = 64, ns[] = {50, 100, 200, 400, 600, 800, 1000}, nsz = 7;
    int R = 8;
    double sigma = 0.1, ridge = 1e-3;
    curve_point pts[7], plug[7];
    dml_model m = fcn(1);
    dml_error err = {0};
    for (int r = 0; r < R; r++) {
        double *W = randn(h * d), *v = randn(h), *x = sphere(N + M, d), *y = malloc(sizeof *y * (N + M));
        for (size_t i = 0; i < N + M; i++) {
            double f = 0;
            for (size_t a = 0; a < h; a++) {
                double z = 0;
                for (size_t c = 0; c < d; c++) z += W[a * d + c] * x[i * d + c];
                z /= sqrt((double)d);
                f += v[a] * (z > 0 ? z : 0);
            }
            y[i] = f / sqrt((double)h) + sigma * dml_rng_normal(&rng);
        }
        double *K = kernel(&m, d, x, N, NULL, N, 1), *Kt = kernel(&m, d, x + N * d, M, x, N, 1);
        dml_spectrum sp;
        CHECK(dml_spectrum_compute(K, N, N, y, 1, 0, &sp, &err) == 0, "%s", err.message);
        double *diag = malloc(sizeof *diag * N), *v2 = malloc(sizeof *v2 * N);
        for (size_t i = 0; i < N; i++) {
            diag[i] = K[i * N + i];
            v2[i] = sp.power[i] * sp.target_power - sigma * sigma / (double)N;
        }
        dml_prediction P[7], Q;
        CHECK(dml_spectrum_predict(&sp, ns, nsz, ridge, diag, P, &err) == 0, "predict: %s", err.message);
        double *pt = malloc(sizeof *pt * M), *pn = malloc(sizeof *pn * N);
        for (size_t j = 0; j < nsz; j++) {
            size_t n = ns[j];
            CHECK(dml_ridge_predict(K, N, n, Kt, N, M, y, 1, ridge, pt, pn, &err) == 0, "%s", err.message);
            double tr = 0;
            for (size_t i = 0; i < n; i++) tr += diag[i];
            CHECK(P[j].delta == ridge * tr / (double)n, "delta is the solve's lambda at n = %zu", n);
            CHECK(close_rel(P[j].learned + P[j].delta / P[j].kappa, (double)n, 1e-12), "n = sum L + delta/kappa");
            pts[j].n = plug[j].n = n;
            pts[j].meas[r] = plug[j].meas[r] = mse(pt, y + N, M);
            pts[j].train_meas[r] = plug[j].train_meas[r] = mse(pn, y, n);
            pts[j].pred[r] = P[j].test_mse;
            pts[j].train_pred[r] = P[j].train_mse;
            CHECK(dml_eigenlearning(sp.eigenvalue, v2, N, sigma * sigma, P[j].delta, n, &Q, &err) == 0, "%s",
                  err.message);
            plug[j].pred[r] = Q.test_mse;
            plug[j].train_pred[r] = Q.train_mse;
        }
        dml_spectrum_free(&sp);
        free(W);
        free(v);
        free(x);
        free(y);
        free(K);
        free(Kt);
        free(diag);
        free(v2);
        free(pt);
        free(pn);
    }
    compare_curve("predicted from the N = 1000 spectrum", pts, nsz, R);
    /* printed, not required: where plugging the finite spectrum into the formula fails */
    for (size_t j = 0; j < nsz; j++) {
        double mm = 0, pm = 0;
        for (int r = 0; r < R; r++) {
            mm += plug[j].meas[r] / R;
            pm += plug[j].pred[r] / R;
        }
        printf("plug-in (finite spectrum as the operator's): n = %4zu (n/N = %.2f)  measured %.5f  predicted %.5f  "
               "(%+5.1f%%)\n",
               plug[j].n, (double)plug[j].n / N, mm, pm, 100 * (pm / mm - 1));
    }
    /* beyond the spectrum's points there is no prediction */
    size_t beyond = N + 1;
    dml_spectrum sp = {0};
    double ev = 1, pw = 1;
    sp.n = 1;
    sp.k = 1;
    sp.eigenvalue = &ev;
    sp.power = &pw;
    sp.target_power = 1;
    sp.trace = 1;
    dml_prediction P;
    CHECK(dml_spectrum_predict(&sp, &beyond, 1, ridge, NULL, &P, &err) == -1 && !strcmp(err.field, "n_train"),
          "n_train beyond the spectrum: %s", err.message);
}

/* The readout as the runner computes it (dml_arm_spectrum_predict) on a synthetic source of core/data/synthetic.c:
 * gaussian inputs of shape [8, 2] (16 numbers), a random fcn teacher of depth 1 and width 64 with 2 outputs, label
 * noise 0.1 on the training targets only (the source's test targets are noise-free, so the readout subtracts the
 * noise variance summed over outputs, 2 * 0.1^2, from the prediction), the NTK of a depth-1 relu fcn, ridge 1e-3,
 * N = 800, the sizes prefixes of the N. Each draw r has its own training set (repeat r of the source) and its own
 * 1000 test inputs (stream 100 + r), so the draws are independent and compare_curve's paired tolerance holds. */
static void test_synthetic_readout(void)
{
    size_t N = 800, M = 1000, ns[] = {100, 200, 400, 800}, nsz = 4;
    int R = 6, k = 2;
    double ridge = 1e-3;
    dml_synthetic syn = {.input = DML_SYN_GAUSSIAN, .shape = {.nd = 1, .size = {8}, .channels = 2}, .noise = 0.1};
    syn.target.kind = DML_TARGET_TEACHER;
    syn.target.outputs = k;
    syn.target.seed = 5;
    syn.target.model = fcn(1);
    syn.target.model.width = 64;
    dml_error err = {0};
    CHECK(dml_synthetic_check(&syn, &err) == 0, "synthetic source: %s", err.message);
    dml_model m = fcn(1);
    double noise = k * syn.noise * syn.noise;
    curve_point pts[4];
    for (int r = 0; r < R; r++) {
        dml_dataset tr, te;
        CHECK(dml_synthetic_load(&syn, 3, r, N, 1, &tr, &te, &err) == 0, "synthetic load: %s", err.message);
        size_t D = dml_shape_numel(&tr.shape);
        double *xt = malloc(sizeof *xt * M * D), *yt = malloc(sizeof *yt * M * (size_t)k);
        dml_synthetic_inputs(&syn, 3, 100 + (uint64_t)r, 0, M, xt);
        CHECK(dml_synthetic_targets(&syn, xt, M, yt, &err) == 0, "targets: %s", err.message);
        double *K = malloc(sizeof *K * N * N), *T = malloc(sizeof *T * N * N);
        double *Kt = malloc(sizeof *Kt * M * N), *Tt = malloc(sizeof *Tt * M * N);
        CHECK(dml_kernel(&m, &tr.shape, tr.x, N, NULL, N, K, T, 2, &err) == 0, "%s", err.message);
        CHECK(dml_kernel(&m, &tr.shape, xt, M, tr.x, N, Kt, Tt, 2, &err) == 0, "%s", err.message);
        dml_spectrum sp;
        CHECK(dml_spectrum_compute(T, N, N, tr.y, (size_t)k, 0, &sp, &err) == 0, "%s", err.message);
        double *diag = malloc(sizeof *diag * N);
        for (size_t i = 0; i < N; i++) diag[i] = T[i * N + i];
        dml_prediction P[4], Pn[4];
        int np = 0, npn = 0;
        CHECK(dml_arm_spectrum_predict(&sp, diag, ns, (int)nsz, ridge, noise, P, &np, &err) == 0 && np == 4,
              "predict: %s", err.message);
        /* the noise is subtracted from the test MSE alone */
        CHECK(dml_arm_spectrum_predict(&sp, diag, ns, (int)nsz, ridge, 0, Pn, &npn, &err) == 0 && npn == 4, "predict");
        for (int j = 0; j < np; j++)
            CHECK(P[j].test_mse == Pn[j].test_mse - noise && P[j].train_mse == Pn[j].train_mse, "label noise at %zu",
                  ns[j]);
        double *pt = malloc(sizeof *pt * M * (size_t)k), *pn = malloc(sizeof *pn * N * (size_t)k);
        for (size_t j = 0; j < nsz; j++) {
            size_t n = ns[j];
            CHECK(dml_ridge_predict(T, N, n, Tt, N, M, tr.y, (size_t)k, ridge, pt, pn, &err) == 0, "%s", err.message);
            pts[j].n = n;
            /* dmilab's MSE: summed over the outputs, averaged over the points */
            pts[j].meas[r] = k * mse(pt, yt, M * (size_t)k);
            pts[j].train_meas[r] = k * mse(pn, tr.y, n * (size_t)k);
            pts[j].pred[r] = P[j].test_mse;
            pts[j].train_pred[r] = P[j].train_mse;
        }
        dml_spectrum_free(&sp);
        dml_dataset_free(&tr);
        dml_dataset_free(&te);
        free(xt);
        free(yt);
        free(K);
        free(T);
        free(Kt);
        free(Tt);
        free(diag);
        free(pt);
        free(pn);
    }
    compare_curve("synthetic teacher, the runner's readout", pts, nsz, R);
    /* sizes beyond the spectrum's N are left out, not an error */
    dml_spectrum one = {.n = 1, .k = 1, .trace = 1, .target_power = 1};
    double ev = 1, pw = 1, cu = 1, dg = 1;
    one.eigenvalue = &ev;
    one.power = &pw;
    one.cumulative = &cu;
    size_t sizes[] = {1, 2};
    dml_prediction P[2];
    int np = -1;
    CHECK(dml_arm_spectrum_predict(&one, &dg, sizes, 2, ridge, 0, P, &np, &err) == 0 && np == 1 && P[0].n_train == 1,
          "n_train beyond N left out (%d predicted)", np);
}

/* ---- the paper's mechanism: a translation-invariant kernel on translation-invariant data ----
 * Inputs: 1D signals of 12 positions, gaussian. Target: a shared local polynomial, sum_p (x_p x_{p+1} +
 * x_p^2 / 2) over cyclic neighbours, invariant under cyclic shifts. cnn-gap with circular padding (stride 1)
 * has translation-invariant predictors; fcn does not know about positions. The cnn-gap kernel must put the
 * target's power in fewer modes (90% of it in fewer top eigenvectors) and align with it better. */
static void test_translation_invariance(void)
{
    size_t N = 600, P = 12;
    double *x = randn(N * P), *y = malloc(sizeof *y * N);
    for (size_t i = 0; i < N; i++) {
        y[i] = 0;
        for (size_t p = 0; p < P; p++) {
            double a = x[i * P + p], b = x[i * P + (p + 1) % P];
            y[i] += a * b + 0.5 * a * a;
        }
    }
    dml_model g, f = fcn(2);
    dml_model_defaults(&g);
    g.arch = DML_ARCH_CNN_GAP;
    g.padding = DML_PAD_CIRCULAR;
    g.depth = 2;
    dml_shape sg = {.nd = 1, .size = {(int)P}, .channels = 1}, sf = {.nd = 0, .channels = (int)P};
    double *Kg = malloc(sizeof *Kg * N * N), *Kf = malloc(sizeof *Kf * N * N);
    dml_error err = {0};
    CHECK(dml_kernel(&g, &sg, x, N, NULL, N, NULL, Kg, 2, &err) == 0, "cnn-gap: %s", err.message);
    CHECK(dml_kernel(&f, &sf, x, N, NULL, N, NULL, Kf, 2, &err) == 0, "fcn: %s", err.message);
    dml_spectrum a, b;
    CHECK(dml_spectrum_compute(Kg, N, N, y, 1, 0, &a, &err) == 0 && dml_spectrum_compute(Kf, N, N, y, 1, 0, &b, &err) == 0,
          "spectra: %s", err.message);
    size_t ma = 0, mb = 0;
    while (ma < N && a.cumulative[ma] < 0.9) ma++;
    while (mb < N && b.cumulative[mb] < 0.9) mb++;
    CHECK(ma < mb && a.alignment > b.alignment,
          "cnn-gap needs %zu modes for 90%% of the target, fcn %zu; alignment %.4f vs %.4f", ma + 1, mb + 1,
          a.alignment, b.alignment);
    printf("translation-invariant target, N = %zu: 90%% of its power in the top %zu modes of the cnn-gap NTK "
           "(circular), %zu of the fcn NTK; alignment %.4f vs %.4f; effective dimension %.1f vs %.1f\n",
           N, ma + 1, mb + 1, a.alignment, b.alignment, a.effective_dimension, b.effective_dimension);
    dml_spectrum_free(&a);
    dml_spectrum_free(&b);
    free(x);
    free(y);
    free(Kg);
    free(Kf);
}

int main(void)
{
    uint64_t seed[] = {13, 1};
    dml_rng_seed(&rng, seed, 2);
    test_linear_gaussian();
    test_sphere_funk_hecke();
    test_vectors_and_power();
    test_thin();
    test_eigenlearning_identities();
    test_eigenlearning_population();
    test_predicted_curve();
    test_synthetic_readout();
    test_translation_invariance();
    return check_summary("spectrum");
}
