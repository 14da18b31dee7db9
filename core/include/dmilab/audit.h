/* dmilab: the symmetry audit of one (M, I) (DESIGN 2.2): fit on g.D and predict g.X_test, compare with the fit
 * on D predicting X_test; exact for kernel arms, coupled or distributional for trained ones (docs/audit.md). */
#ifndef DMILAB_AUDIT_H
#define DMILAB_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include "dmilab/data.h"
#include "dmilab/error.h"
#include "dmilab/model.h"
#include "dmilab/spec.h"
#include "dmilab/training.h"
#include "dmilab/transform.h"

#define DML_AUDIT_METHODS(X) X(DML_AUDIT_EXACT, "exact") X(DML_AUDIT_COUPLED, "coupled") \
    X(DML_AUDIT_DISTRIBUTIONAL, "distributional")
typedef enum { DML_AUDIT_METHODS(DML_ENUM_ID) } dml_audit_method;

/** "exact", "coupled", "distributional"; "?" outside the enum. */
const char *dml_audit_method_name(dml_audit_method m);

/** The coupled measurement's invariance threshold on the gap: two float64 trainings that are images of each
 *  other under g differ by the rounding of reordered sums, amplified by the training map (docs/audit.md). */
#define DML_AUDIT_COUPLED_THRESHOLD 1e-12
/** The distributional verdict: invariant when gap <= DML_AUDIT_SEED_FACTOR * seed_gap (docs/audit.md). */
#define DML_AUDIT_SEED_FACTOR 3.0

/** One measured audit cell: one arm under one group. */
typedef struct {
    char arm[3 * DML_NAME_MAX + 2];
    char data[DML_NAME_MAX], model[DML_NAME_MAX], inference[DML_NAME_MAX];
    dml_transform_kind group;
    dml_audit_method method;
    size_t n_train;         /**< training points of the audit fits */
    double gap;             /**< sum (f_gD(g X) - f_D(X))^2 / sum f_D(X)^2 over test points and outputs */
    double seed_gap;        /**< distributional: the same between two independent ensembles on D; else NaN */
    double threshold;       /**< exact/coupled: the gap's rounding level; distributional: the factor on seed_gap */
    int invariant;          /**< the verdict (dml_audit_verdict) */
    double seconds;         /**< wall time of this cell (shared fits divided evenly among the cells) */
} dml_audit_entry;

/** gap = sum_i (b_i - a_i)^2 / sum_i a_i^2 over `count` numbers: a = f_D(X_test), b = f_gD(g X_test)
 *  (DESIGN 2.2). +inf when sum a_i^2 is 0 and b differs from a, 0 when both are 0; NaN with any NaN. */
double dml_audit_gap(const double *a, const double *b, size_t count);

/** The exact measurement's rounding level for a kernel arm (DESIGN 2.2: "well below 1e-9"): a perturbation of
 *  relative size e of the kernel moves the ridge predictions by at most about kappa * e relative, kappa the
 *  condition number of K + ridge * tr(K)/n I, which is at most 1 + n / ridge (the largest eigenvalue is at most
 *  tr K). Under g the kernel's sums are the same sums in another order (or through the rounded matrix of g):
 *  e <= m u with u = 2^-53 and m = depth_terms * (P*C + P*P) the terms of the longest sums (input dot products,
 *  a global-average readout's P^2 position pairs), for each of `depth` + 1 layers. The threshold is
 *  (kappa m u)^2 (the gap is squared), at most 1e-9 and at least 1e-24. n: training points; P, C: the input's
 *  positions and channels. */
double dml_audit_kernel_threshold(size_t n, double ridge, size_t P, size_t C, int depth);

/** Which measurement applies to model layer list `L` under inference `method` and group `kind`:
 *  exact for nngp/ntk; coupled when the first parameterized layer absorbs g (dml_group_absorbed_by), or for a
 *  `translation` when every layer before a global average pooling is a Conv with circular padding and stride
 *  1 or an activation (the network is then itself translation-invariant: no pull-back is needed);
 *  distributional otherwise. */
dml_audit_method dml_audit_method_for(const dml_layers *L, dml_method method, dml_transform_kind kind);

/** Fill e->invariant from e->method, gap, seed_gap and threshold: exact and coupled: gap <= threshold;
 *  distributional: gap <= threshold * seed_gap (threshold = DML_AUDIT_SEED_FACTOR). A NaN gap is not
 *  invariant. */
void dml_audit_verdict(dml_audit_entry *e);

/** Kernel ridge predictions of model `m` fitted on the first n points of `tr` and evaluated on `te`, for
 *  `ninf` kernel inferences at once (one NNGP+NTK computation): pred[i] (te->n x k, row-major) for method
 *  methods[i] (nngp or ntk) with ridge ridges[i] (DESIGN 3: ridge * tr(K)/n on the diagonal). Returns 0, or
 *  -1 with err (NOMEM, NUMERIC, INVALID_SPEC from the kernel engine). */
int dml_audit_kernel_predict(const dml_model *m, const dml_dataset *tr, size_t n, const dml_dataset *te, int ninf,
                             const dml_method *methods, const double *ridges, double *const *pred, int threads,
                             dml_error *err);

/** One float64 training of layer list `L` (parameterization `par`, hyper-parameters `cfg` with its
 *  shuffle_seed) from the weights of dml_net_create(init_seed), on the first n points of `tr`, predicting
 *  te->x into pred (te->n x k). With `pull` (may be NULL) the first parameterized layer's initial weights are
 *  pulled back through it (dml_group_pullback; a group it cannot absorb, as for the translation case of
 *  dml_audit_method_for, leaves them unchanged). `antithetic` != 0 negates the readout's initial weights and
 *  biases: the antithetic partner of the same draw (the Gaussian initialization is symmetric, so it is a draw
 *  from the same distribution, and the pair's initial functions cancel exactly). A diverged training gives
 *  NaN predictions. Returns 0 or -1 with err. */
int dml_audit_train_predict(const dml_layers *L, dml_parameterization par, const dml_train_config *cfg,
                            uint64_t init_seed, const dml_group_elem *pull, int antithetic, const dml_dataset *tr,
                            size_t n, const dml_dataset *te, double *pred, int threads, dml_error *err);

/** Copies of `src` (x, y, labels) with g applied to x: *dst owns its arrays (free with dml_dataset_free);
 *  only the first n inputs are kept (n <= src->n). Returns 0 or -1 (NOMEM). */
int dml_audit_transform_dataset(const dml_dataset *src, size_t n, const dml_group_elem *g, dml_dataset *dst,
                                dml_error *err);

/** The seed of the audit's group element of kind `kind` in an experiment seeded `seed`, when the spec does not
 *  give one: dml_rng seeded {seed, "audit", kind}. */
uint64_t dml_audit_group_seed(uint64_t seed, dml_transform_kind kind);

/** One arm's audit: its model, inference and data, and the fits on D, kept across the groups measured
 *  (dml_audit_measure computes them at first use). Fill the fields above `base`, zero the rest. */
typedef struct {
    const dml_model *model;
    const dml_inference *inf;
    const dml_dataset *train;    /**< its first n_train points are the audit's D */
    size_t n_train;
    const dml_dataset *test;     /**< X_test: all of its points */
    uint64_t init_seed, shuffle_seed;  /**< trained arms, coupled: the weights and minibatches of both fits */
    uint64_t ensemble_seed;      /**< trained arms, distributional: member s of ensemble e is seeded {this, e, s} */
    int seeds;                   /**< S, the members of each ensemble (>= 1; the seed floor needs S >= 1) */
    int threads;
    /* cached fits on D */
    dml_layers *layers;
    double *base;                /**< exact, coupled: f_D(X_test), test->n x k */
    double *ens[2];              /**< distributional: two independent ensemble means on D */
} dml_audit_arm;

/** Measure the arm under g into e (method, gap, seed_gap, threshold, invariant, n_train; the names and seconds
 *  are the caller's): dml_audit_method_for chooses; exact: kernel ridge on g.D predicting g.X_test against D
 *  predicting X_test; coupled: one float64 training on g.D from the initial weights pulled back through g (the
 *  same seeds as the fit on D); distributional: the mean of S trainings on g.D (ensemble 2) against the mean
 *  of S on D (ensemble 0), the seed gap between ensembles 0 and 1; the members of an ensemble are antithetic
 *  pairs (member 2j seeded {ensemble_seed, e, j}, member 2j + 1 its antithetic partner), an unbiased estimate
 *  of the mean over the initialization with the initial function's noise cancelled. Every training is in float64,
 *  whatever the arm's precision. Returns 0 or -1 with err (a diverged training is a NaN gap, not an error). */
int dml_audit_measure(dml_audit_arm *a, const dml_group_elem *g, dml_audit_entry *e, dml_error *err);

/** Free the arm's cached fits (not the fields the caller filled). */
void dml_audit_arm_free(dml_audit_arm *a);

/** Trainings one cell costs under `method` with S seeds, the fits on D shared by the arm's cells counted
 *  apart: per cell (coupled 1, distributional S, exact 0 trainings) and per arm (coupled 1, distributional
 *  2 S), for the cost estimate. */
int dml_audit_trainings(dml_audit_method method, int seeds, int per_arm);

/* ---- the spec's `audit` field and audit checks (core/audit/audit_spec.c) ---- */

/** Parse the spec's `audit` object (after its data variants) into s->audit: `groups` (required, 1 to 6
 *  distinct kinds, each a name "translation" or an object {"kind", "seed"}), `n_train`, `seeds`; defaults in
 *  dml_audit_spec. NULL `o`: no audit. Returns 0, or -1 with DML_ERR_INVALID_SPEC naming the field
 *  ("audit.groups[1]", "audit.n_train"). */
int dml_audit_spec_parse(const cJSON *o, dml_spec *s, dml_error *err);

/** The resolved `audit` object (every default written, group seeds included), or NULL without an audit. */
cJSON *dml_audit_spec_json(const dml_spec *s);

/** Parse an audit check {"audit": {"arm", "group"}, "op": "==", "value": true|false} at `path` into c (the
 *  arm must be in the grid, the group among the audit's groups). Returns 0 or -1 with the field named. */
int dml_audit_check_parse(const cJSON *o, const char *path, const dml_spec *s, dml_check *c, dml_error *err);

/* ---- the audit as the API serves it (core/audit/audit_json.c) ---- */

/** {"id": id, "audit": [{"arm", "data", "model", "inference", "group", "method", "n_train", "gap", "seed_gap",
 *  "threshold", "invariant", "seconds"}]} (DESIGN 4; NaN numbers as null; caller frees). data, model and
 *  inference are taken from the arm name when the entry's are empty. */
cJSON *dml_audit_json(const char *id, const dml_audit_entry *e, size_t n);

/** CSV, one row per cell: arm,group,method,n_train,gap,seed_gap,threshold,invariant,seconds (numbers as
 *  dml_format_double prints them, NaN empty; invariant true/false). malloc'd, NULL when out of memory. */
char *dml_audit_csv(const dml_audit_entry *e, size_t n);

#endif
