/* dmilab internal: window tables of Conv, ConvLocal and AvgPool layers (which input position each window tap
 * reads), and the window sums of the kernel rules on position-diagonal or full P x P covariances. The finite
 * networks' im2col reads the same tables, so both engines see the same geometry. */
#ifndef DMILAB_LAYERS_WINDOW_H
#define DMILAB_LAYERS_WINDOW_H

#include <stddef.h>
#include <stdint.h>
#include "dmilab/model.h"

/** The window of one Conv / ConvLocal / AvgPool layer as tables: for every window offset d (row-major over the
 *  filter axes) and output position o, the input position read (idx, 0 in padding) and whether it is real
 *  (mask 1) or zero padding (mask 0). Geometry of DESIGN 2.1 (same, valid, circular; strides). */
typedef struct {
    size_t P_in, P_out;
    int F;            /**< filter size: number of window offsets */
    int32_t *idx;     /**< F x P_out */
    double *mask;     /**< F x P_out */
    uint8_t *bits;    /**< F x ceil(P_out / 8): mask as bits, entry o of offset d in bit o % 8 of byte o / 8 */
    long *shift;      /**< F: idx[d][o] == o + shift[d] wherever mask is 1, or LONG_MIN when not so */
    int all_affine;   /**< every offset has a shift: dml_window_full takes the fused one-pass path */
    long max_shift;   /**< largest |shift|: the fused path reads up to this far outside a row */
} dml_window_table;

/** Build the tables of layer L. Returns 0, or -1 when out of memory. */
int dml_window_table_build(const dml_layer *L, dml_window_table *t);
void dml_window_table_free(dml_window_table *t);

/** Window sum on a position-diagonal covariance: out[o] = sum_d mask[d][o] * in[idx[d][o]], offsets in
 *  increasing order, so the result equals the diagonal of dml_window_full bit for bit.
 *  in: P_in doubles, out: P_out doubles. */
void dml_window_diag(const dml_window_table *t, const double *in, double *out);

/** Window sum on a full covariance with shared weights:
 *  out[o1, o2] = sum_d in[idx[d][o1], idx[d][o2]] over offsets where both are real.
 *  in: P_in x P_in row-major, with `max_shift` finite doubles readable before and after it (the fused path
 *  reads them and multiplies them by 0); out: P_out x P_out row-major. */
void dml_window_full(const dml_window_table *t, const double *in, double *out);

/** Row o1 of dml_window_full (the same arithmetic), reading input row r at in + (r % cap) * P_in: the whole
 *  matrix (cap = P_in) or a ring of cap rows holding the rows that dml_window_rows_needed names (the row-streamed
 *  engine), with `max_shift` finite doubles readable before and after the buffer. out: P_out doubles. */
void dml_window_full_row(const dml_window_table *t, const double *in, size_t cap, size_t o1, double *out);

/** The input rows that output row o1 of dml_window_full and dml_window_pool_full reads lie in [*lo, *hi]
 *  (*lo SIZE_MAX and *hi 0 when it reads none: a row of padding). */
void dml_window_rows_needed(const dml_window_table *t, size_t o1, size_t *lo, size_t *hi);

/** Pooling of a full covariance (independent offsets on the two positions, Neural Tangents' AvgPool kernel
 *  before its 1/F^2): out[o1, o2] = sum_{d1, d2} in[idx[d1][o1], idx[d2][o2]] over real taps.
 *  in: P_in x P_in, tmp: P_out x P_in scratch, out: P_out x P_out, row-major, all distinct. */
void dml_window_pool_full(const dml_window_table *t, const double *in, double *tmp, double *out);

/** Row o1 of dml_window_pool_full (the same arithmetic), input rows as in dml_window_full_row; tmp: P_in scratch,
 *  out: P_out doubles. */
void dml_window_pool_full_row(const dml_window_table *t, const double *in, size_t cap, size_t o1, double *tmp,
                              double *out);

/** The diagonal of dml_window_pool_full only: out[o] = sum_{d1, d2} in[idx[d1][o], idx[d2][o]] (P_out). */
void dml_window_pool_diag(const dml_window_table *t, const double *in, double *out);

/** Output rows that the multi-row window functions take at once. */
#define DML_WINDOW_ROWS 4

/** Rows o0 .. o0 + rows - 1 (rows <= DML_WINDOW_ROWS, o0 + rows <= P_out) of dml_window_full_row, each followed
 *  by the Conv update of dml_kaffine: out[r][o2] = scale * W_{o0 + r}[o2] + (add ? add[r][o2] : b2) (K: add
 *  NULL, b2 the bias variance; Theta: add the rows' new K). The same bits as row by row and the two steps;
 *  where the AVX-512 rows run, the rows go through the columns together, so that the input rows they share are
 *  read from L1. Input rows as in dml_window_full_row. */
void dml_window_full_rows_affine(const dml_window_table *t, const double *in, size_t cap, size_t o0, int rows,
                                 double scale, double b2, double *const *add, double *const *out);

/** The first window on the input covariance of one-channel inputs, K0[p, q] = xi[p] xj[q], without making
 *  K0 (the row-streamed engine, plan.h input_fused). dml_window_input_gather takes xj's entry under every window
 *  offset once per input: X[d * ld + o] = xj[idx[d][o]] where real, else 0.0 (F rows of ld >= P_out doubles).
 *  dml_window_input_row then makes row o1: out[o2] = sum over the offsets d real at o1, in order from 0.0, of
 *  xi[idx[d][o1]] * X[d][o2]: the same bits as dml_input_cov_row (C = 1) followed by dml_window_full_row (a
 *  padding term adds +-0.0, which leaves a running sum that starts at +0.0 unchanged). xi, xj: P_in doubles;
 *  out: P_out doubles. Any geometry (the table's gather, not its shifts), at most 64 offsets (F <= 64). */
void dml_window_input_gather(const dml_window_table *t, const double *xj, double *X, size_t ld);
void dml_window_input_row(const dml_window_table *t, const double *xi, const double *X, size_t ld, size_t o1,
                          double *out);
/** Rows o0 .. o0 + rows - 1 of dml_window_input_row at once (rows <= DML_WINDOW_ROWS), going through the columns
 *  together (X is read once per block of columns for all of them); the same bits. */
void dml_window_input_rows(const dml_window_table *t, const double *xi, const double *X, size_t ld, size_t o0,
                           int rows, double *const *out);

#endif
