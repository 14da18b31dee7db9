/* dmilab internal: the spatial stage of the kernel engine (layers before Flatten / GAP), on
 * position-diagonal covariances (lcn, cnn-vec: O(P) per pair) or full P x P covariances (cnn-gap). */
#ifndef DMILAB_KERNEL_SPATIAL_H
#define DMILAB_KERNEL_SPATIAL_H

#include <stddef.h>
#include "dmilab/model.h"

/** Window sum of one conv layer on a position-diagonal covariance.
 *  in: the layer's input positions (row-major over in_size), out: output positions (over out_size),
 *  tmp: workspace of max(P_in, P_out) * 2 doubles. Entry o gets sum over window offsets d of
 *  in[o*stride + d - pad_lo] (zero padding skips, circular wraps), axes processed from last to first,
 *  offsets in increasing order, so the sums equal the diagonal of dml_window_full bit for bit. */
void dml_window_diag(const dml_layer *L, const double *in, double *out, double *tmp);

/** The same window sum on a full covariance (P_in x P_in -> P_out x P_out, row-major), shared weights:
 *  out[o1, o2] = sum_d in[o1*s + d - pad, o2*s + d - pad]. tmp: max(P_in, P_out)^2 doubles. */
void dml_window_full(const dml_layer *L, const double *in, double *out, double *tmp);

/** Positions of a layer's input and output. */
size_t dml_layer_in_positions(const dml_layer *L);
size_t dml_layer_out_positions(const dml_layer *L);

#endif
