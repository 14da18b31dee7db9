/* dmilab server: a growable list of result points, and their order in the spec's grid. */
#ifndef DMILAB_SERVER_POINTS_H
#define DMILAB_SERVER_POINTS_H

#include <stddef.h>
#include "dmilab/experiment.h"
#include "dmilab/spec.h"

/** A point with the position of its arm in the spec grid (data-major, then model, then inference). */
typedef struct {
    dml_point p;
    int arm_index;
} point_entry;

/** A growable array of points. Zero-initialize; free with point_list_free. */
typedef struct {
    point_entry *v;
    size_t n, cap;
} point_list;

/** Append a copy of `p` (its training curve copied too) with its grid position. Returns 0, or -1 when out
 *  of memory. */
int point_list_add(point_list *l, const dml_point *p, int arm_index);

/** Sort by (arm_index, n_train, repeat): the grid order of the spec. */
void point_list_sort(point_list *l);

/** The points as a plain array (malloc'd, for dml_results_json/csv; NULL when empty). The array borrows
 *  the list's training curves: free the list only after the array's last use. */
dml_point *point_list_array(const point_list *l);

void point_list_free(point_list *l);

/** Position of the point's arm in the grid of `s`: (data * nmodels + model) * ninference + inference,
 *  found by the point's data/model/inference names; a large number when a name is unknown. */
int points_arm_index(const dml_spec *s, const dml_point *p);

#endif
