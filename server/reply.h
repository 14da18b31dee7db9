/* dmilab server: an HTTP reply being built by a route (status, headers, body), and its JSON helpers. */
#ifndef DMILAB_SERVER_REPLY_H
#define DMILAB_SERVER_REPLY_H

#include <stddef.h>
#include <cjson/cJSON.h>

#define CT_JSON "application/json; charset=utf-8"

/** A reply. Initialize with reply_init; http.c sends it and frees what it owns. */
typedef struct {
    unsigned status;
    const char *content_type;   /**< static string */
    char *body;                 /**< malloc'd (or NULL), owned */
    size_t len;
    int fd;                     /**< >= 0: send this file (owned) of fd_size bytes instead of body */
    size_t fd_size;
    char allow[64];             /**< Allow header when not empty (405) */
    char location[128];         /**< Location header when not empty */
    int no_store;               /**< Cache-Control: no-store (API replies) */
    int retry_after;            /**< Retry-After header (seconds) when > 0 (503) */
    int drop;                   /**< send nothing and close the connection (its client is gone) */
} reply;

/** An empty 200 reply with no body. */
void reply_init(reply *r);

/** Reply with `obj` printed unformatted as application/json; takes ownership of `obj` (NULL: 500). */
void reply_json(reply *r, unsigned status, cJSON *obj);

/** Reply with an already printed JSON text (malloc'd, ownership taken; NULL: 500). */
void reply_json_text(reply *r, unsigned status, char *text);

/** Reply with a malloc'd text body of the given content type (ownership taken; NULL: 500). */
void reply_text(reply *r, unsigned status, const char *content_type, char *text);

/** The API's error body {"error": {"code", "message", "field"}} as compact JSON (malloc'd; NULL when out of
 *  memory); `field` NULL or "" prints as null. Shared by HTTP replies and the CLI's stderr. */
char *error_text(const char *code, const char *message, const char *field);

/** Reply with the error shape {"error": {"code", "message", "field"}} (field null when NULL or ""). */
void reply_error(reply *r, unsigned status, const char *code, const char *message, const char *field);

/** Free what the reply owns (body, fd) and reset it. */
void reply_clear(reply *r);

#endif
