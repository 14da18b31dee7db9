/* The cost estimate of an experiment (dmilab/cost.h): the dry run of a submission and the time limit of
 * admission. Kernel seconds come from the kernel engine's cost model (dml_kernel_cost_estimate), training
 * seconds from the layers' own costs (dml_train_seconds), memory from dml_unit_memory_estimate. */
#include <math.h>
#include "dmilab/admission.h"
#include "dmilab/cost.h"
#include "dmilab/kernel.h"
#include "dmilab/nn.h"

/* Reading, decompressing and preprocessing a data set's IDX files once (bench/estimate.sh). */
#define SEC_PER_DATA_LOAD 0.4

void dml_spec_cost(const dml_spec *s, int threads, dml_cost *out)
{
    if (threads < 1) threads = 1;
    double pairs = 0, duals = 0, seconds = 0, mem = 0, train_steps = 0, units = 0;
    double R = (double)s->repeats;
    int nkernel = 0;   /* kernel methods: they share one kernel per (data, model, repeat) */
    for (int i = 0; i < s->ninference; i++) nkernel += dml_method_is_kernel(s->inference[i].method);
    int any_kernel = nkernel > 0;
    for (int d = 0; d < s->ndata; d++) {
        const dml_data_spec *ds = &s->data[d];
        double N = (double)ds->n_train[ds->nn_train - 1], M = (double)ds->n_test;
        dml_shape sh = dml_data_shape(ds);
        int k = dml_data_outputs(ds);
        seconds += SEC_PER_DATA_LOAD;
        /* kernel arms: one unit per (data, model, repeat), the kernel of the largest n_train shared by every
         * kernel method and size */
        double solve = 0;
        for (int j = 0; any_kernel && j < ds->nn_train; j++) {
            double n = (double)ds->n_train[j];
            solve += n * n * n / 3.0 + 2.0 * n * n * k + 2.0 * M * n * k;
        }
        for (int mi = 0; mi < s->nmodels; mi++) {
            const dml_model *mod = &s->models[mi];
            dml_layers L;
            if (dml_model_layers(mod, &sh, k, &L, NULL)) continue;
            dml_unit_memory um;
            dml_unit_memory_estimate(s, d, mi, threads, &um);
            mem = fmax(mem, um.total);
            if (any_kernel) {
                dml_kernel_cost gram, cross;
                dml_kernel_cost_estimate(mod, &sh, (size_t)N, (size_t)N, 1, threads, &gram);
                dml_kernel_cost_estimate(mod, &sh, (size_t)M, (size_t)N, 0, threads, &cross);
                units += R;
                pairs += (gram.pairs + cross.pairs) * R;
                duals += (gram.dual_evaluations + cross.dual_evaluations) * R;
                seconds += R * (gram.seconds + cross.seconds + solve * nkernel * DML_SEC_PER_SOLVE_FLOP / (threads > 1 ? 1.6 : 1.0));
            }
            /* training arms: one unit per point (dml_train_seconds: the layers' own costs, core/layers/) */
            for (int i = 0; i < s->ninference; i++) {
                const dml_inference *inf = &s->inference[i];
                if (dml_method_is_kernel(inf->method)) continue;
                int epochs = inf->train.epochs;
                for (int j = 0; j < ds->nn_train; j++) {
                    double n = (double)ds->n_train[j];
                    units += R;
                    train_steps += R * (inf->method == DML_INF_GD ? epochs : epochs * ceil(n / inf->train.batch));
                    seconds += R * dml_train_seconds(&L, inf->precision, inf->train.method, ds->n_train[j], ds->n_test, epochs,
                                                     inf->train.batch, threads);
                }
            }
        }
    }
    out->points = (double)dml_spec_points(s);
    out->units = units;
    out->kernel_pairs = pairs;
    out->dual_evaluations = duals;
    out->training_steps = train_steps;
    out->memory_bytes = ceil(mem);
    out->seconds = seconds;
}

cJSON *dml_cost_json(const dml_cost *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "points", c->points);
    cJSON_AddNumberToObject(o, "units", c->units);
    cJSON_AddNumberToObject(o, "kernel_pairs", c->kernel_pairs);
    cJSON_AddNumberToObject(o, "dual_evaluations", c->dual_evaluations);
    cJSON_AddNumberToObject(o, "training_steps", c->training_steps);
    cJSON_AddNumberToObject(o, "memory_bytes", c->memory_bytes);
    cJSON_AddNumberToObject(o, "estimated_seconds", c->seconds);
    return o;
}

cJSON *dml_spec_cost_json(const dml_spec *s, int threads)
{
    dml_cost c;
    dml_spec_cost(s, threads, &c);
    return dml_cost_json(&c);
}
