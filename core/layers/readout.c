/* Readout: the list's final dense layer, from the last hidden features to the outputs (its width is the
 * number of outputs: classes or targets), with readout_w_std / readout_b_std. It is a Dense layer in every
 * respect (dense.c): y = alpha h W + beta b; K <- rw^2 K + rb^2, Theta <- rw^2 Theta + K (DESIGN 2.1). A kind
 * of its own because it is where the finite networks' outputs and the empirical NNGP's exact readout average
 * (dml_empirical_kernel) are read, and the only layer whose width the model does not set. */
#include "layer.h"

const dml_layer_ops dml_readout_ops = {
    .setup = dml_dense_setup,
    .forward_f32 = dml_dense_forward_f32,
    .forward_f64 = dml_dense_forward_f64,
    .backward_f32 = dml_dense_backward_f32,
    .backward_f64 = dml_dense_backward_f64,
    .kernel_input_full = dml_dense_input_full,
    .kernel_plan = dml_dense_plan,
    .kernel = dml_dense_kernel,
    .cost = dml_dense_cost,
    .num_params = dml_dense_num_params,
};
