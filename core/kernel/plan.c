/* The kernel engine's plan of a layer list (plan.h): representations chosen backwards from the pooling layer,
 * window tables, self-trajectory offsets, workspace size. */
#include <string.h>
#include "plan.h"

void dml_kplan_free(dml_kplan *pl)
{
    for (int i = 0; i < DML_MAX_LAYERS; i++) dml_window_table_free(&pl->step[i].win);
}

int dml_kplan_build(const dml_layers *L, dml_kplan *pl, dml_error *err)
{
    memset(pl, 0, sizeof *pl);
    pl->L = L;
    pl->pool = -1;
    for (int i = 0; i < L->n; i++) {
        const dml_layer *d = &L->layer[i];
        if ((d->kind == DML_LAYER_FLATTEN || d->kind == DML_LAYER_GAP) && d->nd > 0) {
            pl->pool = i;
            break;
        }
    }
    if (pl->pool < 0 && L->input.nd > 0)
        return dml_fail(err, DML_ERR_INTERNAL, "model", "layer list without Flatten or GAP on spatial inputs");
    pl->P0 = dml_shape_positions(&L->input);
    pl->C = L->input.channels;
    pl->gemm = pl->pool < 0 || (pl->pool == 0 && L->layer[0].kind == DML_LAYER_FLATTEN);
    /* representations, backwards from the pooling layer: a layer holds full covariances when a later one
     * reads off-diagonal entries */
    int full_out = 0;
    for (int i = pl->pool; i >= 0; i--) {
        dml_kstep *st = &pl->step[i];
        st->full_out = full_out;
        st->full_in = dml_layer_table[L->layer[i].kind]->kernel_input_full(full_out);
        full_out = st->full_in;
    }
    pl->full0 = pl->pool >= 0 && pl->step[0].full_in;
    pl->maxP = pl->P0;
    /* self-trajectory slot 0: the input covariance diagonal; every slot starts on a multiple of 8 doubles */
    size_t P = pl->P0, off = DML_ROUND8(pl->P0);
    int after_pooling = 0;
    for (int i = 0; i < L->n; i++) {
        const dml_layer *d = &L->layer[i];
        dml_kstep *st = &pl->step[i];
        st->d = d;
        st->P_in = i <= pl->pool ? P : 1;
        if (dml_layer_table[d->kind]->kernel_plan(st, err)) return -1;
        if (i <= pl->pool) {
            pl->any_full |= st->full_in | st->full_out;
            if (d->kind == DML_LAYER_ACT) {
                st->self_off = off;
                off += DML_ROUND8(st->P_in);
            }
            if ((d->kind == DML_LAYER_CONV || d->kind == DML_LAYER_CONV_LOCAL) &&
                DML_ROUND8((size_t)st->win.max_shift + 8) > pl->margin)
                pl->margin = DML_ROUND8((size_t)st->win.max_shift + 8);
            P = st->P_out;
            if (P > pl->maxP) pl->maxP = P;
        }
        /* an activation reading self covariances that only full pair runs give */
        if (d->kind == DML_LAYER_ACT && after_pooling) pl->self_full = 1;
        if (d->kind == DML_LAYER_GAP || d->kind == DML_LAYER_AVG_POOL) after_pooling = 1;
        pl->diag_step[i] = *st;   /* shares the window tables (freed once, from step[]) */
        pl->diag_step[i].full_in = pl->diag_step[i].full_out = 0;
    }
    pl->any_full |= pl->full0;
    pl->nself = off;
    return 0;
}

/* Doubles of one thread's workspace: four covariance buffers (K, T and their scratch), full ones with margins. */
size_t dml_kplan_buffer_doubles(const dml_kplan *pl)
{
    size_t P = pl->maxP;
    return DML_ROUND8(pl->any_full ? P * P + 2 * pl->margin : P);
}

size_t dml_kplan_workspace_doubles(const dml_kplan *pl) { return 4 * dml_kplan_buffer_doubles(pl) + 4; }

