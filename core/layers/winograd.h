/* dmilab internal: Winograd F(2x2, 3x3) convolution for Conv layers with a 3x3 filter and stride 1 on 2D
 * inputs (any padding), forward and backward, generic in the real type R: the fast specialisation of Conv.
 * Included by conv.c in each precision pass (after real.h: R, NN(), GEMM and NN_CLONES).
 *
 * Source: A. Lavin and S. Gray, "Fast Algorithms for Convolutional Neural Networks", CVPR 2016, section 4
 * (F(2x2, 3x3), matrices B^T, G, A^T below). Each output tile of 2x2 positions is computed from a 4x4 input
 * patch d as Y = A^T [ sum_c (G g G^T) ⊙ (B^T d B) ] A: 16 products per tile and channel pair instead of 36.
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1],
 *   A^T = [1 1 1 0; 0 1 -1 -1].
 * The backward pass is the exact adjoint of these linear maps: with dM = A dY A^T (per tile),
 *   dU = sum_tiles V^T dM  ->  dg = G^T dU G,      dV = dM U^T  ->  dd = B dV B^T (added into dX).
 * The three products become 16 GEMMs each, over blocks of `chunk` tiles (rows of tiles across the images of
 * the workspace) so that one block's transforms stay in cache.
 *
 * Layouts: X (n, H, W, Cin) and Y (n, Ho, Wo, Cout) as everywhere in nn_impl.h; W (9 * Cin, Cout) with row
 * (3 dy + dx) * Cin + c; transformed planes: V[xi] (chunk, Cin), M[xi] (chunk, Cout), U[xi] (Cin, Cout) for
 * xi = 4 r + s, r, s < 4, each plane at a stride of its full size. */

/* Input index along one axis for output-tile position o + r (r < 4) shifted by -pad: -1 in zero padding. */
static inline int NN(wino_src)(int o, int n, int circular)
{
    if (o >= 0 && o < n) return o;
    if (!circular) return -1;
    o %= n;
    return o < 0 ? o + n : o;
}

/* Offsets (in reals, from the start of the batch) of the 16 input positions of tile t's 4x4 patch, in an
 * input of Cin = C channels; -1 in zero padding. Tiles run row-major over images, tile rows, tile columns. */
static inline void NN(wino_patch)(const nn_wino *g, size_t t, int C, ptrdiff_t off[16])
{
    size_t img = t / g->tiles, r0 = t % g->tiles;
    int ty = (int)(r0 / (size_t)g->tx), tx = (int)(r0 % (size_t)g->tx);
    size_t base = img * (size_t)g->H * g->W;
    for (int r = 0; r < 4; r++) {
        int iy = NN(wino_src)(2 * ty + r - g->pad_y, g->H, g->circular);
        for (int s = 0; s < 4; s++) {
            int ix = NN(wino_src)(2 * tx + s - g->pad_x, g->W, g->circular);
            off[4 * r + s] = iy < 0 || ix < 0 ? -1 : (ptrdiff_t)((base + (size_t)iy * g->W + ix) * C);
        }
    }
}

/* Offsets of the 4 output positions (a, b) of tile t, at [2 a + b], in an output of K channels; -1 past the
 * output's edge (the last tile of an odd size). */
static inline void NN(wino_outs)(const nn_wino *g, size_t t, int K, ptrdiff_t off[4])
{
    size_t img = t / g->tiles, r0 = t % g->tiles;
    int ty = (int)(r0 / (size_t)g->tx), tx = (int)(r0 % (size_t)g->tx);
    size_t base = img * (size_t)g->Ho * g->Wo;
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) {
            int oy = 2 * ty + a, ox = 2 * tx + b;
            off[2 * a + b] = oy < g->Ho && ox < g->Wo ? (ptrdiff_t)((base + (size_t)oy * g->Wo + ox) * K) : -1;
        }
}

/* v[xi * plane + c] = (B^T d B)[xi] for the 4x4 patch d[4 r + s] = p[4 r + s][c], c < C. */
NN_CLONES static void NN(wino_in_kernel)(const R *const *p, R *restrict v, size_t plane, int C)
{
    const R *p0 = p[0], *p1 = p[1], *p2 = p[2], *p3 = p[3], *p4 = p[4], *p5 = p[5], *p6 = p[6], *p7 = p[7];
    const R *p8 = p[8], *p9 = p[9], *p10 = p[10], *p11 = p[11], *p12 = p[12], *p13 = p[13], *p14 = p[14],
            *p15 = p[15];
    R *restrict v0 = v, *restrict v1 = v + plane, *restrict v2 = v + 2 * plane, *restrict v3 = v + 3 * plane;
    R *restrict v4 = v + 4 * plane, *restrict v5 = v + 5 * plane, *restrict v6 = v + 6 * plane,
      *restrict v7 = v + 7 * plane;
    R *restrict v8 = v + 8 * plane, *restrict v9 = v + 9 * plane, *restrict v10 = v + 10 * plane,
      *restrict v11 = v + 11 * plane;
    R *restrict v12 = v + 12 * plane, *restrict v13 = v + 13 * plane, *restrict v14 = v + 14 * plane,
      *restrict v15 = v + 15 * plane;
#pragma GCC ivdep
    for (int c = 0; c < C; c++) {
        /* columns: t = B^T d */
        R t00 = p0[c] - p8[c], t01 = p1[c] - p9[c], t02 = p2[c] - p10[c], t03 = p3[c] - p11[c];
        R t10 = p4[c] + p8[c], t11 = p5[c] + p9[c], t12 = p6[c] + p10[c], t13 = p7[c] + p11[c];
        R t20 = p8[c] - p4[c], t21 = p9[c] - p5[c], t22 = p10[c] - p6[c], t23 = p11[c] - p7[c];
        R t30 = p4[c] - p12[c], t31 = p5[c] - p13[c], t32 = p6[c] - p14[c], t33 = p7[c] - p15[c];
        /* rows: t B */
        v0[c] = t00 - t02, v1[c] = t01 + t02, v2[c] = t02 - t01, v3[c] = t01 - t03;
        v4[c] = t10 - t12, v5[c] = t11 + t12, v6[c] = t12 - t11, v7[c] = t11 - t13;
        v8[c] = t20 - t22, v9[c] = t21 + t22, v10[c] = t22 - t21, v11[c] = t21 - t23;
        v12[c] = t30 - t32, v13[c] = t31 + t32, v14[c] = t32 - t31, v15[c] = t31 - t33;
    }
}

/* Transform the input patches of tiles [t0, t0 + nt) of X into V (planes of stride `plane`). */
static void NN(wino_input)(const nn_wino *g, const R *X, int C, const R *zero, size_t t0, size_t nt, R *V,
                           size_t plane)
{
    for (size_t t = 0; t < nt; t++) {
        ptrdiff_t off[16];
        const R *p[16];
        NN(wino_patch)(g, t0 + t, C, off);
        for (int j = 0; j < 16; j++) p[j] = off[j] < 0 ? zero : X + off[j];
        NN(wino_in_kernel)(p, V + t * C, plane, C);
    }
}

/* Y 2x2 tile = A^T m A for m[xi] = M[xi * plane + k]; q[2 a + b] receives output (a, b) (k < K). */
NN_CLONES static void NN(wino_out_kernel)(const R *restrict m, size_t plane, R *const *q, int K)
{
    R *q0 = q[0], *q1 = q[1], *q2 = q[2], *q3 = q[3];
#pragma GCC ivdep
    for (int k = 0; k < K; k++) {
        R m0 = m[k], m1 = m[plane + k], m2 = m[2 * plane + k], m3 = m[3 * plane + k];
        R m4 = m[4 * plane + k], m5 = m[5 * plane + k], m6 = m[6 * plane + k], m7 = m[7 * plane + k];
        R m8 = m[8 * plane + k], m9 = m[9 * plane + k], m10 = m[10 * plane + k], m11 = m[11 * plane + k];
        R m12 = m[12 * plane + k], m13 = m[13 * plane + k], m14 = m[14 * plane + k], m15 = m[15 * plane + k];
        /* columns: s = A^T m (2 x 4) */
        R s00 = m0 + m4 + m8, s01 = m1 + m5 + m9, s02 = m2 + m6 + m10, s03 = m3 + m7 + m11;
        R s10 = m4 - m8 - m12, s11 = m5 - m9 - m13, s12 = m6 - m10 - m14, s13 = m7 - m11 - m15;
        /* rows: s A */
        q0[k] = s00 + s01 + s02;
        q1[k] = s01 - s02 - s03;
        q2[k] = s10 + s11 + s12;
        q3[k] = s11 - s12 - s13;
    }
}

static void NN(wino_output)(const nn_wino *g, const R *M, size_t plane, int K, size_t t0, size_t nt, R *Y, R *scratch)
{
    for (size_t t = 0; t < nt; t++) {
        ptrdiff_t off[4];
        R *q[4];
        NN(wino_outs)(g, t0 + t, K, off);
        for (int j = 0; j < 4; j++) q[j] = off[j] < 0 ? scratch : Y + off[j];
        NN(wino_out_kernel)(M + t * K, plane, q, K);
    }
}

/* dM = A dY A^T for the 2x2 output gradient tile e[2 a + b][k] (k < K) into dm[xi * plane + k]. */
NN_CLONES static void NN(wino_dout_kernel)(const R *const *e, R *restrict dm, size_t plane, int K)
{
    const R *e0 = e[0], *e1 = e[1], *e2 = e[2], *e3 = e[3];
#pragma GCC ivdep
    for (int k = 0; k < K; k++) {
        R d00 = e0[k], d01 = e1[k], d10 = e2[k], d11 = e3[k];
        /* columns: f = A dY (4 x 2): (d0, d0 + d1, d0 - d1, -d1) */
        R f00 = d00, f01 = d01, f10 = d00 + d10, f11 = d01 + d11, f20 = d00 - d10, f21 = d01 - d11;
        R f30 = -d10, f31 = -d11;
        /* rows: f A^T */
        dm[k] = f00, dm[plane + k] = f00 + f01, dm[2 * plane + k] = f00 - f01, dm[3 * plane + k] = -f01;
        dm[4 * plane + k] = f10, dm[5 * plane + k] = f10 + f11, dm[6 * plane + k] = f10 - f11,
        dm[7 * plane + k] = -f11;
        dm[8 * plane + k] = f20, dm[9 * plane + k] = f20 + f21, dm[10 * plane + k] = f20 - f21,
        dm[11 * plane + k] = -f21;
        dm[12 * plane + k] = f30, dm[13 * plane + k] = f30 + f31, dm[14 * plane + k] = f30 - f31,
        dm[15 * plane + k] = -f31;
    }
}

static void NN(wino_dout)(const nn_wino *g, const R *dY, int K, const R *zero, size_t t0, size_t nt, R *dM,
                          size_t plane)
{
    for (size_t t = 0; t < nt; t++) {
        ptrdiff_t off[4];
        const R *e[4];
        NN(wino_outs)(g, t0 + t, K, off);
        for (int j = 0; j < 4; j++) e[j] = off[j] < 0 ? zero : dY + off[j];
        NN(wino_dout_kernel)(e, dM + t * K, plane, K);
    }
}

/* dd[4 r + s][c] = (B dV B^T)[r][s] for dv[xi * plane + c], c < C. */
NN_CLONES static void NN(wino_din_kernel)(const R *restrict dv, size_t plane, R *restrict dd, int C)
{
#pragma GCC ivdep
    for (int c = 0; c < C; c++) {
        R v[16], f[16];
        for (int x = 0; x < 16; x++) v[x] = dv[x * plane + c];
        /* columns: f = B dV, with B v = (v0, v1 - v2 + v3, -v0 + v1 + v2, -v3) */
        for (int s = 0; s < 4; s++) {
            R a0 = v[s], a1 = v[4 + s], a2 = v[8 + s], a3 = v[12 + s];
            f[s] = a0;
            f[4 + s] = a1 - a2 + a3;
            f[8 + s] = a1 + a2 - a0;
            f[12 + s] = -a3;
        }
        /* rows: f B^T */
        for (int r = 0; r < 4; r++) {
            R a0 = f[4 * r], a1 = f[4 * r + 1], a2 = f[4 * r + 2], a3 = f[4 * r + 3];
            dd[(4 * r) * C + c] = a0;
            dd[(4 * r + 1) * C + c] = a1 - a2 + a3;
            dd[(4 * r + 2) * C + c] = a1 + a2 - a0;
            dd[(4 * r + 3) * C + c] = -a3;
        }
    }
}

NN_CLONES static void NN(wino_add)(R *restrict y, const R *restrict a, int C)
{
    for (int c = 0; c < C; c++) y[c] += a[c];
}

/* dX += the input-patch gradients B dV B^T of tiles [t0, t0 + nt) (padding positions dropped, wrapped ones
 * added where they wrap to); dd: 16 * C reals of scratch. */
static void NN(wino_din)(const nn_wino *g, const R *dV, size_t plane, int C, size_t t0, size_t nt, R *dX, R *dd)
{
    for (size_t t = 0; t < nt; t++) {
        ptrdiff_t off[16];
        NN(wino_patch)(g, t0 + t, C, off);
        NN(wino_din_kernel)(dV + t * C, plane, dd, C);
        for (int j = 0; j < 16; j++)
            if (off[j] >= 0) NN(wino_add)(dX + off[j], dd + (size_t)j * C, C);
    }
}

/* U[xi] (C, K) = G g G^T for the filter g[dy][dx] = W[(3 dy + dx) C + c][k]. */
static void NN(wino_weights)(const R *W, int C, int K, R *U)
{
    size_t CK = (size_t)C * K;
    for (size_t j = 0; j < CK; j++) {
        R w[9], h[12];
        for (int d = 0; d < 9; d++) w[d] = W[(size_t)d * CK + j];
        for (int x = 0; x < 3; x++) {   /* columns: h = G g (4 x 3) */
            h[x] = w[x];
            h[3 + x] = (R)0.5 * (w[x] + w[3 + x] + w[6 + x]);
            h[6 + x] = (R)0.5 * (w[x] - w[3 + x] + w[6 + x]);
            h[9 + x] = w[6 + x];
        }
        for (int r = 0; r < 4; r++) {   /* rows: h G^T */
            const R *a = h + 3 * r;
            U[(size_t)(4 * r) * CK + j] = a[0];
            U[(size_t)(4 * r + 1) * CK + j] = (R)0.5 * (a[0] + a[1] + a[2]);
            U[(size_t)(4 * r + 2) * CK + j] = (R)0.5 * (a[0] - a[1] + a[2]);
            U[(size_t)(4 * r + 3) * CK + j] = a[2];
        }
    }
}

/* dW[(3 dy + dx) C + c][k] = alpha (G^T dU G)[dy][dx]: the adjoint of NN(wino_weights). */
static void NN(wino_dweights)(const R *dU, int C, int K, R alpha, R *dW)
{
    size_t CK = (size_t)C * K;
    for (size_t j = 0; j < CK; j++) {
        R u[16], q[12];
        for (int x = 0; x < 16; x++) u[x] = dU[(size_t)x * CK + j];
        for (int s = 0; s < 4; s++) {   /* columns: q = G^T u (3 x 4) */
            q[s] = u[s] + (R)0.5 * (u[4 + s] + u[8 + s]);
            q[4 + s] = (R)0.5 * (u[4 + s] - u[8 + s]);
            q[8 + s] = (R)0.5 * (u[4 + s] + u[8 + s]) + u[12 + s];
        }
        for (int r = 0; r < 3; r++) {   /* rows: q G */
            const R *a = q + 4 * r;
            dW[(size_t)(3 * r) * CK + j] = alpha * (a[0] + (R)0.5 * (a[1] + a[2]));
            dW[(size_t)(3 * r + 1) * CK + j] = alpha * ((R)0.5 * (a[1] - a[2]));
            dW[(size_t)(3 * r + 2) * CK + j] = alpha * ((R)0.5 * (a[1] + a[2]) + a[3]);
        }
    }
}

/* Y (n, Ho, Wo, Cout) = alpha * conv(X, W) (no bias) for a layer with ly->wino.on. */
static void NN(wino_forward)(const dml_net_layer *ly, dml_net_scratch *ws, const R *X, const R *W, R alpha, size_t n, R *Y)
{
    const nn_wino *g = &ly->wino;
    int C = ly->Cin, K = ly->Cout;
    R *U = ws->wu, *V = ws->wv, *M = ws->wm;
    size_t Tc = g->chunk, pv = Tc * (size_t)C, pm = Tc * (size_t)K, CK = (size_t)C * K, total = n * g->tiles;
    assert(16 * pv <= ws->wv_cap && 16 * pm <= ws->wm_cap);   /* the planes of one block fit the workspace */
    NN(wino_weights)(W, C, K, U);
    for (size_t t0 = 0; t0 < total; t0 += Tc) {
        size_t nt = total - t0 < Tc ? total - t0 : Tc;
        NN(wino_input)(g, X, C, ws->wzero, t0, nt, V, pv);
        for (int x = 0; x < 16; x++)
            GEMM(RM, NT, NT, (int)nt, K, C, alpha, V + x * pv, C, U + x * CK, K, 0, M + x * pm, K);
        NN(wino_output)(g, M, pm, K, t0, nt, Y, (R *)ws->wscratch);
    }
}

/* Backward of NN(wino_forward): dW (9 Cin, Cout) = alpha * sum over windows (overwritten; NULL: skipped) and
 * dX (n, H, W, Cin) += the input gradient (NULL: skipped), for the output gradient dY (n, Ho, Wo, Cout). */
static void NN(wino_backward)(const dml_net_layer *ly, dml_net_scratch *ws, const R *X, const R *W, R alpha, size_t n, const R *dY,
                              R *dW, R *dX)
{
    const nn_wino *g = &ly->wino;
    int C = ly->Cin, K = ly->Cout;
    R *U = ws->wu, *dU = ws->wdu, *V = ws->wv, *M = ws->wm;
    size_t Tc = g->chunk, pv = Tc * (size_t)C, pm = Tc * (size_t)K, CK = (size_t)C * K, total = n * g->tiles;
    assert(16 * pv <= ws->wv_cap && 16 * pm <= ws->wm_cap);
    if (dX) NN(wino_weights)(W, C, K, U);
    if (dW) memset(dU, 0, sizeof *dU * 16 * CK);
    for (size_t t0 = 0; t0 < total; t0 += Tc) {
        size_t nt = total - t0 < Tc ? total - t0 : Tc;
        NN(wino_dout)(g, dY, K, ws->wzero, t0, nt, M, pm);
        if (dW) NN(wino_input)(g, X, C, ws->wzero, t0, nt, V, pv);
        for (int x = 0; x < 16; x++) {
            if (dW)
                GEMM(RM, TT, NT, C, K, (int)nt, 1, V + x * pv, C, M + x * pm, K, 1, dU + x * CK, K);
            if (dX) GEMM(RM, NT, TT, (int)nt, C, K, alpha, M + x * pm, K, U + x * CK, K, 0, V + x * pv, C);
        }
        if (dX) NN(wino_din)(g, V, pv, C, t0, nt, dX, ws->wscratch);
    }
    if (dW) NN(wino_dweights)(dU, C, K, alpha, dW);
}
