/* Training hyper-parameters (dmilab/training.h): names of the enums and the one set of defaults. */
#include <string.h>
#include "dmilab/training.h"

const char *const dml_optimizer_names[DML_N_OPTIMIZERS] = {DML_OPTIMIZERS(DML_ENUM_NAME)};
const char *const dml_schedule_names[DML_N_SCHEDULES] = {DML_SCHEDULES(DML_ENUM_NAME)};
const char *const dml_loss_names[DML_N_LOSSES] = {DML_LOSSES(DML_ENUM_NAME)};
const char *const dml_precision_names[DML_N_PRECISIONS] = {DML_PRECISIONS(DML_ENUM_NAME)};

const char *dml_optimizer_name(dml_optimizer m) { return (unsigned)m < DML_N_OPTIMIZERS ? dml_optimizer_names[m] : "?"; }
const char *dml_schedule_name(dml_schedule s) { return (unsigned)s < DML_N_SCHEDULES ? dml_schedule_names[s] : "?"; }
const char *dml_loss_name(dml_loss l) { return (unsigned)l < DML_N_LOSSES ? dml_loss_names[l] : "?"; }
const char *dml_precision_name(dml_precision p) { return (unsigned)p < DML_N_PRECISIONS ? dml_precision_names[p] : "?"; }

double dml_default_lr(dml_optimizer method, dml_parameterization par)
{
    /* [parameterization][optimizer]: gd, sgd, adam. 'standard': DESIGN section 3. 'ntk': the sweep of
     * docs/training.md ("Default learning rates"): the largest rates that stay stable up to depth 8. */
    static const double lr[2][DML_N_OPTIMIZERS] = {
        [DML_PARAM_NTK] = {1.0, 1.0, 0.01},
        [DML_PARAM_STANDARD] = {0.1, 0.1, 0.001},
    };
    return lr[par == DML_PARAM_STANDARD][(unsigned)method < DML_N_OPTIMIZERS ? method : DML_OPT_SGD];
}

void dml_train_config_defaults_for(dml_train_config *c, dml_optimizer method, dml_parameterization par)
{
    memset(c, 0, sizeof *c);
    c->method = method;
    c->lr = dml_default_lr(method, par);
    c->momentum = method == DML_OPT_SGD ? 0.9 : 0.0;
    c->nesterov = 0;
    c->beta1 = 0.9;
    c->beta2 = 0.999;
    c->eps = 1e-8;
    c->weight_decay = 0.0;
    c->schedule = DML_SCHED_CONSTANT;
    c->epochs = 20;
    c->batch = 64;
    c->loss = DML_LOSS_MSE;
    c->eval_every = 0;
    c->shuffle_seed = 0;
}

void dml_train_config_defaults(dml_train_config *c, dml_optimizer method)
{
    dml_train_config_defaults_for(c, method, DML_PARAM_STANDARD);
}
