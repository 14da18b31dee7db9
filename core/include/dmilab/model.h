/* dmilab: the model (M) description, and the layer list that drives both the kernel engine and,
 * later, the finite networks (as Neural Tangents pairs apply_fn with kernel_fn). */
#ifndef DMILAB_MODEL_H
#define DMILAB_MODEL_H

#include <stddef.h>
#include "dmilab/error.h"

#define DML_MAX_SPATIAL 2   /**< 1D (L) and 2D (H, W) inputs */
#define DML_MAX_LAYERS 64
#define DML_NAME_MAX 65     /**< names are 1..64 characters of [A-Za-z0-9._-] */

typedef enum { DML_ARCH_FCN, DML_ARCH_LCN, DML_ARCH_CNN_VEC, DML_ARCH_CNN_GAP } dml_arch;
typedef enum { DML_ACT_RELU, DML_ACT_ERF } dml_activation;
typedef enum { DML_PAD_SAME, DML_PAD_VALID, DML_PAD_CIRCULAR } dml_padding;
typedef enum { DML_PARAM_NTK, DML_PARAM_STANDARD } dml_parameterization;

/** One architecture with its hyper-parameters (DESIGN section 3, defaults there).
 *  `filter`/`stride` hold one entry per spatial axis; `nfilter`/`nstride` is how many the user gave
 *  (1 means "same on every axis"), 0 when defaulted. */
typedef struct {
    char name[DML_NAME_MAX];
    dml_arch arch;
    int depth;                 /**< hidden Dense/Conv layers, each followed by the activation */
    int width;                 /**< channels or units per hidden layer (finite networks only) */
    dml_activation activation;
    double w_std, b_std;       /**< Neural Tangents' W_std, b_std */
    double readout_w_std, readout_b_std;
    int filter[DML_MAX_SPATIAL], nfilter;
    int stride[DML_MAX_SPATIAL], nstride;
    dml_padding padding;
    dml_parameterization parameterization;
} dml_model;

/** Fill `m` with every default of DESIGN section 3 (arch fcn, depth 2, width 128, relu,
 *  w_std sqrt(2), b_std 0, readout 1/0, filter 3, stride 1, padding same, parameterization ntk). */
void dml_model_defaults(dml_model *m);

const char *dml_arch_name(dml_arch a);
const char *dml_activation_name(dml_activation a);
const char *dml_padding_name(dml_padding p);

/** Shape of one input: `nd` spatial axes (0 for flat vectors), sizes `size[0..nd)`, `channels` C.
 *  Inputs are stored row-major as (...spatial, C): position-major, channel fastest. */
typedef struct {
    int nd;
    int size[DML_MAX_SPATIAL];
    int channels;
} dml_shape;

/** Number of positions P (product of the spatial sizes; 1 when nd == 0). */
size_t dml_shape_positions(const dml_shape *s);
/** Number of numbers per input, P * C. */
size_t dml_shape_numel(const dml_shape *s);

typedef enum {
    DML_LAYER_DENSE,       /**< fully connected: K <- w^2 K + b^2 */
    DML_LAYER_CONV,        /**< convolution with shared weights */
    DML_LAYER_CONV_LOCAL,  /**< locally connected: same windows, unshared weights */
    DML_LAYER_ACT,         /**< elementwise activation */
    DML_LAYER_FLATTEN,     /**< (positions, C) -> vector */
    DML_LAYER_GAP,         /**< global average pooling over positions */
    DML_LAYER_READOUT      /**< the final Dense layer to the outputs */
} dml_layer_kind;

/** One layer with its spatial geometry resolved for a given input shape. */
typedef struct {
    dml_layer_kind kind;
    double w_std, b_std;            /**< Dense, Conv, ConvLocal, Readout */
    dml_activation activation;      /**< Act */
    int nd;                         /**< spatial axes of the layer's input (0 after Flatten/GAP) */
    int in_size[DML_MAX_SPATIAL];   /**< spatial size of the input */
    int out_size[DML_MAX_SPATIAL];  /**< spatial size of the output */
    int filter[DML_MAX_SPATIAL], stride[DML_MAX_SPATIAL];
    int pad_lo[DML_MAX_SPATIAL];    /**< zeros (or wrapped entries) before the first input position */
    dml_padding padding;
    int in_channels, out_channels;  /**< finite networks; out_channels = model width or outputs */
} dml_layer;

/** A model's layer list for one input shape. */
typedef struct {
    int n;
    dml_layer layer[DML_MAX_LAYERS];
    dml_shape input;
    int outputs;
} dml_layers;

/** Build the layer list of `m` for inputs of shape `in` and `outputs` readout units:
 *  fcn: Flatten, (Dense, Act) x depth, Readout; lcn: (ConvLocal, Act) x depth, Flatten, Readout;
 *  cnn-vec: (Conv, Act) x depth, Flatten, Readout; cnn-gap: (Conv, Act) x depth, GAP, Readout.
 *  Padding geometry follows DESIGN 2.1 (same: out = ceil(size/stride), total padding
 *  max((out-1)*stride + f - size, 0), low side floor(total/2); valid: out = floor((size-f)/stride)+1;
 *  circular: as same, wrapping). A single filter/stride entry applies to every axis.
 *  Returns 0, or -1 with `err` (field: the model's offending field, "filter", "stride", "arch", or ""
 *  for the input shape; callers prefix their own path) when the shape does not fit the model
 *  (e.g. a 'valid' filter larger than the input, a conv arch on flat inputs, filter list length). */
int dml_model_layers(const dml_model *m, const dml_shape *in, int outputs, dml_layers *out, dml_error *err);

#endif
