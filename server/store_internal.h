/* dmilab server: the connection pool and statement helpers of store.c, for the other files of the store
 * (store_shards.c). Not for the rest of the server: it calls the store_* functions of store.h. */
#ifndef DMILAB_SERVER_STORE_INTERNAL_H
#define DMILAB_SERVER_STORE_INTERNAL_H

#include <sqlite3.h>
#include "store.h"

/** SQL for SQLite's clock as Unix seconds (fractional): when an experiment's eta_seconds was estimated (eta_at),
 *  written and read by the database's own clock so that both sides agree. */
#define STORE_NOW_S "((julianday('now') - 2440587.5) * 86400.0)"

/** Borrow a pooled connection (NULL on error, logged); give it back with store_db_release (rolls back an open
 *  transaction). */
sqlite3 *store_db_acquire(store *st);
void store_db_release(store *st, sqlite3 *db);

/** Prepare `sql` binding the arguments of `fmt` ('t' text or NULL, 'i' int64, 'd' double, NaN as NULL); NULL when it
 *  does not prepare (call store_db_fail). */
sqlite3_stmt *store_db_prep(sqlite3 *db, const char *sql, const char *fmt, ...);

/** Run one statement to its end: the number of changed rows, or a negative store error (logged as `what`). */
int store_db_run(store *st, sqlite3 *db, const char *what, const char *sql, const char *fmt, ...);

/** The integer that the one-row query `sql` (bound as store_db_prep does) answers, on a pooled connection, or a
 *  negative error (logged as `what`). */
long store_db_count(store *st, const char *what, const char *sql, const char *fmt, ...);

/** BEGIN IMMEDIATE and COMMIT: 0 or a negative store error. */
int store_db_begin(store *st, sqlite3 *db);
int store_db_commit(store *st, sqlite3 *db);

/** Log the connection's last error as `what` and classify it (STORE_BUSY, STORE_FULL, ...). */
int store_db_fail(store *st, sqlite3 *db, const char *what);

/** A copy of text column i of the current row of `s` (free it), or NULL when the column is NULL or out of
 *  memory. */
char *store_db_col_dup(sqlite3_stmt *s, int i);

/** Read experiment `id` on `db`: 1 found, 0 not, or a negative error. */
int store_db_get_experiment(store *st, sqlite3 *db, const char *id, store_experiment *out);

/** INSERT OR IGNORE one point of experiment `id` (its training curve as JSON text): rows changed, or a negative
 *  error. */
int store_db_insert_point(store *st, sqlite3 *db, const char *id, int arm_index, const dml_point *p);

#endif
