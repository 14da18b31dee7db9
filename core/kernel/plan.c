/* The kernel engine's plan of a layer list (plan.h): representations chosen backwards from the pooling layer,
 * window tables, self-trajectory offsets, workspace size. */
#include <stdlib.h>
#include <string.h>
#include "plan.h"

void dml_kplan_free(dml_kplan *pl)
{
    for (int i = 0; i < DML_MAX_LAYERS; i++) dml_window_table_free(&pl->step[i].win);
    for (int i = 0; i < pl->nstage; i++) free(pl->stage[i].hi);
    pl->nstage = 0;
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
        st->f32 = L->kernel_precision == DML_KPREC_FLOAT32;
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
    return dml_kplan_stream(pl, err);
}

/* Which steps stream: from full input covariances, Conv and AvgPool steps that keep full covariances, each with
 * the activations after it, up to GAP or to the first other step. Ring sizes from the window tables: the next
 * stage's row o reads rows [lo(o), hi(o)] of this one; rows are made in order up to the running maximum of hi
 * and dropped below the suffix minimum of lo, so the ring holds the largest span between the two. */
int dml_kplan_stream(dml_kplan *pl, dml_error *err)
{
    pl->nstage = 0;
    pl->whole = 1;
    if (!pl->full0 || pl->gemm) return 0;
    dml_kstage *sg = pl->stage;
    sg[0] = (dml_kstage){.step = -1, .act0 = 0, .act1 = 0, .theta_zero = 1, .P = pl->P0};
    int n = 1, i = 0;
    for (; i <= pl->pool; i++) {
        const dml_kstep *st = &pl->step[i];
        dml_layer_kind k = st->d->kind;
        if (k == DML_LAYER_ACT && st->full_in && sg[n - 1].act1 == i) {
            sg[n - 1].act1 = i + 1;
            continue;
        }
        if ((k == DML_LAYER_CONV || k == DML_LAYER_AVG_POOL) && st->full_in && st->full_out) {
            sg[n] = (dml_kstage){.step = i, .act0 = i + 1, .act1 = i + 1,
                                 .theta_zero = k == DML_LAYER_AVG_POOL && sg[n - 1].theta_zero, .P = st->P_out};
            n++;
            continue;
        }
        break;
    }
    pl->stream_end = i;
    pl->stream_gap = i == pl->pool && pl->step[i].d->kind == DML_LAYER_GAP;
    if (n == 1 && !pl->stream_gap) return 0;   /* nothing streams */
    pl->nstage = n;
    /* one-channel inputs into a Conv: its window sums read the inputs, not the input covariance's ring */
    pl->input_fused = n > 1 && pl->C == 1 && sg[0].act0 == sg[0].act1 &&
                      pl->step[sg[1].step].d->kind == DML_LAYER_CONV && pl->step[sg[1].step].win.F <= 64;
    size_t off = 0, g = pl->margin;
    for (int l = 0; l < n; l++) {
        size_t cap = 1;
        if (l + 1 < n) {
            const dml_window_table *wt = &pl->step[sg[l + 1].step].win;
            size_t Pn = sg[l + 1].P;
            sg[l].hi = malloc(sizeof *sg[l].hi * Pn);
            long *lo_suf = malloc(sizeof *lo_suf * (Pn + 1));
            if (!sg[l].hi || !lo_suf) {
                free(lo_suf);
                return dml_fail(err, DML_ERR_NOMEM, "model", "out of memory for the kernel plan");
            }
            long run = -1;
            lo_suf[Pn] = (long)sg[l].P;
            for (size_t o = 0; o < Pn; o++) {
                size_t lo, hi;
                dml_window_rows_needed(wt, o, &lo, &hi);
                if (lo != SIZE_MAX && (long)hi > run) run = (long)hi;
                sg[l].hi[o] = run;
            }
            for (size_t o = Pn; o-- > 0;) {
                size_t lo, hi;
                dml_window_rows_needed(wt, o, &lo, &hi);
                lo_suf[o] = lo != SIZE_MAX && (long)lo < lo_suf[o + 1] ? (long)lo : lo_suf[o + 1];
            }
            /* the next stage makes its rows DML_WINDOW_ROWS at a time from o (a multiple of it), reading up to
             * hi of its group's last row, and this stage makes its own rows in groups too (the input covariance
             * one at a time), so up to that many - 1 past it: all live from lo_suf[o] on */
            size_t B = DML_WINDOW_ROWS, ahead = l == 0 ? 0 : B - 1;
            for (size_t o = 0; o < Pn; o += B) {
                long h = sg[l].hi[o + B - 1 < Pn ? o + B - 1 : Pn - 1];
                if (h >= lo_suf[o] && (size_t)(h - lo_suf[o] + 1) + ahead > cap)
                    cap = (size_t)(h - lo_suf[o] + 1) + ahead;
            }
            free(lo_suf);
        } else if (pl->stream_gap) {
            cap = DML_WINDOW_ROWS;   /* GAP sums the last stage's rows one by one after each group is made */
        }
        if (cap > sg[l].P) cap = sg[l].P;
        sg[l].cap = cap;
        sg[l].ring = DML_ROUND8(cap * sg[l].P + 2 * g);
        sg[l].off = off;
        off += 2 * sg[l].ring;
    }
    /* scratch rows: the window sums of K and T, and pooling's first pass */
    pl->stream_doubles = off + 3 * DML_ROUND8(pl->maxP);
    if (pl->input_fused) pl->stream_doubles += (size_t)pl->step[sg[1].step].win.F * DML_ROUND8(sg[1].P);
    /* every pair run streams to GAP: whole matrices only for the self runs of an activation after GAP */
    pl->whole = !pl->stream_gap || pl->self_full;
    return 0;
}

/* Doubles of one thread's workspace: four covariance buffers (K, T and their scratch), full ones with margins. */
size_t dml_kplan_buffer_doubles(const dml_kplan *pl)
{
    size_t P = pl->maxP;
    return DML_ROUND8(pl->any_full && pl->whole ? P * P + 2 * pl->margin : P);
}

size_t dml_kplan_workspace_doubles(const dml_kplan *pl)
{
    return 4 * dml_kplan_buffer_doubles(pl) + (pl->nstage ? pl->stream_doubles : 0) + 4;
}

