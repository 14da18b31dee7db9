/* dmilab: the model (M) description, and the layer list that drives both the kernel engine and the finite
 * networks (as Neural Tangents pairs apply_fn with kernel_fn). */
#ifndef DMILAB_MODEL_H
#define DMILAB_MODEL_H

#include <stddef.h>
#include "dmilab/enum.h"
#include "dmilab/error.h"

#define DML_MAX_SPATIAL 2   /**< 1D (L) and 2D (H, W) inputs */
#define DML_MAX_LAYERS 64
#define DML_NAME_MAX 65     /**< names are 1..64 characters of [A-Za-z0-9._-] */

/* Every enum of the model with its spec name, written once as X(id, "name") (dmilab/enum.h): the enums, their
 * counts and the name tables (model.c) are generated from these lists. */
#define DML_ARCHS(X) X(DML_ARCH_FCN, "fcn") X(DML_ARCH_LCN, "lcn") X(DML_ARCH_CNN_VEC, "cnn-vec") X(DML_ARCH_CNN_GAP, "cnn-gap")
#define DML_ACTIVATIONS(X) X(DML_ACT_RELU, "relu") X(DML_ACT_ERF, "erf")
#define DML_PADDINGS(X) X(DML_PAD_SAME, "same") X(DML_PAD_VALID, "valid") X(DML_PAD_CIRCULAR, "circular")
#define DML_PARAMETERIZATIONS(X) X(DML_PARAM_NTK, "ntk") X(DML_PARAM_STANDARD, "standard")
/* The arithmetic of the kernel engine's activation duals (docs/kernels.md, "kernel_precision"). */
#define DML_KERNEL_PRECISIONS(X) X(DML_KPREC_FLOAT64, "float64") X(DML_KPREC_FLOAT32, "float32")
/* Layer kinds (see dml_layer_kind below). ACT is written as its activation ("relu", "erf") in a spec, and
 * READOUT as the list's final "dense". */
#define DML_LAYER_KINDS(X)                                                                                   \
    X(DML_LAYER_DENSE, "dense") X(DML_LAYER_CONV, "conv") X(DML_LAYER_CONV_LOCAL, "conv-local")              \
    X(DML_LAYER_ACT, "activation") X(DML_LAYER_FLATTEN, "flatten") X(DML_LAYER_GAP, "gap")                   \
    X(DML_LAYER_READOUT, "readout") X(DML_LAYER_AVG_POOL, "avg-pool")

/** The four presets; DML_ARCH_LAYERS marks a model given as an explicit layer list (model.layers). */
typedef enum { DML_ARCHS(DML_ENUM_ID) DML_ARCH_LAYERS } dml_arch;
typedef enum { DML_ACTIVATIONS(DML_ENUM_ID) } dml_activation;
typedef enum { DML_PADDINGS(DML_ENUM_ID) } dml_padding;
typedef enum { DML_PARAMETERIZATIONS(DML_ENUM_ID) } dml_parameterization;
typedef enum { DML_KERNEL_PRECISIONS(DML_ENUM_ID) } dml_kernel_precision;
#define DML_NARCHS (0 DML_ARCHS(DML_ENUM_COUNT))
#define DML_NACTIVATIONS (0 DML_ACTIVATIONS(DML_ENUM_COUNT))
#define DML_NPADDINGS (0 DML_PADDINGS(DML_ENUM_COUNT))
#define DML_NPARAMETERIZATIONS (0 DML_PARAMETERIZATIONS(DML_ENUM_COUNT))
#define DML_NKERNEL_PRECISIONS (0 DML_KERNEL_PRECISIONS(DML_ENUM_COUNT))
#define DML_NLAYER_KINDS (0 DML_LAYER_KINDS(DML_ENUM_COUNT))

/** Layer kinds. Kernel rules (DESIGN 2.1) and finite functions are in core/layers/, one file per family. */
typedef enum {
    DML_LAYER_KINDS(DML_ENUM_ID)
    /* DENSE       fully connected on flat inputs: K <- w^2 K + b^2
     * CONV        convolution with shared weights
     * CONV_LOCAL  locally connected: same windows, unshared weights
     * ACT         elementwise activation
     * FLATTEN     (positions, C) -> vector
     * GAP         global average pooling over positions
     * READOUT     the final Dense layer to the outputs
     * AVG_POOL    average pooling over a window (Neural Tangents' stax.AvgPool) */
} dml_layer_kind;

/** Name tables, indexed by the enums ("?" out of range). */
const char *dml_arch_name(dml_arch a);            /**< "fcn" ... "cnn-gap"; "layers" for DML_ARCH_LAYERS */
const char *dml_activation_name(dml_activation a);
const char *dml_padding_name(dml_padding p);
const char *dml_parameterization_name(dml_parameterization p);
const char *dml_kernel_precision_name(dml_kernel_precision p);
const char *dml_layer_kind_name(dml_layer_kind k);
extern const char *const dml_arch_names[DML_NARCHS];
extern const char *const dml_activation_names[DML_NACTIVATIONS];
extern const char *const dml_padding_names[DML_NPADDINGS];
extern const char *const dml_parameterization_names[DML_NPARAMETERIZATIONS];
extern const char *const dml_kernel_precision_names[DML_NKERNEL_PRECISIONS];

/** One layer of a model as the spec gives it (model.layers[i], or a preset's layer), every field resolved:
 *  the per-layer fields a spec leaves out are filled from the model's fields of the same name (width, w_std,
 *  b_std, filter, stride, padding; the readout's w_std/b_std from readout_w_std/readout_b_std).
 *  `filter`/`stride` hold one entry per spatial axis, `nfilter`/`nstride` how many were given (1: the same on
 *  every axis); for AVG_POOL `filter` is the pooling window. */
typedef struct {
    dml_layer_kind kind;          /**< DENSE, CONV, CONV_LOCAL, ACT, FLATTEN, GAP, AVG_POOL, READOUT (the last) */
    dml_activation activation;    /**< ACT */
    int width;                    /**< DENSE, CONV, CONV_LOCAL: units or channels (finite networks only) */
    double w_std, b_std;          /**< DENSE, CONV, CONV_LOCAL, READOUT */
    int filter[DML_MAX_SPATIAL], nfilter;
    int stride[DML_MAX_SPATIAL], nstride;
    dml_padding padding;          /**< CONV, CONV_LOCAL, AVG_POOL */
} dml_layer_spec;

/** One model with its hyper-parameters (DESIGN section 3, defaults there): a preset `arch` built from `depth`,
 *  `activation` and the other fields, or an explicit layer list (`nlayers` > 0, arch DML_ARCH_LAYERS).
 *  `filter`/`stride` hold one entry per spatial axis; `nfilter`/`nstride` is how many the user gave
 *  (1 means "same on every axis"), 0 when defaulted. */
typedef struct {
    char name[DML_NAME_MAX];
    dml_arch arch;
    int depth;                 /**< presets: hidden Dense/Conv layers, each followed by the activation */
    int width;                 /**< channels or units per hidden layer (finite networks only) */
    dml_activation activation;
    double w_std, b_std;       /**< Neural Tangents' W_std, b_std */
    double readout_w_std, readout_b_std;
    int filter[DML_MAX_SPATIAL], nfilter;
    int stride[DML_MAX_SPATIAL], nstride;
    dml_padding padding;
    dml_parameterization parameterization;
    /** The kernel engine's duals: float64 (default, the golden-checked mode) or float32 (faster; error in
     *  docs/kernels.md). Finite networks ignore it. */
    dml_kernel_precision kernel_precision;
    int nlayers;               /**< explicit layer list (0: the preset of `arch`) */
    dml_layer_spec layers[DML_MAX_LAYERS];
} dml_model;

/** Fill `m` with every default of DESIGN section 3 (arch fcn, depth 2, width 128, relu,
 *  w_std sqrt(2), b_std 0, readout 1/0, filter 3, stride 1, padding same, parameterization ntk). */
void dml_model_defaults(dml_model *m);

/** A layer of kind k with every field taken from the model's fields of the same name (a preset's layers; the
 *  defaults of an explicit list's layers). */
dml_layer_spec dml_layer_spec_from_model(const dml_model *m, dml_layer_kind k);

/** The layer list of a model as specs: its explicit list, or the preset of its arch:
 *  fcn: flatten, (dense, act) x depth, readout; lcn: (conv-local, act) x depth, flatten, readout;
 *  cnn-vec: (conv, act) x depth, flatten, readout; cnn-gap: (conv, act) x depth, gap, readout.
 *  out holds DML_MAX_LAYERS entries. Returns the count, or -1 with err (field "depth") when the preset
 *  does not fit DML_MAX_LAYERS. */
int dml_model_layer_specs(const dml_model *m, dml_layer_spec *out, dml_error *err);

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

/** One layer with its spatial geometry resolved for a given input shape. */
typedef struct {
    dml_layer_kind kind;
    double w_std, b_std;            /**< Dense, Conv, ConvLocal, Readout */
    dml_activation activation;      /**< Act */
    int nd;                         /**< spatial axes of the layer's input (0 after Flatten/GAP) */
    int in_size[DML_MAX_SPATIAL];   /**< spatial size of the input */
    int out_size[DML_MAX_SPATIAL];  /**< spatial size of the output */
    int filter[DML_MAX_SPATIAL], stride[DML_MAX_SPATIAL];   /**< Conv, ConvLocal; AvgPool: window, stride */
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
    dml_kernel_precision kernel_precision;   /**< the model's: the kernel engine's duals */
} dml_layers;

/** Build the layer list of `m` for inputs of shape `in` and `outputs` readout units, from
 *  dml_model_layer_specs. Padding geometry follows DESIGN 2.1 (same: out = ceil(size/stride), total padding
 *  max((out-1)*stride + f - size, 0), low side floor(total/2); valid: out = floor((size-f)/stride)+1;
 *  circular: as same, wrapping), for Conv, ConvLocal and AvgPool windows alike. A single filter/stride entry
 *  applies to every axis. A dense layer on spatial inputs acts on the channels at every position with shared
 *  weights, as Neural Tangents' Dense does: it becomes a Conv layer with a filter of 1.
 *  Returns 0, or -1 with `err` when the shape does not fit the model: err->field names the offending field,
 *  for presets the model's ("filter", "stride", "arch", "depth") and for explicit lists the layer's
 *  ("layers[3].filter", "layers[5]"), "" for the input shape; callers prefix their own path. */
int dml_model_layers(const dml_model *m, const dml_shape *in, int outputs, dml_layers *out, dml_error *err);

#endif
