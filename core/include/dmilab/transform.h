/* dmilab: the input transforms of DESIGN 2.2 as seeded group elements g: draw, apply, invert, the explicit
 * matrix, and the pull-back of a first layer's weights through g (the coupled audit); per-example translation. */
#ifndef DMILAB_TRANSFORM_H
#define DMILAB_TRANSFORM_H

#include <stddef.h>
#include <stdint.h>
#include "dmilab/error.h"
#include "dmilab/model.h"
#include "dmilab/spec.h"

/** One group element g acting on inputs of shape `shape` (P positions, C channels, D = P * C numbers,
 *  position-major with channel fastest, the layout of dml_dataset.x). Every kind is an orthogonal map of
 *  R^D; which fields hold g depends on the kind (the others are NULL / 0):
 *    orthogonal          matrix: D x D row-major Q, Haar-random in O(D);           g.x = Q x
 *    permutation         perm: P entries, a uniformly random permutation;        (g.x)[p, c] = x[perm[p], c]
 *    signed-permutation  src, sign: D entries each;                              (g.x)[i] = sign[i] * x[src[i]]
 *    translation         shift: one entry per spatial axis, 0 <= shift < size;   (g.x)[p] = x[(p + shift) mod size]
 *    local-orthogonal    blocks: P blocks of C x C row-major, O_p Haar-random in O(C), or a random sign
 *                        when C = 1;                                             (g.x)[p] = O_p x[p]
 *    channel-orthogonal  blocks: one C x C block O, Haar-random in O(C), or -1 when C = 1; (g.x)[p] = O x[p]
 *  `src` (and `sign`) also hold the coordinate map of permutation and translation: (g.x)[i] = x[src[i]].
 *  Haar matrices: QR of a Gaussian matrix with the columns signed by diag(R) (Mezzadri 2007, "How to generate
 *  random matrices from the classical compact groups", Notices AMS 54). */
typedef struct {
    dml_transform_kind kind;
    dml_shape shape;
    size_t P, C, D;
    double *matrix;
    size_t *perm;
    size_t *src;
    double *sign;
    int shift[DML_MAX_SPATIAL];
    double *blocks;
} dml_group_elem;

/** Draw the element of kind `kind` seeded by `seed` alone (dml_rng seeded {seed, "transfor" + kind}), so that
 *  train and test, every repeat and every variant with the same (kind, seed) see the same g. shape: nd 0..2
 *  spatial axes (translation needs nd >= 1), channels >= 1. Returns 0, or -1 with err (DML_ERR_INVALID_SPEC,
 *  field "shape", for a shape the kind cannot act on; DML_ERR_NOMEM; DML_ERR_NUMERIC when LAPACK fails).
 *  Free with dml_group_free. */
int dml_group_draw(dml_transform_kind kind, uint64_t seed, const dml_shape *shape, dml_group_elem *g,
                   dml_error *err);

/** The translation by `shift` (one integer per spatial axis, any sign; reduced modulo the size), for a given
 *  shift rather than a seeded one: (g.x)[p] = x[(p + shift) mod size]. Returns 0 or -1 with err. */
int dml_group_translation(const dml_shape *shape, const int *shift, dml_group_elem *g, dml_error *err);

void dml_group_free(dml_group_elem *g);

/** x (n x D, row-major) <- g.x for each of the n inputs, in place. Returns 0 or -1 (DML_ERR_NOMEM). */
int dml_group_apply(const dml_group_elem *g, double *x, size_t n, dml_error *err);

/** x <- g^-1 . x (= g^T x: every g is orthogonal). Exact (bit for bit) for permutation, signed-permutation,
 *  translation and the sign flips of C = 1; to rounding for the Haar matrices. Returns 0 or -1. */
int dml_group_apply_inverse(const dml_group_elem *g, double *x, size_t n, dml_error *err);

/** The D x D matrix G of g (row-major, g.x = G x), for any kind. m: D * D doubles. */
void dml_group_matrix(const dml_group_elem *g, double *m);

/** Nonzero when a first layer of kind `layer` can absorb g of kind `kind` exactly, that is when weights W'
 *  exist with layer(g.x; W') = layer(x; W) for every x: a Dense first layer (after Flatten) absorbs every kind
 *  (g is orthogonal); a locally connected one (ConvLocal) absorbs local- and channel-orthogonal; a shared Conv
 *  absorbs channel-orthogonal only. This is where the coupled audit measurement applies (DESIGN 2.2). */
int dml_group_absorbed_by(dml_transform_kind kind, dml_layer_kind layer);

/** Pull the weights of the first parameterized layer `L` of a network back through g, in place, so that the
 *  layer's pre-activations on g.x with the new weights equal those on x with the old ones (the biases do not
 *  change):
 *    Dense      (L->in_channels == D; W (D, out) row-major):  W' = G W
 *    ConvLocal  (W (P_out, F*C, out), row d*C + c):           W'[o, d] = O_p W[o, d], p the input position the
 *                                                             window of o reads at offset d (padding entries,
 *                                                             which read zeros, are left alone)
 *    Conv       (W (F*C, out)):                               W'[d] = O W[d]
 *  where W[.., d] is the C x out block of the window offset d. L comes from dml_model_layers for g's shape;
 *  w points at its weights in the flat parameter vector (dml_net_layer_params). Returns 0, or -1 with
 *  DML_ERR_INVALID_SPEC when the layer cannot absorb g (dml_group_absorbed_by) or does not read inputs of
 *  g's shape, or DML_ERR_NOMEM. */
int dml_group_pullback(const dml_group_elem *g, const dml_layer *L, double *w, dml_error *err);

/** Per-example translation (DESIGN 2.2 `translation` with "per_example": true): input i of x (n inputs of
 *  shape `shape`, nd >= 1) is translated by its own shift, drawn from dml_rng seeded
 *  {seed, "pershift", stream, first + i} (dml_translate_each_shift), so an input's shift depends only on
 *  (seed, stream, its index), never on n: nested training sets keep their shifts, and the arrays of one data
 *  variant are told apart by `stream` (the caller's convention, e.g. 0 for the test set and 1 + repeat for
 *  the training set of a repeat). On every axis the shift is uniform over 0..size-1 when max_shift == 0 (the
 *  data distribution then becomes exactly invariant under translations), else uniform over
 *  -max_shift..max_shift, modulo the size. Returns 0, or -1 with err (field "shape" for nd == 0,
 *  "max_shift" when negative; DML_ERR_NOMEM). */
int dml_translate_each(const dml_shape *shape, double *x, size_t n, uint64_t seed, uint64_t stream, size_t first,
                       int max_shift, dml_error *err);

/** The shift dml_translate_each gives input `index` of `stream`: shift[0..nd), each in 0..size-1. */
void dml_translate_each_shift(const dml_shape *shape, uint64_t seed, uint64_t stream, size_t index, int max_shift,
                              int *shift);

#endif
