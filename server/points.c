/* dmilab server: a growable list of result points, and their order in the spec's grid. */
#include "points.h"

#include <stdlib.h>
#include <string.h>

int point_list_add(point_list *l, const dml_point *p, int arm_index)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        point_entry *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n].p = *p;
    l->v[l->n].p.curve = NULL;
    l->v[l->n].p.n_curve = 0;
    if (p->curve && p->n_curve > 0) {   /* the caller's curve may not outlive the call: keep a copy */
        dml_train_epoch *c = malloc((size_t)p->n_curve * sizeof *c);
        if (!c)
            return -1;
        memcpy(c, p->curve, (size_t)p->n_curve * sizeof *c);
        l->v[l->n].p.curve = c;
        l->v[l->n].p.n_curve = p->n_curve;
    }
    l->v[l->n].arm_index = arm_index;
    l->n++;
    return 0;
}

static int cmp_entry(const void *a, const void *b)
{
    const point_entry *x = a, *y = b;
    if (x->arm_index != y->arm_index)
        return x->arm_index < y->arm_index ? -1 : 1;
    if (x->p.n_train != y->p.n_train)
        return x->p.n_train < y->p.n_train ? -1 : 1;
    if (x->p.repeat != y->p.repeat)
        return x->p.repeat < y->p.repeat ? -1 : 1;
    return strcmp(x->p.arm, y->p.arm);
}

void point_list_sort(point_list *l)
{
    if (l->n > 1)
        qsort(l->v, l->n, sizeof *l->v, cmp_entry);
}

dml_point *point_list_array(const point_list *l)
{
    if (l->n == 0)
        return NULL;
    dml_point *a = malloc(l->n * sizeof *a);
    if (!a)
        return NULL;
    for (size_t i = 0; i < l->n; i++)
        a[i] = l->v[i].p;
    return a;
}

void point_list_free(point_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free((void *)l->v[i].p.curve);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

int points_arm_index(const dml_spec *s, const dml_point *p)
{
    int d = -1, m = -1, i = -1;
    for (int k = 0; k < s->ndata && d < 0; k++)
        if (strcmp(s->data[k].name, p->data) == 0)
            d = k;
    for (int k = 0; k < s->nmodels && m < 0; k++)
        if (strcmp(s->models[k].name, p->model) == 0)
            m = k;
    for (int k = 0; k < s->ninference && i < 0; k++)
        if (strcmp(s->inference[k].name, p->inference) == 0)
            i = k;
    if (d < 0 || m < 0 || i < 0)
        return 1 << 30;
    return (d * s->nmodels + m) * s->ninference + i;
}
