/* Admission (dmilab/admission.h): a parsed spec against the server's limits and against its data (the memory
 * model of a unit of work and the time estimate it checks are in cost.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/admission.h"
#include "dmilab/cost.h"
#include "dmilab/kernel.h"
#include "dmilab/nn.h"

#define GIB (1024.0 * 1024.0 * 1024.0)

/* The data must hold the images asked for, and every model's windows must fit every input shape. */
static int admit_fit(const dml_spec *s, dml_error *err)
{
    char f[200];
    for (int d = 0; d < s->ndata; d++) {
        const dml_data_spec *ds = &s->data[d];
        if (!ds->rows) continue;   /* parsed without file access */
        if (s->spectrum_n > ds->train_images)
            return dml_fail(err, DML_ERR_INVALID_SPEC, "spectrum.n",
                            "spectrum.n %zu is more than the %zu training images of %s (data '%s')%s", s->spectrum_n,
                            ds->train_images, ds->path, ds->name, s->spectrum_n_given ? "" : " (its default: the largest n_train)");
        if (ds->n_train[ds->nn_train - 1] > ds->train_images)
            return dml_fail(err, DML_ERR_INVALID_SPEC, dml_spec_field(s, "data", d, "n_train", f, sizeof f),
                            "n_train %zu is more than the %zu training images of %s", ds->n_train[ds->nn_train - 1],
                            ds->train_images, ds->path);
        if (ds->n_test > ds->test_images)
            return dml_fail(err, DML_ERR_INVALID_SPEC, dml_spec_field(s, "data", d, "n_test", f, sizeof f),
                            "n_test %zu is more than the %zu test images of %s", ds->n_test, ds->test_images, ds->path);
    }
    dml_layers *L = malloc(sizeof *L);
    if (!L) return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
    for (int m = 0; m < s->nmodels; m++)
        for (int d = 0; d < s->ndata; d++) {
            if (!s->data[d].rows) continue;
            dml_shape sh = dml_data_shape(&s->data[d]);
            if (dml_model_layers(&s->models[m], &sh, dml_data_outputs(&s->data[d]), L, err)) {
                free(L);
                if (err) {
                    char p[64], g[sizeof err->field + 64];
                    dml_spec_field(s, "models", m, NULL, p, sizeof p);
                    snprintf(g, sizeof g, "%s%s%s", p, err->field[0] ? "." : "", err->field);
                    snprintf(err->field, sizeof err->field, "%.*s", (int)sizeof err->field - 1, g);
                }
                return -1;
            }
        }
    free(L);
    return 0;
}

int dml_spec_admit(const dml_spec *s, const dml_limits *lim, dml_error *err)
{
    static const dml_limits none;
    if (!lim) lim = &none;
    char f[200];
    if (lim->max_repeats > 0 && s->repeats > lim->max_repeats)
        return dml_fail_limit(err, DML_LIMIT_REPEATS, "repeats", "repeats is %lld, above the limit %d", s->repeats,
                              lim->max_repeats);
    for (int d = 0; d < s->ndata; d++) {
        const dml_data_spec *ds = &s->data[d];
        for (int k = 0; k < ds->nn_train; k++)
            if (lim->max_n_train > 0 && ds->n_train[k] > lim->max_n_train) {
                char g[220];
                snprintf(g, sizeof g, "%s[%d]", dml_spec_field(s, "data", d, "n_train", f, sizeof f), k);
                return dml_fail_limit(err, DML_LIMIT_N_TRAIN, g, "%s is %zu, above the limit %zu", g, ds->n_train[k],
                                      lim->max_n_train);
            }
        if (lim->max_n_train > 0 && s->spectrum_n > lim->max_n_train)
            return dml_fail_limit(err, DML_LIMIT_N_TRAIN, "spectrum.n", "spectrum.n is %zu, above the limit %zu",
                                  s->spectrum_n, lim->max_n_train);
        if (lim->max_n_test > 0 && ds->n_test > lim->max_n_test)
            return dml_fail_limit(err, DML_LIMIT_N_TEST, dml_spec_field(s, "data", d, "n_test", f, sizeof f),
                                  "%s is %zu, above the limit %zu", f, ds->n_test, lim->max_n_test);
    }
    /* a width counts when a network of it is trained, or when the spec asks for it (kernels ignore it) */
    int trained = 0;
    for (int i = 0; i < s->ninference; i++) trained |= !dml_method_is_kernel(s->inference[i].method);
    for (int m = 0; m < s->nmodels; m++) {
        dml_limits ml = *lim;
        if (!trained && !(s->width_given >> m & 1)) ml.max_width = 0;
        if (dml_model_admit(&s->models[m], dml_spec_field(s, "models", m, NULL, f, sizeof f), &ml, err)) return -1;
    }
    double sizes = 0;
    for (int d = 0; d < s->ndata; d++) sizes += s->data[d].nn_train;
    double pts = sizes * s->nmodels * s->ninference * (double)s->repeats;
    if (lim->max_points > 0 && pts > (double)lim->max_points)
        return dml_fail_limit(err, DML_LIMIT_POINTS, "data", "the grid has %.0f points, more than the limit of %zu", pts,
                              lim->max_points);
    if (admit_fit(s, err)) return -1;
    for (int d = 0; lim->max_memory_bytes > 0 && d < s->ndata; d++)
        for (int m = 0; m < s->nmodels; m++) {
            dml_unit_memory u;
            dml_unit_memory_estimate(s, d, m, lim->threads, &u);
            if (u.total <= (double)lim->max_memory_bytes) continue;
            const dml_data_spec *ds = &s->data[d];
            size_t N = ds->n_train[ds->nn_train - 1];
            double limit = (double)lim->max_memory_bytes / GIB;
            if (u.train > u.dataset + u.kernel) {
                const dml_inference *inf = &s->inference[u.train_inference];
                return dml_fail_limit(err, DML_LIMIT_MEMORY, dml_spec_field(s, "models", m, "width", f, sizeof f),
                                      "training %s (width %d) with %s on %s (n_train %zu) needs about %.2f GiB with "
                                      "its data, more than the limit of %.2f GiB; reduce the width or the batch",
                                      s->models[m].name, s->models[m].width, inf->name, ds->name, N, u.total / GIB, limit);
            }
            dml_spec plain = *s;   /* the same unit without the readout: does the spectrum make it too large? */
            plain.spectrum_n = 0;
            dml_unit_memory up;
            dml_unit_memory_estimate(&plain, d, m, lim->threads, &up);
            if (s->spectrum_n && up.total <= (double)lim->max_memory_bytes)
                return dml_fail_limit(err, DML_LIMIT_MEMORY, "spectrum.n",
                                      "the spectrum on %zu points%s makes the kernel stage of data '%s' need about %.2f "
                                      "GiB (%.2f GiB without it), more than the limit of %.2f GiB: ask for fewer points "
                                      "with spectrum.n", s->spectrum_n, s->spectrum_n_given ? "" : " (the largest n_train)",
                                      ds->name, u.total / GIB, up.total / GIB, limit);
            return dml_fail_limit(err, DML_LIMIT_MEMORY, dml_spec_field(s, "data", d, "n_train", f, sizeof f),
                                  "the kernel matrices for n_train %zu and n_test %zu with the data they are computed "
                                  "from need about %.2f GiB, more than the limit of %.2f GiB",
                                  N, ds->n_test, u.total / GIB, limit);
        }
    if (lim->max_experiment_seconds > 0) {
        dml_cost c;
        dml_spec_cost(s, lim->threads, &c);
        if (c.seconds > (double)lim->max_experiment_seconds) {
            double days = c.seconds / 86400.0;
            return dml_fail_limit(err, DML_LIMIT_EXPERIMENT_SECONDS, NULL,
                                  "the experiment would take about %.3g s (%.3g days) to compute (the dry-run estimate on "
                                  "%d threads), more than the limit of %zu s",
                                  c.seconds, days, lim->threads > 0 ? lim->threads : 1, lim->max_experiment_seconds);
        }
    }
    return 0;
}
