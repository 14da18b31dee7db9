/* The learning curve of kernel ridge regression predicted from a kernel's eigenvalues and a target's power on them
 * (eigenlearning / omniscient risk; formulas and references in spectrum.h and docs/spectrum.md). */
#include <math.h>
#include <stdlib.h>
#include "dmilab/spectrum.h"

/* h(kappa) = sum_i l_i / (l_i + kappa) + delta / kappa - n, and kappa h'(kappa) (the derivative in log kappa) */
static double h_of(const double *l, size_t m, double delta, size_t n, double kappa, double *dlog)
{
    double s = 0, s2 = 0;
    for (size_t i = 0; i < m; i++) {
        double li = l[i] > 0 ? l[i] : 0.0, q = li / (li + kappa);
        s += q;
        s2 += q * (1.0 - q);   /* kappa * l / (l + kappa)^2 */
    }
    *dlog = -s2 - delta / kappa;
    return s + delta / kappa - (double)n;
}

int dml_eigenlearning(const double *l, const double *v2, size_t nmodes, double noise, double delta, size_t n,
                      dml_prediction *out, dml_error *err)
{
    out->n_train = n;
    out->delta = delta;
    if (n == 0 || !(delta >= 0) || !isfinite(delta))
        return dml_fail(err, DML_ERR_INVALID_SPEC, NULL, "eigenlearning needs n >= 1 and a ridge >= 0 (n %zu, %g)",
                        n, delta);
    double sum = 0;
    size_t positive = 0;
    for (size_t i = 0; i < nmodes; i++)
        if (l[i] > 0) {
            sum += l[i];
            positive++;
        }
    if (delta == 0 && positive <= n)
        return dml_fail(err, DML_ERR_NUMERIC, "n_train",
                        "the ridgeless prediction at n_train = %zu needs more than %zu positive eigenvalues: compute "
                        "the spectrum on more points",
                        n, positive);
    /* h decreases in kappa; h(hi) <= 0 since sum l/(l + hi) <= sum/hi, and h(lo) >= 0 */
    double hi = (sum + delta) / (double)n, lo = delta / (double)n, dlog;
    if (delta == 0) {
        lo = hi;
        for (int t = 0; h_of(l, nmodes, delta, n, lo, &dlog) <= 0; t++) {
            if (t > 2200 || lo == 0)
                return dml_fail(err, DML_ERR_NUMERIC, "n_train", "no effective ridge found at n_train = %zu", n);
            lo *= 0.5;
        }
    }
    double kappa = hi;
    if (hi > lo) {
        double u = 0.5 * (log(lo) + log(hi)), ulo = log(lo), uhi = log(hi);
        for (int it = 0; it < 200; it++) {
            double hv = h_of(l, nmodes, delta, n, exp(u), &dlog);
            if (hv > 0) ulo = u;
            else uhi = u;
            if (hv == 0) break;
            double next = u - hv / dlog;
            if (!(next > ulo && next < uhi)) next = 0.5 * (ulo + uhi);   /* Newton left the bracket: bisect */
            double step = fabs(next - u);
            u = next;
            if (step < 1e-15 || uhi - ulo < 1e-15) break;
        }
        kappa = exp(u);
    }
    double learned = 0, sq = 0, residual = 0;
    for (size_t i = 0; i < nmodes; i++) {
        double li = l[i] > 0 ? l[i] : 0.0, L = li / (li + kappa), r = kappa / (li + kappa);
        learned += L;
        sq += L * L;
        residual += r * r * v2[i];
    }
    out->kappa = kappa;
    out->learned = learned;
    out->e0 = (double)n / ((double)n - sq);
    out->test_mse = out->e0 * (residual + noise);
    double t = delta / ((double)n * kappa);
    out->train_mse = t * t * out->test_mse;
    return 0;
}

/* The N-point problem's resolvent sums at ridge d: S1 = sum (mu + d)^-1, S2 = sum (mu + d)^-2, and, with the
 * size-n ridge dn, Q = sum c (mu + d)^-2 and W = sum (mu + dn) (mu + d)^-2. */
typedef struct {
    double S1, S2, Q, W;
} sums;

static sums sums_at(const double *mu, const double *c, size_t N, double d, double dn)
{
    sums r = {0};
    for (size_t i = 0; i < N; i++) {
        double m = mu[i] > 0 ? mu[i] : 0.0, q = 1.0 / (m + d);
        r.S1 += q;
        r.S2 += q * q;
        r.Q += c[i] * q * q;
        r.W += (m + dn) * q * q;
    }
    return r;
}

/* The root d* >= dn of H(d) = (d - dn) S1(d) - (N - n), increasing from -(N - n) at dn to n at infinity with
 * H'(d) = W(d) > 0: safeguarded Newton steps inside a bracket. */
static double equivalent_ridge(const double *mu, const double *c, size_t N, size_t n, double dn)
{
    if (n == N) return dn;
    double top = 0;
    for (size_t i = 0; i < N; i++)
        if (mu[i] > top) top = mu[i];
    /* (d - dn) S1(d) >= (d - dn) N / (top + d) >= N - n at d = ((N - n) top + N dn) / n */
    double lo = dn, hi = (((double)(N - n)) * top + (double)N * dn) / (double)n, d = hi;
    if (!(hi > lo)) return hi;
    for (int it = 0; it < 300; it++) {
        sums s = sums_at(mu, c, N, d, dn);
        double H = (d - dn) * s.S1 - (double)(N - n);
        if (H > 0) hi = d;
        else lo = d;
        if (H == 0) break;
        double next = d - H / s.W;
        if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
        double step = fabs(next - d);
        d = next;
        if (step <= 1e-15 * d || hi - lo <= 1e-15 * hi) break;
    }
    return d;
}

int dml_spectrum_predict(const dml_spectrum *s, const size_t *n_train, size_t nsizes, double ridge,
                         const double *diag, dml_prediction *out, dml_error *err)
{
    if (!s->k || !s->power) return dml_fail(err, DML_ERR_INVALID_SPEC, NULL, "a predicted curve needs targets");
    size_t N = s->n;
    double *mu = malloc(sizeof *mu * (N ? N : 1)), *c = malloc(sizeof *c * (N ? N : 1));
    if (!mu || !c) {
        free(mu);
        free(c);
        return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory for a spectrum of %zu modes", N);
    }
    for (size_t i = 0; i < N; i++) {
        mu[i] = s->eigenvalue[i] * (double)N;
        c[i] = s->power[i] * s->target_power * (double)N;
    }
    double trace = 0;
    size_t done = 0;
    int rc = 0;
    for (size_t j = 0; j < nsizes && rc == 0; j++) {
        size_t n = n_train[j];
        if (n == 0 || n > N) {
            rc = dml_fail(err, DML_ERR_INVALID_SPEC, "n_train",
                          "a predicted learning curve reaches only the spectrum's %zu points, not n_train = %zu", N, n);
            break;
        }
        double delta = ridge * s->trace;
        if (diag) {   /* summed as the solve sums it: restart when the sizes do not ascend */
            if (n < done) {
                trace = 0;
                done = 0;
            }
            for (; done < n; done++) trace += diag[done];
            delta = ridge * trace / (double)n;
        }
        double d = equivalent_ridge(mu, c, N, n, delta);
        sums q = sums_at(mu, c, N, d, delta);
        if (!(d > 0) || !isfinite(q.S1) || !(q.W > 0)) {
            rc = dml_fail(err, DML_ERR_NUMERIC, "n_train",
                          "no prediction at n_train = %zu: ridge 0 on all %zu points needs a positive definite Gram",
                          n, N);
            break;
        }
        dml_prediction *p = &out[j];
        p->n_train = n;
        p->delta = delta;
        p->kappa = 1.0 / q.S1;
        p->learned = (double)n - delta * q.S1;
        p->e0 = (double)n / ((double)n - ((double)N - q.S1 * q.S1 / q.S2));
        p->test_mse = (double)n * q.Q / (q.S1 * q.W);
        double t = delta * q.S1 / (double)n;
        p->train_mse = t * t * p->test_mse;
    }
    free(mu);
    free(c);
    return rc;
}
