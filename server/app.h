/* dmilab server: the state shared by the HTTP routes and the workers of one `dmilab serve`. */
#ifndef DMILAB_SERVER_APP_H
#define DMILAB_SERVER_APP_H

#include <limits.h>
#include "dmilab/spec.h"
#include "config.h"
#include "store.h"

struct queue;

/** One running service: configuration, store, worker queue, spec limits. */
typedef struct {
    const serve_config *cfg;
    store *st;
    struct queue *q;
    dml_limits limits;         /**< data_root from the configuration, the rest core defaults */
    char web_root[PATH_MAX];   /**< resolved (realpath) web root; "" when it does not exist */
    char version[160];         /**< "dmilab <version> (<commit>)" */
} app;

#endif
