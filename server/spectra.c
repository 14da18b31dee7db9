/* dmilab server: a growable list of kernel arms' spectral readouts. See spectra.h. */
#include "spectra.h"
#include "points.h"

#include <stdlib.h>
#include <string.h>

static double *copy_doubles(const double *v, size_t n)
{
    if (!v)
        return NULL;
    double *c = malloc(n * sizeof *c + 1);
    if (c)
        memcpy(c, v, n * sizeof *c);
    return c;
}

static void free_arrays(dml_spectrum *s)
{
    free(s->eigenvalue);
    free(s->power);
    free(s->cumulative);
    s->eigenvalue = s->power = s->cumulative = NULL;
}

int spectrum_list_adopt(spectrum_list *l, const dml_arm_spectrum *a, const dml_spectrum *s, int arm_index)
{
    spectrum_entry *e = calloc(1, sizeof *e);
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        spectrum_entry **v = e ? realloc(l->v, cap * sizeof *v) : NULL;
        if (v) {
            l->v = v;
            l->cap = cap;
        }
    }
    if (!e || l->n == l->cap) {
        dml_spectrum t = *s;
        free_arrays(&t);
        free(e);
        return -1;
    }
    e->a = *a;
    e->s = *s;
    e->s.vectors = NULL;
    e->a.spectrum = &e->s;
    e->arm_index = arm_index;
    l->v[l->n++] = e;
    return 0;
}

int spectrum_list_add(spectrum_list *l, const dml_arm_spectrum *a, int arm_index, int arrays)
{
    dml_spectrum s = *a->spectrum;
    s.vectors = NULL;
    s.eigenvalue = s.power = s.cumulative = NULL;
    if (arrays) {
        s.eigenvalue = copy_doubles(a->spectrum->eigenvalue, s.n);
        s.power = copy_doubles(a->spectrum->power, s.n);
        s.cumulative = copy_doubles(a->spectrum->cumulative, s.n);
        if (!s.eigenvalue || (a->spectrum->power && !s.power) || (a->spectrum->cumulative && !s.cumulative)) {
            free_arrays(&s);
            return -1;
        }
    }
    return spectrum_list_adopt(l, a, &s, arm_index);
}

static int cmp_entry(const void *x, const void *y)
{
    const spectrum_entry *a = *(spectrum_entry *const *)x, *b = *(spectrum_entry *const *)y;
    if (a->arm_index != b->arm_index)
        return a->arm_index < b->arm_index ? -1 : 1;
    return strcmp(a->a.arm, b->a.arm);
}

void spectrum_list_sort(spectrum_list *l)
{
    if (l->n > 1)
        qsort(l->v, l->n, sizeof *l->v, cmp_entry);
}

dml_arm_spectrum *spectrum_list_array(const spectrum_list *l)
{
    if (l->n == 0)
        return NULL;
    dml_arm_spectrum *a = malloc(l->n * sizeof *a);
    for (size_t i = 0; a && i < l->n; i++)
        a[i] = l->v[i]->a;
    return a;
}

void spectrum_list_free(spectrum_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free_arrays(&l->v[i]->s);
        free(l->v[i]);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

int spectrum_arm_index(const dml_spec *s, const dml_arm_spectrum *a)
{
    dml_point names;
    memset(&names, 0, sizeof names);
    memcpy(names.data, a->data, sizeof names.data);
    memcpy(names.model, a->model, sizeof names.model);
    memcpy(names.inference, a->inference, sizeof names.inference);
    return points_arm_index(s, &names);
}
