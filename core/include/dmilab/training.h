/* dmilab: the training hyper-parameters of the finite networks (gd, sgd, adam; DESIGN section 3), one struct
 * and one set of defaults shared by the spec, the runner and the trainer (dmilab/nn.h). */
#ifndef DMILAB_TRAINING_H
#define DMILAB_TRAINING_H

#include <stdint.h>
#include "dmilab/enum.h"
#include "dmilab/model.h"

#define DML_OPTIMIZERS(X) X(DML_OPT_GD, "gd") X(DML_OPT_SGD, "sgd") X(DML_OPT_ADAM, "adam")
#define DML_SCHEDULES(X) X(DML_SCHED_CONSTANT, "constant") X(DML_SCHED_COSINE, "cosine")
#define DML_LOSSES(X) X(DML_LOSS_MSE, "mse") X(DML_LOSS_CROSS_ENTROPY, "cross-entropy")
#define DML_PRECISIONS(X) X(DML_F32, "float32") X(DML_F64, "float64")

typedef enum { DML_OPTIMIZERS(DML_ENUM_ID) } dml_optimizer;
enum { DML_N_OPTIMIZERS = 0 DML_OPTIMIZERS(DML_ENUM_COUNT) };
typedef enum { DML_SCHEDULES(DML_ENUM_ID) } dml_schedule;
enum { DML_N_SCHEDULES = 0 DML_SCHEDULES(DML_ENUM_COUNT) };
typedef enum { DML_LOSSES(DML_ENUM_ID) } dml_loss;
enum { DML_N_LOSSES = 0 DML_LOSSES(DML_ENUM_COUNT) };
/** Arithmetic of a finite network: float32 (the default for training) or float64 (tests, audits). */
typedef enum { DML_PRECISIONS(DML_ENUM_ID) } dml_precision;
enum { DML_N_PRECISIONS = 0 DML_PRECISIONS(DML_ENUM_COUNT) };

/** The API names, indexed by the enums ("sgd", "cosine", "cross-entropy", "float64", ...). */
extern const char *const dml_optimizer_names[DML_N_OPTIMIZERS];
extern const char *const dml_schedule_names[DML_N_SCHEDULES];
extern const char *const dml_loss_names[DML_N_LOSSES];
extern const char *const dml_precision_names[DML_N_PRECISIONS];
/** The name of a value, "?" outside the enum. */
const char *dml_optimizer_name(dml_optimizer m);
const char *dml_schedule_name(dml_schedule s);
const char *dml_loss_name(dml_loss l);
const char *dml_precision_name(dml_precision p);

/** Training hyper-parameters (DESIGN section 3). */
typedef struct {
    dml_optimizer method;
    double lr;            /**< learning rate; default dml_default_lr(method, parameterization) */
    double momentum;      /**< 0.9 for sgd, 0 for gd (heavy ball, PyTorch convention: v = mu v + g) */
    int nesterov;         /**< 0: step lr*v; 1: step lr*(g + mu v) */
    double beta1, beta2, eps;   /**< adam: 0.9, 0.999, 1e-8 (bias-corrected, PyTorch's Adam) */
    double weight_decay;  /**< L2: weight_decay * theta added to the gradient of every parameter; 0 */
    dml_schedule schedule;      /**< constant, or cosine: lr_t = lr * (1 + cos(pi t / T)) / 2 over the T steps */
    int epochs;           /**< 20 */
    int batch;            /**< 64 (sgd, adam); gd always uses the whole training set per step. Batches above
                               256 examples are processed as micro-batches of 256 whose gradients are summed
                               (the same step, less memory). */
    dml_loss loss;        /**< mse */
    int eval_every;       /**< test metrics every this many epochs and at the last; 0: about 10 points */
    uint64_t shuffle_seed;/**< seeds the per-epoch minibatch shuffles (dml_rng seeded {shuffle_seed, 1}) */
} dml_train_config;

/** The default learning rate of `method` for networks of parameterization `par`. 'standard': DESIGN's
 *  0.1 (gd, sgd) and 0.001 (adam). 'ntk': 1 (gd, sgd) and 0.01 (adam). In the ntk parameterization each weight
 *  is N(0, 1) and scaled by w_std / sqrt(fan_in) in the forward pass, so a step of the same size moves the
 *  function about fan_in / w_std^2 times less (gd, sgd) or sqrt(fan_in) / w_std times less (adam, whose steps
 *  are normalised per parameter) than in the standard one; the ntk values come from a learning-rate sweep on
 *  the examples' models (docs/training.md, "Default learning rates"). */
double dml_default_lr(dml_optimizer method, dml_parameterization par);

/** Fill `c` with every default of DESIGN section 3 for `method`, the learning rate for networks of
 *  parameterization `par` (dml_default_lr). */
void dml_train_config_defaults_for(dml_train_config *c, dml_optimizer method, dml_parameterization par);

/** dml_train_config_defaults_for(c, method, DML_PARAM_STANDARD): DESIGN's values (lr 0.1 for gd and sgd,
 *  0.001 for adam). */
void dml_train_config_defaults(dml_train_config *c, dml_optimizer method);

#endif
