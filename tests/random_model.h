/* dmilab tests: seeded random models for the kernel tests (every preset and random layer lists with conv,
 * conv-local, avg-pool, dense, relu and erf, flatten or gap; paddings, strides, depth 0-3, random scales). */
#ifndef DMILAB_TEST_RANDOM_MODEL_H
#define DMILAB_TEST_RANDOM_MODEL_H

#include "dmilab/model.h"
#include "dmilab/rng.h"

static inline double random_uniform(dml_rng *r, double a, double b) { return a + (b - a) * dml_rng_uniform(r); }

static inline void random_window(dml_rng *r, dml_layer_spec *s)
{
    s->nfilter = s->nstride = 1;
    s->filter[0] = s->filter[1] = 1 + (int)dml_rng_below(r, 3);
    s->stride[0] = s->stride[1] = dml_rng_below(r, 4) ? 1 : 2;
    s->padding = (dml_padding)dml_rng_below(r, 3);
}

/* A random model; relu_only makes every activation ReLU (the draws stay the same, so a seed gives the same
 * layers either way). */
static inline void random_model(dml_rng *r, dml_model *m, int relu_only)
{
    dml_model_defaults(m);
    m->w_std = random_uniform(r, 0.8, 2.0);
    m->b_std = dml_rng_below(r, 2) ? random_uniform(r, 0.0, 0.5) : 0.0;
    m->readout_w_std = random_uniform(r, 0.5, 2.0);
    m->activation = dml_rng_below(r, 3) || relu_only ? DML_ACT_RELU : DML_ACT_ERF;
    int kind = (int)dml_rng_below(r, 5);
    if (kind < 4) {
        m->arch = (dml_arch)kind;
        m->depth = (int)dml_rng_below(r, 4);
        m->nfilter = 1;
        m->filter[0] = m->filter[1] = 1 + (int)dml_rng_below(r, 4);
        m->padding = (dml_padding)dml_rng_below(r, 3);
        return;
    }
    m->arch = DML_ARCH_LAYERS;
    int n = 0, blocks = 1 + (int)dml_rng_below(r, 3);
    for (int b = 0; b < blocks; b++) {
        int t = (int)dml_rng_below(r, 4);
        dml_layer_kind k = t == 1 ? DML_LAYER_CONV_LOCAL : t == 2 ? DML_LAYER_AVG_POOL : DML_LAYER_CONV;
        dml_layer_spec s = dml_layer_spec_from_model(m, k);
        random_window(r, &s);
        s.w_std = random_uniform(r, 0.8, 2.0);
        m->layers[n++] = s;
        if (k != DML_LAYER_AVG_POOL) {
            dml_layer_spec a = dml_layer_spec_from_model(m, DML_LAYER_ACT);
            a.activation = dml_rng_below(r, 2) || relu_only ? DML_ACT_RELU : DML_ACT_ERF;
            m->layers[n++] = a;
        }
    }
    m->layers[n++] = dml_layer_spec_from_model(m, dml_rng_below(r, 2) ? DML_LAYER_GAP : DML_LAYER_FLATTEN);
    if (dml_rng_below(r, 2)) {
        m->layers[n++] = dml_layer_spec_from_model(m, DML_LAYER_DENSE);
        m->layers[n++] = dml_layer_spec_from_model(m, DML_LAYER_ACT);
    }
    m->layers[n++] = dml_layer_spec_from_model(m, DML_LAYER_READOUT);
    m->nlayers = n;
}

#endif
