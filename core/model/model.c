/* Model defaults, names and the layer list shared by the kernel engine and the finite networks. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "dmilab/model.h"

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
}

const char *dml_arch_name(dml_arch a)
{
    static const char *n[] = {"fcn", "lcn", "cnn-vec", "cnn-gap"};
    return (unsigned)a < 4 ? n[a] : "?";
}

const char *dml_activation_name(dml_activation a) { return a == DML_ACT_ERF ? "erf" : "relu"; }

const char *dml_padding_name(dml_padding p)
{
    static const char *n[] = {"same", "valid", "circular"};
    return (unsigned)p < 3 ? n[p] : "?";
}

size_t dml_shape_positions(const dml_shape *s)
{
    size_t p = 1;
    for (int a = 0; a < s->nd; a++) p *= (size_t)s->size[a];
    return p;
}

size_t dml_shape_numel(const dml_shape *s) { return dml_shape_positions(s) * (size_t)s->channels; }

/* Geometry of one conv layer along every axis (DESIGN 2.1). */
static int conv_geometry(const dml_model *m, const int *in, int nd, dml_layer *L, dml_error *err)
{
    if (m->nfilter > 1 && m->nfilter != nd)
        return dml_fail(err, DML_ERR_INVALID_SPEC, "filter",
                        "filter has %d entries but the input has %d spatial axes", m->nfilter, nd);
    if (m->nstride > 1 && m->nstride != nd)
        return dml_fail(err, DML_ERR_INVALID_SPEC, "stride",
                        "stride has %d entries but the input has %d spatial axes", m->nstride, nd);
    L->nd = nd;
    L->padding = m->padding;
    for (int a = 0; a < nd; a++) {
        int f = m->nfilter > 1 ? m->filter[a] : m->filter[0];
        int s = m->nstride > 1 ? m->stride[a] : m->stride[0];
        int n = in[a];
        L->in_size[a] = n;
        L->filter[a] = f;
        L->stride[a] = s;
        if (m->padding == DML_PAD_VALID) {
            if (f > n)
                return dml_fail(err, DML_ERR_INVALID_SPEC, "filter",
                                "'valid' filter %d is larger than the input size %d on axis %d", f, n, a);
            L->out_size[a] = (n - f) / s + 1;
            L->pad_lo[a] = 0;
        } else {
            int out = (n + s - 1) / s;
            int total = (out - 1) * s + f - n;
            if (total < 0) total = 0;
            L->out_size[a] = out;
            L->pad_lo[a] = total / 2;
        }
    }
    return 0;
}

static dml_layer *push(dml_layers *out, dml_layer_kind kind)
{
    dml_layer *L = &out->layer[out->n++];
    memset(L, 0, sizeof *L);
    L->kind = kind;
    return L;
}

int dml_model_layers(const dml_model *m, const dml_shape *in, int outputs, dml_layers *out, dml_error *err)
{
    const char *field = "";
    memset(out, 0, sizeof *out);
    out->input = *in;
    out->outputs = outputs;
    if (m->depth < 0 || 2 * m->depth + 3 > DML_MAX_LAYERS)
        return dml_fail(err, DML_ERR_INVALID_SPEC, "depth", "depth must be in [0, %d] (a network holds at most %d layers), got %d",
                        (DML_MAX_LAYERS - 3) / 2, DML_MAX_LAYERS, m->depth);
    if (in->channels < 1 || in->nd < 0 || in->nd > DML_MAX_SPATIAL)
        return dml_fail(err, DML_ERR_INVALID_SPEC, field, "bad input shape");
    for (int a = 0; a < in->nd; a++)
        if (in->size[a] < 1) return dml_fail(err, DML_ERR_INVALID_SPEC, field, "bad input shape");

    int size[DML_MAX_SPATIAL];
    int nd = in->nd;
    memcpy(size, in->size, sizeof size);
    int channels = in->channels;

    if (m->arch == DML_ARCH_FCN) {
        dml_layer *L = push(out, DML_LAYER_FLATTEN);
        L->nd = nd;
        memcpy(L->in_size, size, sizeof size);
        L->in_channels = channels;
        L->out_channels = (int)dml_shape_numel(in);
        channels = L->out_channels;
        nd = 0;
        for (int d = 0; d < m->depth; d++) {
            L = push(out, DML_LAYER_DENSE);
            L->w_std = m->w_std;
            L->b_std = m->b_std;
            L->in_channels = channels;
            L->out_channels = m->width;
            channels = m->width;
            L = push(out, DML_LAYER_ACT);
            L->activation = m->activation;
            L->in_channels = L->out_channels = channels;
        }
    } else {
        if (nd == 0)
            return dml_fail(err, DML_ERR_INVALID_SPEC, "arch",
                            "arch %s needs spatial inputs (n, L, C) or (n, H, W, C)", dml_arch_name(m->arch));
        for (int d = 0; d < m->depth; d++) {
            dml_layer *L = push(out, m->arch == DML_ARCH_LCN ? DML_LAYER_CONV_LOCAL : DML_LAYER_CONV);
            L->w_std = m->w_std;
            L->b_std = m->b_std;
            if (conv_geometry(m, size, nd, L, err)) return -1;
            L->in_channels = channels;
            L->out_channels = m->width;
            channels = m->width;
            memcpy(size, L->out_size, sizeof size);
            dml_layer *A = push(out, DML_LAYER_ACT);
            A->activation = m->activation;
            A->nd = nd;
            memcpy(A->in_size, size, sizeof size);
            memcpy(A->out_size, size, sizeof size);
            A->in_channels = A->out_channels = channels;
        }
        dml_layer *L = push(out, m->arch == DML_ARCH_CNN_GAP ? DML_LAYER_GAP : DML_LAYER_FLATTEN);
        L->nd = nd;
        memcpy(L->in_size, size, sizeof size);
        L->in_channels = channels;
        size_t p = 1;
        for (int a = 0; a < nd; a++) p *= (size_t)size[a];
        L->out_channels = m->arch == DML_ARCH_CNN_GAP ? channels : (int)(p * (size_t)channels);
        channels = L->out_channels;
        nd = 0;
    }
    dml_layer *R = push(out, DML_LAYER_READOUT);
    R->w_std = m->readout_w_std;
    R->b_std = m->readout_b_std;
    R->in_channels = channels;
    R->out_channels = outputs;
    return 0;
}
