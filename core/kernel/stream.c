/* The row-streamed spatial stage of the kernel engine (plan.h, dml_kstream_run): full P x P covariances made
 * one row at a time, each layer's rows in a small ring that stays in cache, instead of one pass of every layer
 * over whole matrices (4.9 MB each at 28x28). Every row goes through the same arithmetic as the whole-matrix
 * rules (window rows, affine updates, duals, GAP's partial sums), so the numbers are the same bit for bit. */
#include <assert.h>
#include <string.h>
#include "plan.h"

#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

CLONES void dml_input_cov_row(const double *restrict a, const double *restrict b, size_t P, int C, size_t p,
                              double *restrict out)
{
    double inv = 1.0 / C;
    if (C == 1) {
        for (size_t q = 0; q < P; q++) out[q] = (a[p] * b[q]) * inv;
        return;
    }
    for (size_t q = 0; q < P; q++) {
        double s = 0.0;
        for (int c = 0; c < C; c++) s += a[p * C + c] * b[q * C + c];
        out[q] = s * inv;
    }
}

typedef struct {
    const dml_kplan *pl;
    const double *xi, *xj, *si, *sj;
    double *K[DML_MAX_LAYERS + 1], *T[DML_MAX_LAYERS + 1];   /* each stage's rings */
    size_t cap[DML_MAX_LAYERS + 1];
    size_t next[DML_MAX_LAYERS + 1];                         /* the next row each stage makes */
    double *SK, *ST, *tmp;                                   /* scratch rows */
    double *X;                                               /* input_fused: xj under the first window */
    size_t ldx;
} stream;

static void produce(stream *sm, int l, long r);

/* Rows o0 .. o0 + rows - 1 of a Conv or AvgPool stage l (K[r], T[r] their slots) from the rows of stage l - 1
 * (made first, up to those they read). */
static void window_rows(stream *sm, int l, size_t o0, int rows, double *const *K, double *const *T)
{
    const dml_kplan *pl = sm->pl;
    const dml_kstep *st = &pl->step[pl->stage[l].step];
    size_t P = pl->stage[l].P;
    int tz = pl->stage[l - 1].theta_zero;
    if (l == 1 && pl->input_fused) {
        /* the first Conv straight from the inputs (stage 0, the input covariance, has a zero NTK) */
        assert(tz);
        dml_window_input_rows(&st->win, sm->xi, sm->X, sm->ldx, o0, rows, K);
        for (int r = 0; r < rows; r++) {
            dml_kaffine(P, st->scale, st->b2, K[r], K[r], NULL, NULL);
            memcpy(T[r], K[r], sizeof *T[r] * P);
        }
        return;
    }
    const double *Kin = sm->K[l - 1], *Tin = sm->T[l - 1];
    produce(sm, l - 1, pl->stage[l - 1].hi[o0 + (size_t)rows - 1]);
    if (st->d->kind == DML_LAYER_CONV) {
        /* conv.c's window_affine on the rows; the first parameterized layer's NTK is its NNGP */
        dml_window_full_rows_affine(&st->win, Kin, sm->cap[l - 1], o0, rows, st->scale, st->b2, NULL, K);
        if (tz)
            for (int r = 0; r < rows; r++) memcpy(T[r], K[r], sizeof *T[r] * P);
        else
            dml_window_full_rows_affine(&st->win, Tin, sm->cap[l - 1], o0, rows, st->scale, 0.0, K, T);
        return;
    }
    /* pool.c's avg_one on each row */
    for (int r = 0; r < rows; r++) {
        size_t o = o0 + (size_t)r;
        dml_window_pool_full_row(&st->win, Kin, sm->cap[l - 1], o, sm->tmp, K[r]);
        dml_kaffine(P, st->scale, 0.0, K[r], K[r], NULL, NULL);
        if (!tz) {
            dml_window_pool_full_row(&st->win, Tin, sm->cap[l - 1], o, sm->tmp, T[r]);
            dml_kaffine(P, st->scale, 0.0, T[r], T[r], NULL, NULL);
        }
    }
}

/* Make the rows of stage l up to row r (in order), with the rows of stage l - 1 they read: the input covariance
 * one row at a time, the window stages DML_WINDOW_ROWS rows at a time (the plan's rings hold them). */
static void produce(stream *sm, int l, long r)
{
    const dml_kplan *pl = sm->pl;
    const dml_kstage *sg = &pl->stage[l];
    size_t P = sg->P;
    while ((long)sm->next[l] <= r) {
        size_t o0 = sm->next[l];
        int rows = sg->step < 0 ? 1 : DML_WINDOW_ROWS;
        if (o0 + (size_t)rows > P) rows = (int)(P - o0);
        double *K[DML_WINDOW_ROWS], *T[DML_WINDOW_ROWS];
        for (int b = 0; b < rows; b++) {
            K[b] = sm->K[l] + ((o0 + (size_t)b) % sm->cap[l]) * P;
            T[b] = sm->T[l] + ((o0 + (size_t)b) % sm->cap[l]) * P;
        }
        if (sg->step < 0)
            dml_input_cov_row(sm->xi, sm->xj, P, pl->C, o0, K[0]);
        else
            window_rows(sm, l, o0, rows, K, T);
        for (int b = 0; b < rows; b++)
            for (int a = sg->act0; a < sg->act1; a++) {
                const dml_kstep *st = &pl->step[a];
                dml_act_row(st, P, sm->si + st->self_off + o0 + (size_t)b, 0, sm->sj + st->self_off, K[b],
                            sg->theta_zero ? NULL : T[b]);
            }
        sm->next[l] += (size_t)rows;
    }
}

void dml_kstream_run(const dml_kplan *pl, const double *xi, const double *xj, const double *si, const double *sj,
                     double *w, dml_kstate *s, double *kout, double *tout)
{
    stream sm = {.pl = pl, .xi = xi, .xj = xj, .si = si, .sj = sj};
    size_t g = pl->margin;
    int n = pl->nstage, last = n - 1;
    for (int l = 0; l < n; l++) {
        sm.K[l] = w + pl->stage[l].off + g;
        sm.T[l] = w + pl->stage[l].off + pl->stage[l].ring + g;
        sm.cap[l] = pl->stage[l].cap;
    }
    double *rows = w + pl->stage[last].off + 2 * pl->stage[last].ring;
    size_t R = DML_ROUND8(pl->maxP);
    sm.SK = rows;
    sm.ST = rows + R;
    sm.tmp = rows + 2 * R;
    if (pl->input_fused) {
        const dml_window_table *wt = &pl->step[pl->stage[1].step].win;
        sm.X = rows + 3 * R;
        sm.ldx = DML_ROUND8(pl->stage[1].P);
        dml_window_input_gather(wt, xj, sm.X, sm.ldx);
    }
    const dml_kstage *lg = &pl->stage[last];
    size_t P = lg->P;
    if (pl->stream_gap) {
        /* pool.c's gap_kernel, its sums taken row by row */
        double pk[DML_KSUM_LANES] = {0}, pt[DML_KSUM_LANES] = {0};
        for (size_t o = 0; o < P; o++) {
            produce(&sm, last, (long)o);
            dml_ksum_add(pk, sm.K[last] + (o % sm.cap[last]) * P, o * P, P);
            if (!lg->theta_zero) dml_ksum_add(pt, sm.T[last] + (o % sm.cap[last]) * P, o * P, P);
        }
        double nn = (double)(P * P);
        *kout = dml_ksum_total(pk) / nn;
        *tout = lg->theta_zero ? 0.0 : dml_ksum_total(pt) / nn;
        return;
    }
    /* the last stage's rows go straight into the state's full buffers */
    sm.K[last] = s->K;
    sm.T[last] = s->T;
    sm.cap[last] = P;
    produce(&sm, last, (long)P - 1);
    s->full = 1;
    s->rows = s->cols = P;
    s->theta_zero = lg->theta_zero;
}
