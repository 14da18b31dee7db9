/* The runner's spectral readout (issue 13) on real Fashion-MNIST (no server): one readout per kernel arm, one
 * eigendecomposition shared by the arms of one kernel, the identities of a spectrum, the spectrum on more points
 * than the largest n_train leaving the measured points bit for bit as they are, the predicted curve against the
 * measured one, and a resumed run that skips stored readouts. */
#include <stdlib.h>
#include <string.h>
#include "dmilab/experiment.h"
#include "check.h"

#define ROOT "/usr/share/datasets"
#define MAXS 8

typedef struct {
    dml_point pts[64];
    int n;
    char arm[MAXS][DML_ARM_MAX];
    size_t N[MAXS], k[MAXS];
    double *ev[MAXS], *cum[MAXS], trace[MAXS], alignment[MAXS];
    dml_arm_spectrum sp[MAXS];
    int ns;
    int points_stored;         /* have_point answers yes for every point */
    const char *spectrum_stored;   /* have_spectrum answers yes for arms containing this */
} store;

static int have_point(void *ctx, const char *arm, size_t n, int rep)
{
    (void)arm, (void)n, (void)rep;
    return ((store *)ctx)->points_stored;
}

static int have_spectrum(void *ctx, const char *arm)
{
    store *s = ctx;
    return s->spectrum_stored && strstr(arm, s->spectrum_stored) != NULL;
}

static int on_point(void *ctx, const dml_point *p)
{
    store *s = ctx;
    if (s->n < 64) s->pts[s->n++] = *p;
    return 0;
}

static int on_spectrum(void *ctx, const dml_arm_spectrum *a)
{
    store *s = ctx;
    if (s->ns >= MAXS) return 1;
    int i = s->ns++;
    const dml_spectrum *sp = a->spectrum;
    snprintf(s->arm[i], sizeof s->arm[i], "%s", a->arm);
    s->sp[i] = *a;
    s->sp[i].spectrum = NULL;   /* valid during the call only: keep copies */
    s->N[i] = sp->n;
    s->k[i] = sp->k;
    s->trace[i] = sp->trace;
    s->alignment[i] = sp->alignment;
    s->ev[i] = malloc(sizeof(double) * sp->n);
    s->cum[i] = malloc(sizeof(double) * sp->n);
    memcpy(s->ev[i], sp->eigenvalue, sizeof(double) * sp->n);
    memcpy(s->cum[i], sp->cumulative, sizeof(double) * sp->n);
    return 0;
}

static void store_free(store *s)
{
    for (int i = 0; i < s->ns; i++) {
        free(s->ev[i]);
        free(s->cum[i]);
    }
}

static int run(const char *json, store *st, dml_error *err)
{
    dml_spec s;
    if (dml_spec_parse(json, strlen(json), ROOT, &s, err)) return -1;
    dml_run_hooks h = {.ctx = st, .have_point = have_point, .on_point = on_point, .have_spectrum = have_spectrum,
                       .on_spectrum = on_spectrum, .threads = 2};
    int rc = dml_experiment_run(&s, &h, err);
    dml_spec_free(&s);
    return rc;
}

static int find_spectrum(const store *s, const char *arm)
{
    for (int i = 0; i < s->ns; i++)
        if (strcmp(s->arm[i], arm) == 0) return i;
    return -1;
}

static const dml_point *find(const store *s, const char *arm, size_t n, int rep)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->pts[i].arm, arm) == 0 && s->pts[i].n_train == n && s->pts[i].repeat == rep) return &s->pts[i];
    return NULL;
}

#define SPEC(SPECTRUM)                                                                                          \
    "{\"data\": {\"name\": \"f\", \"source\": \"fashion-mnist\", \"resize\": 4, \"n_train\": [50, 100, 200, 400], "  \
    "\"n_test\": 500}, \"models\": {\"name\": \"fcn\", \"arch\": \"fcn\", \"depth\": 1}, \"repeats\": 2, "      \
    "\"inference\": [{\"name\": \"nngp\", \"method\": \"nngp\", \"ridge\": 1e-4}, {\"name\": \"ntk\", "          \
    "\"method\": \"ntk\", \"ridge\": 1e-4}, {\"name\": \"ntk-r\", \"method\": \"ntk\", \"ridge\": 1e-2}]" SPECTRUM "}"

int main(void)
{
    dml_error err = {0};
    store plain = {0}, st = {0};
    CHECK(run(SPEC(""), &plain, &err) == 0, "run without a spectrum: %s", err.message);
    CHECK(plain.ns == 0, "no spectrum asked for, none reported (%d)", plain.ns);
    /* the spectrum on 800 points, more than the largest n_train */
    CHECK(run(SPEC(", \"spectrum\": {\"n\": 800}"), &st, &err) == 0, "run with a spectrum: %s", err.message);
    CHECK(st.ns == 3, "one readout per kernel arm, in repeat 0 only: %d", st.ns);
    CHECK(st.n == plain.n && st.n == 24, "the same points: %d and %d", st.n, plain.n);
    int same = 1;
    for (int i = 0; i < plain.n; i++) {
        const dml_point *p = &plain.pts[i], *q = find(&st, p->arm, p->n_train, p->repeat);
        same &= q && q->test_mse == p->test_mse && q->train_mse == p->train_mse && q->test_accuracy == p->test_accuracy;
    }
    CHECK(same, "a Gram on 800 points leaves every measured point bit for bit as it was on 400");
    int a = find_spectrum(&st, "f/fcn/nngp"), b = find_spectrum(&st, "f/fcn/ntk"), c = find_spectrum(&st, "f/fcn/ntk-r");
    CHECK(a >= 0 && b >= 0 && c >= 0, "the three arms");
    if (a < 0 || b < 0 || c < 0) return check_summary("readout");
    for (int i = 0; i < st.ns; i++) {
        CHECK(st.N[i] == 800 && st.k[i] == 10, "%s: N = %zu, k = %zu", st.arm[i], st.N[i], st.k[i]);
        double sum = 0;
        int desc = 1;
        for (size_t j = 0; j < st.N[i]; j++) {
            sum += st.ev[i][j];
            if (j) desc &= st.ev[i][j] <= st.ev[i][j - 1];
        }
        CHECK(desc, "%s: eigenvalues descending", st.arm[i]);
        CHECK(close_rel(sum, st.trace[i], 1e-10), "%s: sum of eigenvalues %.17g = trace %.17g", st.arm[i], sum, st.trace[i]);
        CHECK(fabs(st.cum[i][st.N[i] - 1] - 1) < 1e-10, "%s: cumulative power ends at 1", st.arm[i]);
        CHECK(st.alignment[i] > 0 && st.alignment[i] <= 1, "%s: alignment %g", st.arm[i], st.alignment[i]);
        CHECK(st.sp[i].npred == 4, "%s: a prediction at every n_train <= N (%d)", st.arm[i], st.sp[i].npred);
    }
    /* one decomposition per kernel: the two ntk arms share it, nngp has its own */
    CHECK(!memcmp(st.ev[b], st.ev[c], sizeof(double) * 800), "ntk and ntk-r: the same eigenvalues bit for bit");
    CHECK(memcmp(st.ev[a], st.ev[b], sizeof(double) * 800) != 0, "nngp and ntk: different kernels");
    CHECK(st.sp[b].ridge == 1e-4 && st.sp[c].ridge == 1e-2, "each arm's own ridge");
    /* predicted against measured on one draw (repeat 0), Fashion-MNIST at 7x7: docs/spectrum.md finds the prediction
     * within 7% of the measured MSE from n = 100 on at 14x14; one draw's MSE spreads by about 15% at n = 200 (the
     * draw-to-draw spread the prediction, a mean over draws, cannot follow), so 25% at n >= 200 */
    for (int i = 0; i < st.ns; i++)
        for (int j = 0; j < st.sp[i].npred; j++) {
            const dml_prediction *p = &st.sp[i].pred[j];
            const dml_point *m = find(&st, st.arm[i], p->n_train, 0);
            double rel = m ? p->test_mse / m->test_mse - 1 : NAN;
            printf("%s: n = %3zu  measured %.5f  predicted %.5f  (%+5.1f%%)\n", st.arm[i], p->n_train,
                   m ? m->test_mse : NAN, p->test_mse, 100 * rel);
            if (p->n_train >= 200) CHECK(fabs(rel) < 0.25, "%s at n = %zu: %+.1f%%", st.arm[i], p->n_train, 100 * rel);
        }
    /* resumed: stored readouts are skipped; with every point stored the unit runs for its missing readouts only */
    store r1 = {.spectrum_stored = "/ntk"}, r2 = {.points_stored = 1}, r3 = {.points_stored = 1, .spectrum_stored = "/"};
    CHECK(run(SPEC(", \"spectrum\": {\"n\": 800}"), &r1, &err) == 0, "%s", err.message);
    CHECK(r1.ns == 1 && !strcmp(r1.arm[0], "f/fcn/nngp"), "stored readouts skipped: %d reported", r1.ns);
    CHECK(r1.ns == 1 && !memcmp(r1.ev[0], st.ev[a], sizeof(double) * 800), "the recomputed readout is the same");
    CHECK(run(SPEC(", \"spectrum\": {\"n\": 800}"), &r2, &err) == 0, "%s", err.message);
    CHECK(r2.ns == 3 && r2.n == 0, "every point stored: the readouts alone (%d readouts, %d points)", r2.ns, r2.n);
    CHECK(run(SPEC(", \"spectrum\": {\"n\": 800}"), &r3, &err) == 0, "%s", err.message);
    CHECK(r3.ns == 0 && r3.n == 0, "everything stored: nothing computed");
    store_free(&st);
    store_free(&plain);
    store_free(&r1);
    store_free(&r2);
    store_free(&r3);
    return check_summary("readout");
}
