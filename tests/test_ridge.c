/* Kernel ridge regression checked by hand on small systems. */
#include "dmilab/ridge.h"
#include "check.h"

int main(void)
{
    dml_error err = {0};
    /* K = [[2,1],[1,2]], ridge 0.5: lambda = 0.5 * trace 4 / 2 = 1, A = [[3,1],[1,3]],
     * alpha = A^-1 [1, 0] = [3/8, -1/8]; a test row [1, 0] predicts 3/8, [0.5, 2] predicts 3/16 - 1/4. */
    double K[4] = {2, 1, 1, 2}, Kt[4] = {1, 0, 0.5, 2}, Y[2] = {1, 0}, pt[2], pn[2];
    CHECK(dml_ridge_predict(K, 2, 2, Kt, 2, 2, Y, 1, 0.5, pt, pn, &err) == 0, "solve: %s", err.message);
    CHECK(close_rel(pt[0], 3.0 / 8, 1e-15) && close_rel(pt[1], 3.0 / 16 - 0.25, 1e-15), "test %g %g", pt[0], pt[1]);
    /* train predictions K alpha = [2*3/8 - 1/8, 3/8 - 2/8] = [5/8, 1/8] */
    CHECK(close_rel(pn[0], 5.0 / 8, 1e-15) && close_rel(pn[1], 1.0 / 8, 1e-15), "train %g %g", pn[0], pn[1]);
    /* the leading block of a larger matrix (leading dimension 3), two outputs */
    double K3[9] = {2, 1, 99, 1, 2, 99, 99, 99, 99}, Kt3[3] = {1, 0, 99}, Y2[4] = {1, 2, 0, 0}, p2[2];
    CHECK(dml_ridge_predict(K3, 3, 2, Kt3, 3, 1, Y2, 2, 0.5, p2, NULL, &err) == 0, "block solve");
    CHECK(close_rel(p2[0], 3.0 / 8, 1e-15) && close_rel(p2[1], 6.0 / 8, 1e-15), "block %g %g", p2[0], p2[1]);
    /* ridge 0 interpolates: train predictions equal the targets */
    double Y3[2] = {0.3, -0.7};
    CHECK(dml_ridge_predict(K, 2, 2, Kt, 2, 0, Y3, 1, 0.0, pt, pn, &err) == 0, "ridge 0");
    CHECK(close_rel(pn[0], 0.3, 1e-14) && close_rel(pn[1], -0.7, 1e-14), "interpolation %g %g", pn[0], pn[1]);
    /* indefinite: a clear numeric error */
    double B[4] = {1, 2, 2, 1};
    CHECK(dml_ridge_predict(B, 2, 2, Kt, 2, 1, Y, 1, 0.0, pt, NULL, &err) == -1 && err.code == DML_ERR_NUMERIC,
          "indefinite matrix is an error: %s", err.message);
    /* a zero training kernel (inputs that standardise to zeros, b_std 0): no ridge can make it positive definite;
     * every solution predicts 0, so the zero predictor is the answer, on train and test alike */
    double Z[9] = {0}, Zt[6] = {0}, Yz[6] = {0.9, -0.1, -0.1, 0.9, 0.9, -0.1}, pz[4] = {1, 1, 1, 1}, nz[6] = {1, 1, 1, 1, 1, 1};
    int rc = dml_ridge_predict(Z, 3, 3, Zt, 3, 2, Yz, 2, 1e-4, pz, nz, &err);
    int zero = 1;
    for (int i = 0; i < 4; i++) zero &= pz[i] == 0.0;
    for (int i = 0; i < 6; i++) zero &= nz[i] == 0.0;
    CHECK(rc == 0 && zero, "zero training kernel: the zero predictor (rc %d: %s)", rc, rc ? err.message : "");
    return check_summary("ridge");
}
