/* dmilab internal: one home per layer kind. Each family's file (dense.c, conv.c, activation.c, pool.c)
 * fills the rows of dml_layer_table for its kinds (the readout runs dense.c's row), side by side: the finite layer's geometry,
 * parameters and workspace, its forward and backward pass in float and double, its kernel rule (DESIGN 2.1)
 * and its cost. The finite networks (core/nn/) and the kernel engine (core/kernel/) are folds over a layer
 * list that call these rows, as Neural Tangents' serial chains the (init_fn, apply_fn, kernel_fn) of its
 * layers and llm.c pairs X_forward with X_backward. */
#ifndef DMILAB_LAYERS_LAYER_H
#define DMILAB_LAYERS_LAYER_H

#include <stddef.h>
#include "dmilab/error.h"
#include "dmilab/model.h"
#include "window.h"

/* ---------------------------------------------------------------- finite networks */

/* Largest im2col block in elements: conv layers process the batch in chunks of images, locally connected
 * layers in blocks of positions, so that one block of windows stays below this size (16 MB in float). */
#define NN_COLS_MAX ((size_t)1 << 22)

/* Winograd F(2x2, 3x3) geometry of a 2D Conv layer with a 3x3 filter and stride 1 (winograd.h). */
typedef struct {
    int on;                 /* the layer runs through Winograd (else im2col + GEMM) */
    int H, W, Ho, Wo;       /* input and output spatial sizes */
    int pad_y, pad_x;       /* zeros (or wrapped entries) before the first input row / column */
    int circular;
    int ty, tx;             /* output tiles per axis: ceil(Ho / 2), ceil(Wo / 2) */
    size_t tiles;           /* tiles per image, ty * tx */
    size_t chunk;           /* tiles per block of transforms and GEMMs */
} nn_wino;

/** A layer of a finite network: its geometry for one input shape and its place in the parameter vector.
 *  Filled by the kind's setup (sizes, parameter counts, fan_in, window tables) and by nn.c (offsets, the
 *  forward multipliers of the parameterization). */
typedef struct {
    dml_layer_kind kind;
    const dml_layer *d;           /* the layer list entry (owned by the network) */
    size_t in_numel, out_numel;   /* numbers per example */
    size_t P_in, P_out;           /* positions (1 for flat layers) */
    int Cin, Cout, F;             /* channels, filter size (1 for Dense) */
    size_t K;                     /* F * Cin: the window length, fan_in of Conv/ConvLocal */
    double fan_in;                /* Dense: Cin; Conv, ConvLocal: F * Cin (Neural Tangents stax) */
    size_t nw, nb;                /* parameter counts: weights, biases (0: no parameters) */
    int has_params;
    size_t w_off, b_off;          /* offsets in the flat parameter vector */
    double alpha, beta;           /* forward multipliers of W and b */
    double w_init, b_init;        /* initialization standard deviations */
    size_t chunk;                 /* Conv: images per im2col chunk */
    dml_window_table win;         /* Conv / ConvLocal / AvgPool */
    nn_wino wino;                 /* Conv */
} dml_net_layer;

/** Scratch a layer may use during one pass (per workspace): im2col blocks, Winograd planes. */
typedef struct {
    void *cols, *dcols;           /* im2col blocks */
    void *wv, *wm;                /* Winograd planes: 16 x chunk x Cin (V, dV), 16 x chunk x Cout (M, dM) */
    void *wu, *wdu;               /* Winograd weights and their gradient: 16 x Cin x Cout */
    void *wzero, *wscratch;       /* zeros (max channels), scratch (16 x max channels) */
    size_t cols_cap, wv_cap, wm_cap;   /* reals allocated in cols (and dcols), wv, wm: asserted by the passes */
} dml_net_scratch;

/** Reals of scratch a layer needs for a pass over `cap` examples (the workspace takes the largest of each). */
typedef struct {
    size_t cols, wv, wm, wu, wzero;
} dml_scratch_need;

/* ---------------------------------------------------------------- kernel engine */

/** One layer of the kernel engine's plan (built once per dml_kernel call). The representation of the
 *  covariances entering and leaving the layer is chosen by the engine from the end of the list backwards:
 *  full P x P position pairs where a later layer reads off-diagonal entries (GAP, AvgPool), the position
 *  diagonal otherwise (Neural Tangents' diagonal_spatial). */
typedef struct {
    const dml_layer *d;
    int full_in, full_out;
    size_t P_in, P_out;           /* positions of the input and of the output */
    dml_window_table win;         /* Conv, ConvLocal, AvgPool */
    double scale, b2;             /* affine layers: w^2 / F (F = 1 for Dense), b^2 */
    size_t self_off;              /* Act: offset of its pre-activation self diagonal in a self trajectory */
    int f32;                      /* Act: the duals in float32 (the model's kernel_precision) */
} dml_kstep;

/** The covariances of one pair of inputs (x, x') as they pass through the layers (or, in the row stage after
 *  pooling, one row of n2 pairs: rows 1, cols n2), NNGP in K and NTK in T:
 *    full:  rows x cols entries, entry (r, c) pairs position r of x with position c of x';
 *    diag:  cols entries, entry c pairs position c of x with position c of x'.
 *  Act layers read the pre-activation self covariances: s1[r] (full) or s1[c] (diag) of x, s2[c] of x'. */
typedef struct {
    int full;
    size_t rows, cols;
    double *K, *T;                /* T NULL: the NTK is not propagated (a self trajectory) */
    double *SK, *ST;              /* scratch of the same capacity (full: with zero margins, see window.h) */
    int theta_zero;               /* no parameterized layer yet: the NTK is identically 0, T holds nothing */
    const double *s1, *s2;
} dml_kstate;

/* Elementwise helpers of the kernel rules (kernel_ops.c), vectorised for AVX-512 / AVX2 / x86-64 and shared
 * by every rule so that the same entry always goes through the same arithmetic. */
/** K[i] = scale * S[i] + b2, then (T != NULL) T[i] = scale * ST[i] + K[i]: the Dense / Conv update
 *  (S may alias K, ST may alias T). */
void dml_kaffine(size_t n, double scale, double b2, const double *S, double *K, const double *ST, double *T);
/** Partial sums of dml_ksum: four AVX-512 vectors, so that the additions of consecutive entries do not wait
 *  on each other (with 8, one vector, GAP's row sums were bound by the latency of one chain of additions). */
#define DML_KSUM_LANES 32
/** Sum of n doubles with DML_KSUM_LANES partial sums (vectorisable, and more accurate than one running sum):
 *  entry j goes to partial sum j % DML_KSUM_LANES, in order; the partial sums are then added pairwise. */
double dml_ksum(const double *a, size_t n);
/** The same in pieces: a[0..n) are entries j0.. of the whole array, added to the partial sums p (zeroed first);
 *  dml_ksum_total adds them up as dml_ksum does, so a sum taken row by row equals dml_ksum bit for bit. */
void dml_ksum_add(double p[DML_KSUM_LANES], const double *a, size_t j0, size_t n);
double dml_ksum_total(const double p[DML_KSUM_LANES]);

/** The activation rule on n entries (activation.c): K <- T(s1, s2, K), T <- T * T'(s1, s2, K) (T NULL: skipped),
 *  in the step's kernel_precision; s1_stride 0 broadcasts s1[0] (a row of full covariances), 1 reads s1[i]. */
void dml_act_row(const dml_kstep *st, size_t n, const double *s1, int s1_stride, const double *s2, double *K,
                 double *T);

/* ---------------------------------------------------------------- cost */

/** Cost of one layer for the estimates: per pair of inputs for the kernel engine, per example for training. */
typedef struct {
    double kernel_duals;          /**< activation dual evaluations per pair */
    double kernel_rows;           /**< rows of duals per pair (full: P rows of P; diagonal: 1 row of P) */
    double kernel_window;         /**< multiply-adds of window sums and pooling per pair, in shifted rows */
    double kernel_gathered;       /**< the same through gathered rows (strides, circular wrap: window.h) */
    double kernel_entries;        /**< entries the layer writes per pair (affine updates, copies) */
    double train_seconds;         /**< one forward pass of one example on one thread (a step costs about 3) */
    double train_out;             /**< reals of the layer's output per example (kept for the backward pass) */
    double train_scratch;         /**< reals of im2col / Winograd scratch of a workspace of `cap` examples */
} dml_layer_cost;

/* ---------------------------------------------------------------- the table */

/** One row of the table: everything the two engines and the estimates need of a layer kind. A NULL entry
 *  means the kind does nothing there (e.g. Flatten's forward pass: its output buffer is its input). */
typedef struct {
    int output_is_input;          /**< the output aliases the input buffer (Flatten: position-major layout) */
    /** Finite network: fill ly's sizes, fan_in, nw/nb and window tables from ly->d and the input numbers
     *  per example ly->in_numel; -1 with err on an inconsistent list or no memory. */
    int (*setup)(dml_net_layer *ly, size_t elt, int wino_allowed, dml_error *err);
    void (*scratch)(const dml_net_layer *ly, size_t cap, dml_scratch_need *need);
    /** Forward: X (n, in_numel) -> Y (n, out_numel); p the whole parameter vector. */
    void (*forward_f32)(const dml_net_layer *ly, dml_net_scratch *s, const float *p, const float *X, float *Y, size_t n);
    void (*forward_f64)(const dml_net_layer *ly, dml_net_scratch *s, const double *p, const double *X, double *Y,
                        size_t n);
    /** Backward of the forward pass on the same X: dY (n, out_numel) -> dX (n, in_numel; NULL: not needed) and
     *  the parameter gradients into gp (the whole vector, overwritten at this layer's offsets; NULL: skipped). */
    void (*backward_f32)(const dml_net_layer *ly, dml_net_scratch *s, const float *p, const float *X,
                         const float *dY, float *dX, float *gp, size_t n);
    void (*backward_f64)(const dml_net_layer *ly, dml_net_scratch *s, const double *p, const double *X,
                         const double *dY, double *dX, double *gp, size_t n);
    /** Kernel engine: which representation the layer needs on its input to give `full_out` on its output. */
    int (*kernel_input_full)(int full_out);
    /** Build the step's tables and constants (st->d, full_in/out, P_in set by the engine; sets P_out). */
    int (*kernel_plan)(dml_kstep *st, dml_error *err);
    /** Apply the kernel rule to the state in place (K, T may be swapped with SK, ST). */
    void (*kernel)(const dml_kstep *st, dml_kstate *s);
    /** Cost of the layer (full: its kernel input is full P x P; cap: examples per training workspace). */
    void (*cost)(const dml_layer *d, int full, double cap, dml_layer_cost *c);
    /** Weights and biases of the layer (NULL: none), as its setup counts them. */
    size_t (*num_params)(const dml_layer *d);
} dml_layer_ops;

/** The rows, indexed by dml_layer_kind. */
extern const dml_layer_ops *const dml_layer_table[DML_NLAYER_KINDS];

extern const dml_layer_ops dml_dense_ops, dml_conv_ops, dml_conv_local_ops, dml_act_ops,
    dml_flatten_ops, dml_gap_ops, dml_avg_pool_ops;

/** Number of positions of an input of the layer (1 when flat). */
size_t dml_layer_positions_in(const dml_layer *d);
/** Number of positions of the layer's output. */
size_t dml_layer_positions_out(const dml_layer *d);
/** Product of the filter (window) sizes over the layer's spatial axes, as a double (1 when flat). */
double dml_layer_filter_size(const dml_layer *d);
/** Parameters of a layer (weights and biases), as a finite network of it holds. */
size_t dml_layer_num_params(const dml_layer *d);

/** Bias helpers of the parameterized layers (dense.c): Y[r, c] += beta b[c]; db[c] = beta sum_r dY[r, c]. */
void dml_add_rows_f32(float *Y, const float *b, float beta, size_t rows, size_t cols);
void dml_add_rows_f64(double *Y, const double *b, double beta, size_t rows, size_t cols);
void dml_sum_rows_f32(float *db, const float *dY, float beta, size_t rows, size_t cols);
void dml_sum_rows_f64(double *db, const double *dY, double beta, size_t rows, size_t cols);

/** Dense forward and backward (dense.c), also the readout's. */
void dml_dense_forward_f32(const dml_net_layer *ly, dml_net_scratch *s, const float *p, const float *X, float *Y,
                           size_t n);
void dml_dense_forward_f64(const dml_net_layer *ly, dml_net_scratch *s, const double *p, const double *X, double *Y,
                           size_t n);
void dml_dense_backward_f32(const dml_net_layer *ly, dml_net_scratch *s, const float *p, const float *X,
                            const float *dY, float *dX, float *gp, size_t n);
void dml_dense_backward_f64(const dml_net_layer *ly, dml_net_scratch *s, const double *p, const double *X,
                            const double *dY, double *dX, double *gp, size_t n);

/** The rest of Dense's row, shared with the readout. */
int dml_dense_setup(dml_net_layer *ly, size_t elt, int wino_allowed, dml_error *err);
int dml_dense_input_full(int full_out);
int dml_dense_plan(dml_kstep *st, dml_error *err);
void dml_dense_kernel(const dml_kstep *st, dml_kstate *s);
void dml_dense_cost(const dml_layer *d, int full, double cap, dml_layer_cost *c);
size_t dml_dense_num_params(const dml_layer *d);

/** im2col of the conv family (conv.c), exported for the empirical NTK (core/nn): windows of images
 *  [i0, i0+ni) at output positions [o0, o0+no), rows image-major (pos_major 0) or position-major (1). */
void dml_im2col_f32(const dml_net_layer *ly, const float *X, size_t i0, size_t ni, size_t o0, size_t no, int pos_major,
                    float *cols);
void dml_im2col_f64(const dml_net_layer *ly, const double *X, size_t i0, size_t ni, size_t o0, size_t no,
                    int pos_major, double *cols);

#endif
