/* dmilab server: the self-checks thread. See health.h. */
#include "health.h"

#include <stdlib.h>

#include "ticker.h"
#include "util.h"

struct health {
    store *st;
    int db_check_seconds, since_check, reported;
    ticker *t;
};

static void health_tick(void *p)
{
    health *h = p;
    util_log_flush();
    if (h->db_check_seconds > 0 && ++h->since_check >= h->db_check_seconds && !h->reported) {
        h->since_check = 0;
        char why[600];
        if (store_check_integrity(h->st, why, sizeof why) == STORE_CORRUPT) {
            util_log("%s: /healthz answers 503 and submissions are refused until the database is restored", why);
            h->reported = 1;   /* a corrupted file does not heal: one line, and no more checks */
        }
    }
}

health *health_start(store *st, int db_check_seconds)
{
    health *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->st = st;
    h->db_check_seconds = db_check_seconds;
    if (!(h->t = ticker_start(1.0, health_tick, h))) {
        free(h);
        return NULL;
    }
    return h;
}

void health_stop(health *h)
{
    if (!h)
        return;
    ticker_stop(h->t);
    util_log_flush();
    free(h);
}
