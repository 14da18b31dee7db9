/* The table of layer kinds (one row per kind, from the family files) and the geometry helpers the rows
 * share. */
#include "layer.h"

const dml_layer_ops *const dml_layer_table[DML_NLAYER_KINDS] = {
    [DML_LAYER_DENSE] = &dml_dense_ops,
    [DML_LAYER_CONV] = &dml_conv_ops,
    [DML_LAYER_CONV_LOCAL] = &dml_conv_local_ops,
    [DML_LAYER_ACT] = &dml_act_ops,
    [DML_LAYER_FLATTEN] = &dml_flatten_ops,
    [DML_LAYER_GAP] = &dml_gap_ops,
    [DML_LAYER_READOUT] = &dml_dense_ops,   /* the final dense layer (dense.c) */
    [DML_LAYER_AVG_POOL] = &dml_avg_pool_ops,
};

size_t dml_layer_positions_in(const dml_layer *d)
{
    size_t p = 1;
    for (int a = 0; a < d->nd; a++) p *= (size_t)d->in_size[a];
    return p;
}

size_t dml_layer_positions_out(const dml_layer *d)
{
    size_t p = 1;
    for (int a = 0; a < d->nd; a++) p *= (size_t)d->out_size[a];
    return p;
}

double dml_layer_filter_size(const dml_layer *d)
{
    double F = 1.0;
    for (int a = 0; a < d->nd; a++) F *= d->filter[a];
    return F;
}

size_t dml_layer_num_params(const dml_layer *d)
{
    const dml_layer_ops *ops = dml_layer_table[d->kind];
    return ops->num_params ? ops->num_params(d) : 0;
}
