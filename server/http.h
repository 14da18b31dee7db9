/* dmilab server: the libmicrohttpd daemon: request bodies, authorization, content checks, dispatch. */
#ifndef DMILAB_SERVER_HTTP_H
#define DMILAB_SERVER_HTTP_H

#include <stddef.h>
#include "app.h"

typedef struct http_server http_server;

/** Listen on cfg->bind:cfg->port and serve the routes and static files of `a` (a thread per
 *  connection). Returns NULL with a message in `errbuf` when the address cannot be used. */
http_server *http_start(app *a, char *errbuf, size_t errlen);

/** Stop accepting connections, close the open ones (a request being handled finishes first),
 *  and free the server. */
void http_stop(http_server *h);

#endif
