/* dmilab server: the dashboard's static files under the web root. */
#ifndef DMILAB_SERVER_STATIC_FILES_H
#define DMILAB_SERVER_STATIC_FILES_H

#include "reply.h"

/** Serve `path` ("/" = "/index.html"; a directory serves its index.html) from `web_root` (a resolved
 *  absolute path; "" = none). Any path containing ".." or resolving outside the web root, and any
 *  missing file, is a 404 not_found. Paths under /examples are the embedded example specs (examples.h). */
void static_serve(const char *web_root, const char *path, reply *r);

/** The Content-Type for a file name, by extension (application/octet-stream when unknown). */
const char *static_content_type(const char *name);

#endif
