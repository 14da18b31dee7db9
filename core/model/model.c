/* Model defaults, names, the four presets as layer lists, and the geometry of a layer list for one input
 * shape (dml_model_layers), shared by the kernel engine and the finite networks. */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "dmilab/model.h"

const char *const dml_arch_names[DML_NARCHS] = {DML_ARCHS(DML_ENUM_NAME)};
const char *const dml_activation_names[DML_NACTIVATIONS] = {DML_ACTIVATIONS(DML_ENUM_NAME)};
const char *const dml_padding_names[DML_NPADDINGS] = {DML_PADDINGS(DML_ENUM_NAME)};
const char *const dml_parameterization_names[DML_NPARAMETERIZATIONS] = {DML_PARAMETERIZATIONS(DML_ENUM_NAME)};
const char *const dml_kernel_precision_names[DML_NKERNEL_PRECISIONS] = {DML_KERNEL_PRECISIONS(DML_ENUM_NAME)};
static const char *const layer_kind_names[DML_NLAYER_KINDS] = {DML_LAYER_KINDS(DML_ENUM_NAME)};

const char *dml_arch_name(dml_arch a)
{
    if (a == DML_ARCH_LAYERS) return "layers";
    return (unsigned)a < DML_NARCHS ? dml_arch_names[a] : "?";
}
const char *dml_activation_name(dml_activation a) { return (unsigned)a < DML_NACTIVATIONS ? dml_activation_names[a] : "?"; }
const char *dml_padding_name(dml_padding p) { return (unsigned)p < DML_NPADDINGS ? dml_padding_names[p] : "?"; }
const char *dml_parameterization_name(dml_parameterization p)
{
    return (unsigned)p < DML_NPARAMETERIZATIONS ? dml_parameterization_names[p] : "?";
}
const char *dml_kernel_precision_name(dml_kernel_precision p)
{
    return (unsigned)p < DML_NKERNEL_PRECISIONS ? dml_kernel_precision_names[p] : "?";
}
const char *dml_layer_kind_name(dml_layer_kind k) { return (unsigned)k < DML_NLAYER_KINDS ? layer_kind_names[k] : "?"; }

void dml_model_defaults(dml_model *m)
{
    memset(m, 0, sizeof *m);
    m->arch = DML_ARCH_FCN;
    m->depth = 2;
    m->width = 128;
    m->activation = DML_ACT_RELU;
    m->w_std = sqrt(2.0);
    m->b_std = 0.0;
    m->readout_w_std = 1.0;
    m->readout_b_std = 0.0;
    for (int a = 0; a < DML_MAX_SPATIAL; a++) {
        m->filter[a] = 3;
        m->stride[a] = 1;
    }
    m->nfilter = 0;
    m->nstride = 0;
    m->padding = DML_PAD_SAME;
    m->parameterization = DML_PARAM_NTK;
    m->kernel_precision = DML_KPREC_FLOAT64;
}

size_t dml_shape_positions(const dml_shape *s)
{
    size_t p = 1;
    for (int a = 0; a < s->nd; a++) p *= (size_t)s->size[a];
    return p;
}

size_t dml_shape_numel(const dml_shape *s) { return dml_shape_positions(s) * (size_t)s->channels; }

dml_layer_spec dml_layer_spec_from_model(const dml_model *m, dml_layer_kind k)
{
    dml_layer_spec s;
    memset(&s, 0, sizeof s);
    s.kind = k;
    s.activation = m->activation;
    s.width = m->width;
    s.w_std = k == DML_LAYER_READOUT ? m->readout_w_std : m->w_std;
    s.b_std = k == DML_LAYER_READOUT ? m->readout_b_std : m->b_std;
    memcpy(s.filter, m->filter, sizeof s.filter);
    memcpy(s.stride, m->stride, sizeof s.stride);
    s.nfilter = m->nfilter;
    s.nstride = m->nstride;
    s.padding = m->padding;
    return s;
}

int dml_model_layer_specs(const dml_model *m, dml_layer_spec *out, dml_error *err)
{
    if (m->nlayers > 0) {
        assert(m->nlayers <= DML_MAX_LAYERS);
        memcpy(out, m->layers, sizeof *out * (size_t)m->nlayers);
        return m->nlayers;
    }
    if (m->depth < 0 || 2 * m->depth + 3 > DML_MAX_LAYERS)
        return dml_fail(err, DML_ERR_INVALID_SPEC, "depth",
                        "depth must be in [0, %d] (a network holds at most %d layers), got %d",
                        (DML_MAX_LAYERS - 3) / 2, DML_MAX_LAYERS, m->depth);
    int n = 0;
    if (m->arch == DML_ARCH_FCN) out[n++] = dml_layer_spec_from_model(m, DML_LAYER_FLATTEN);
    dml_layer_kind hidden = m->arch == DML_ARCH_FCN ? DML_LAYER_DENSE
                          : m->arch == DML_ARCH_LCN ? DML_LAYER_CONV_LOCAL
                                                    : DML_LAYER_CONV;
    for (int d = 0; d < m->depth; d++) {
        out[n++] = dml_layer_spec_from_model(m, hidden);
        out[n++] = dml_layer_spec_from_model(m, DML_LAYER_ACT);
    }
    if (m->arch != DML_ARCH_FCN) out[n++] = dml_layer_spec_from_model(m, m->arch == DML_ARCH_CNN_GAP ? DML_LAYER_GAP : DML_LAYER_FLATTEN);
    out[n++] = dml_layer_spec_from_model(m, DML_LAYER_READOUT);
    return n;
}

/* Error fields: a preset names the model's field ("filter"), an explicit list the layer's JSON path
 * ("layers[2].conv.filter", or "layers[2]" for the layer itself). */
typedef struct {
    int explicit_list;
    int index;
    const char *word;   /* the layer's key in the spec */
    char buf[64];
} where;

static const char *field(where *w, const char *preset_field, const char *layer_field)
{
    if (!w->explicit_list) return preset_field;
    if (layer_field) snprintf(w->buf, sizeof w->buf, "layers[%d].%s.%s", w->index, w->word, layer_field);
    else snprintf(w->buf, sizeof w->buf, "layers[%d]", w->index);
    return w->buf;
}

/* Window geometry of a Conv, ConvLocal or AvgPool layer along every axis (DESIGN 2.1). */
static int window_geometry(const dml_layer_spec *s, const int *in, int nd, dml_layer *L, where *w, dml_error *err)
{
    const char *fname = s->kind == DML_LAYER_AVG_POOL ? "window" : "filter";
    if (s->nfilter > 1 && s->nfilter != nd)
        return dml_fail(err, DML_ERR_INVALID_SPEC, field(w, "filter", fname),
                        "%s has %d entries but the input has %d spatial axes", fname, s->nfilter, nd);
    if (s->nstride > 1 && s->nstride != nd)
        return dml_fail(err, DML_ERR_INVALID_SPEC, field(w, "stride", "stride"),
                        "stride has %d entries but the input has %d spatial axes", s->nstride, nd);
    L->nd = nd;
    L->padding = s->padding;
    for (int a = 0; a < nd; a++) {
        int f = s->nfilter > 1 ? s->filter[a] : s->filter[0];
        int st = s->nstride > 1 ? s->stride[a] : s->stride[0];
        int n = in[a];
        L->in_size[a] = n;
        L->filter[a] = f;
        L->stride[a] = st;
        if (s->padding == DML_PAD_VALID) {
            if (f > n)
                return dml_fail(err, DML_ERR_INVALID_SPEC, field(w, "filter", fname),
                                "'valid' %s %d is larger than the input size %d on axis %d", fname, f, n, a);
            L->out_size[a] = (n - f) / st + 1;
            L->pad_lo[a] = 0;
        } else {
            int out = (n + st - 1) / st;
            int total = (out - 1) * st + f - n;
            if (total < 0) total = 0;
            L->out_size[a] = out;
            L->pad_lo[a] = total / 2;
        }
        assert(L->out_size[a] >= 1 && L->pad_lo[a] >= 0 && L->pad_lo[a] < f);
    }
    return 0;
}

int dml_model_layers(const dml_model *m, const dml_shape *in, int outputs, dml_layers *out, dml_error *err)
{
    memset(out, 0, sizeof *out);
    out->input = *in;
    out->outputs = outputs;
    out->kernel_precision = m->kernel_precision;
    dml_layer_spec spec[DML_MAX_LAYERS];
    int n = dml_model_layer_specs(m, spec, err);
    if (n < 0) return -1;
    if (in->channels < 1 || in->nd < 0 || in->nd > DML_MAX_SPATIAL)
        return dml_fail(err, DML_ERR_INVALID_SPEC, "", "bad input shape");
    for (int a = 0; a < in->nd; a++)
        if (in->size[a] < 1) return dml_fail(err, DML_ERR_INVALID_SPEC, "", "bad input shape");

    where w = {.explicit_list = m->nlayers > 0};
    int size[DML_MAX_SPATIAL];
    int nd = in->nd, channels = in->channels;
    memcpy(size, in->size, sizeof size);
    for (int i = 0; i < n; i++) {
        const dml_layer_spec *s = &spec[i];
        w.index = i;
        w.word = dml_layer_kind_name(s->kind == DML_LAYER_READOUT ? DML_LAYER_DENSE : s->kind);
        dml_layer *L = &out->layer[out->n++];
        memset(L, 0, sizeof *L);
        L->kind = s->kind;
        if (s->kind == DML_LAYER_DENSE || s->kind == DML_LAYER_CONV || s->kind == DML_LAYER_CONV_LOCAL ||
            s->kind == DML_LAYER_READOUT) {
            L->w_std = s->w_std;
            L->b_std = s->b_std;
        }
        if (s->kind == DML_LAYER_ACT) L->activation = s->activation;
        L->nd = nd;
        memcpy(L->in_size, size, sizeof size);
        memcpy(L->out_size, size, sizeof size);
        L->in_channels = channels;
        L->out_channels = channels;
        if (s->kind == DML_LAYER_READOUT && i != n - 1)
            return dml_fail(err, DML_ERR_INVALID_SPEC, field(&w, "arch", NULL), "only the last layer is the readout");
        switch (s->kind) {
        case DML_LAYER_CONV:
        case DML_LAYER_CONV_LOCAL:
        case DML_LAYER_AVG_POOL:
        case DML_LAYER_GAP:
            if (nd == 0) {
                if (!w.explicit_list)
                    return dml_fail(err, DML_ERR_INVALID_SPEC, "arch",
                                    "arch %s needs spatial inputs (n, L, C) or (n, H, W, C)", dml_arch_name(m->arch));
                return dml_fail(err, DML_ERR_INVALID_SPEC, field(&w, "arch", NULL),
                                "%s needs spatial inputs, but the input of layer %d is flat (flat data, or after "
                                "flatten or gap)", dml_layer_kind_name(s->kind), i);
            }
            if (s->kind == DML_LAYER_GAP) {
                L->out_channels = channels;
                nd = 0;
                break;
            }
            if (window_geometry(s, size, nd, L, &w, err)) return -1;
            if (s->kind != DML_LAYER_AVG_POOL) L->out_channels = channels = s->width;
            memcpy(size, L->out_size, sizeof size);
            break;
        case DML_LAYER_DENSE:
            L->out_channels = channels = s->width;
            if (nd > 0) {
                /* Neural Tangents' Dense on spatial inputs: the channels of every position, shared weights */
                L->kind = DML_LAYER_CONV;
                L->padding = DML_PAD_VALID;
                for (int a = 0; a < nd; a++) L->filter[a] = L->stride[a] = 1;
            }
            break;
        case DML_LAYER_ACT:
            break;
        case DML_LAYER_FLATTEN: {
            size_t p = 1;
            for (int a = 0; a < nd; a++) p *= (size_t)size[a];
            L->out_channels = channels = (int)(p * (size_t)channels);
            nd = 0;
            break;
        }
        case DML_LAYER_READOUT:
            if (nd > 0)
                return dml_fail(err, DML_ERR_INVALID_SPEC, field(&w, "arch", NULL),
                                "the final dense layer (the readout) needs flat inputs: put flatten or gap before it");
            L->out_channels = channels = outputs;
            break;
        default:
            return dml_fail(err, DML_ERR_INVALID_SPEC, field(&w, "arch", NULL), "unknown layer kind %d", (int)s->kind);
        }
        if (nd == 0) {
            memset(L->out_size, 0, sizeof L->out_size);
            memset(size, 0, sizeof size);
        }
    }
    if (n == 0 || spec[n - 1].kind != DML_LAYER_READOUT)
        return dml_fail(err, DML_ERR_INVALID_SPEC, w.explicit_list ? "layers" : "arch",
                        "the last layer must be dense: the readout to the outputs");
    return 0;
}
