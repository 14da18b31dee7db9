/* dmilab: the server's limits on the work one spec or kernel request may ask for, and their ids (a limit
 * error carries the id, so a server can name the flag that set it). Checked by admission (admission.h). */
#ifndef DMILAB_LIMITS_H
#define DMILAB_LIMITS_H

#include <stddef.h>
#include "dmilab/error.h"
#include "dmilab/model.h"

/* X(id, name): every limit, once. The name is the limit's word in messages and the tail of its flag. */
#define DML_LIMITS(X)                                          \
    X(DML_LIMIT_POINTS, "points")                              \
    X(DML_LIMIT_N_TRAIN, "n-train")                            \
    X(DML_LIMIT_N_TEST, "n-test")                              \
    X(DML_LIMIT_REPEATS, "repeats")                            \
    X(DML_LIMIT_DEPTH, "depth")                                \
    X(DML_LIMIT_WIDTH, "width")                                \
    X(DML_LIMIT_MEMORY, "memory")                              \
    X(DML_LIMIT_EXPERIMENT_SECONDS, "experiment-seconds")      \
    X(DML_LIMIT_KERNEL_NUMBERS, "kernel-numbers")              \
    X(DML_LIMIT_KERNEL_SECONDS, "kernel-seconds")

#define DML_LIMIT_ENUM_(id, name) id,
/** Which limit an error exceeded (dml_error.limit); DML_LIMIT_NONE for errors that are not limits. */
typedef enum { DML_LIMIT_NONE = 0, DML_LIMITS(DML_LIMIT_ENUM_) DML_LIMIT_COUNT } dml_limit_id;
#undef DML_LIMIT_ENUM_

/** The limits of one server (or `dmilab run`). A value of 0 means "no limit". The defaults live in the
 *  configuration table of `dmilab serve` (server/config.c), with each limit's flag and environment variable. */
typedef struct {
    size_t max_points;             /**< grid size: sizes x data x models x inference x repeats */
    size_t max_n_train;            /**< every n_train of every data variant */
    size_t max_n_test;
    int max_repeats;
    int max_depth;                 /**< hidden layers of a model */
    int max_width;                 /**< hidden units / channels of a trained model */
    size_t max_memory_bytes;       /**< estimated peak memory of one unit of work (dml_unit_memory) */
    size_t max_experiment_seconds; /**< estimated computing time of a whole experiment (the dry-run estimate) */
    size_t max_kernel_numbers;     /**< POST /api/v1/kernels: n1*n2 and each input's size */
    int max_kernel_seconds;        /**< POST /api/v1/kernels: estimated computing time */
    int threads;                   /**< threads one unit of work runs on (estimates depend on it); 0: 1 */
} dml_limits;

/** The name of a limit ("memory", "n-train", ...), "" for DML_LIMIT_NONE or an unknown id. */
const char *dml_limit_name(dml_limit_id id);

/** The depth and width limits of one model (lim NULL or a 0 limit: none); `path` prefixes the field
 *  ("models[1]" -> "models[1].width"). Returns 0, or -1 with DML_ERR_LIMIT and err->limit DML_LIMIT_DEPTH or
 *  DML_LIMIT_WIDTH. Used by spec admission and by the kernel request. */
int dml_model_admit(const dml_model *m, const char *path, const dml_limits *lim, dml_error *err);

#endif
