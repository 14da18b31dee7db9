/* dmilab server: the service's self-checks, on one background thread: the integrity of the database every
 * --db-check-seconds (PRAGMA quick_check on a fresh connection; a malformed file makes /healthz answer 503 and
 * submissions be refused), and every second the summaries of rate-limited log lines (util_log_flush). */
#ifndef DMILAB_SERVER_HEALTH_H
#define DMILAB_SERVER_HEALTH_H

#include "store.h"

typedef struct health health;

/** Start the thread; `db_check_seconds` 0 checks the database only at start-up (store_open). NULL on error. */
health *health_start(store *st, int db_check_seconds);

/** Stop the thread and free it. */
void health_stop(health *h);

#endif
