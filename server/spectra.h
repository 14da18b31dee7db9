/* dmilab server: a growable list of kernel arms' spectral readouts (docs/spectrum.md), each owning its arrays. */
#ifndef DMILAB_SERVER_SPECTRA_H
#define DMILAB_SERVER_SPECTRA_H

#include <stddef.h>
#include "dmilab/experiment.h"
#include "dmilab/spec.h"

/** Modes per arm that GET .../spectrum and `dmilab run` show unless asked otherwise (dml_spectrum_thin). */
#define SPECTRUM_POINTS 2000

/** One readout with the position of its arm in the spec grid. `a.spectrum` points at `s`. */
typedef struct {
    dml_arm_spectrum a;
    dml_spectrum s;
    int arm_index;
} spectrum_entry;

/** Zero-initialize; free with spectrum_list_free. Entries are heap-allocated, so `a.spectrum` stays valid. */
typedef struct {
    spectrum_entry **v;
    size_t n, cap;
} spectrum_list;

/** Append a deep copy of `a` (its spectrum's eigenvalue, power and cumulative arrays; not the eigenvectors). With
 *  arrays == 0 only the scalars and the predictions are kept (the arrays NULL). Returns 0, or -1 when out of memory. */
int spectrum_list_add(spectrum_list *l, const dml_arm_spectrum *a, int arm_index, int arrays);

/** Append an entry taking ownership of the malloc'd arrays of `s` (n values each; power and cumulative may be NULL).
 *  Returns 0, or -1 when out of memory (then the arrays are freed). */
int spectrum_list_adopt(spectrum_list *l, const dml_arm_spectrum *a, const dml_spectrum *s, int arm_index);

/** Sort by arm_index, the grid order of the spec. */
void spectrum_list_sort(spectrum_list *l);

/** The readouts as a plain array (malloc'd copies of the entries' dml_arm_spectrum, borrowing their arrays; NULL when
 *  empty or out of memory). */
dml_arm_spectrum *spectrum_list_array(const spectrum_list *l);

void spectrum_list_free(spectrum_list *l);

/** Position of the readout's arm in the grid of `s`, as points_arm_index finds a point's. */
int spectrum_arm_index(const dml_spec *s, const dml_arm_spectrum *a);

#endif
