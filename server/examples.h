/* dmilab server: the example specs of examples/, embedded at build time (embed_sql.c) and served read-only
 * under /examples/ for the dashboard's submit page, so a running server offers the examples it was built with. */
#ifndef DMILAB_SERVER_EXAMPLES_H
#define DMILAB_SERVER_EXAMPLES_H

#include "reply.h"

/** One example: its file name without ".json" (e.g. "fmnist-fcn-kernels") and the file's text as written. */
typedef struct {
    const char *name;
    const char *text;
} example_spec;

/** Every example, sorted by name. */
extern const example_spec examples[];
/** Number of entries in `examples`. */
extern const int examples_count;

/** Serve a path under /examples: "/examples" or "/examples/" is the JSON index
 *  {"examples": [{"file": "examples/NAME.json", "name": the spec's "name" or null}]}, "/examples/NAME.json"
 *  the file as written (application/json), anything else under /examples a 404 not_found. Returns 1 when
 *  `path` is under /examples (and `r` is filled), 0 when it is not. */
int examples_serve(const char *path, reply *r);

#endif
