/* dmilab server: the SQLite store and the lease protocol of running work. See store.h. */
#include "store.h"
#include "dmilab/json.h"

#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrations.h"
#include "store_internal.h"
#include "dmilab/results.h"

#define POOL_MAX 16
/* Workers wait this long for a lock before a write fails (and is retried: worker.c). */
#define BUSY_MS 10000
/* Writes of HTTP requests wait at most this long: a database locked by another process is a 503 with Retry-After
 * soon, not a request thread blocked for 10 s. */
#define REQUEST_BUSY_MS 2000
#define MAX_FILTER_TAGS 16

struct store {
    char *path;
    pthread_mutex_t mu;
    sqlite3 *idle[POOL_MAX];
    int nidle;
    atomic_int corrupt;      /* a call met SQLITE_CORRUPT / SQLITE_NOTADB, or an integrity check failed */
    char fault[400];         /* its reason, under mu */
};

static int classify(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return STORE_BUSY;
    case SQLITE_FULL: return STORE_FULL;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return STORE_CORRUPT;
    default: return STORE_ERROR;
    }
}

const char *store_error_text(int rc)
{
    switch (rc) {
    case STORE_BUSY: return "the database is locked by another connection";
    case STORE_FULL: return "the database or its disk is full";
    case STORE_CORRUPT: return "the database is corrupted";
    default: return "database error";
    }
}

static void remember_corrupt(store *st, const char *why)
{
    pthread_mutex_lock(&st->mu);
    if (!atomic_load(&st->corrupt)) {
        snprintf(st->fault, sizeof st->fault, "database %s is corrupted: %s", st->path, why);
        atomic_store(&st->corrupt, 1);
    }
    pthread_mutex_unlock(&st->mu);
}

/* Log the last error of `db` (doing `what`), remember corruption; returns its class (a negative STORE_* value). */
static int fail(store *st, sqlite3 *db, const char *what)
{
    if (!db)
        return STORE_ERROR;
    int k = classify(sqlite3_extended_errcode(db));
    util_log("sqlite: %s: %s", what, sqlite3_errmsg(db));
    if (k == STORE_CORRUPT)
        remember_corrupt(st, sqlite3_errmsg(db));
    return k;
}

static sqlite3 *conn_open(const char *path, char *errbuf, size_t errlen)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        if (errbuf)
            snprintf(errbuf, errlen, "cannot open database %s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, BUSY_MS);
    char *msg = NULL;
    if (sqlite3_exec(db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;", NULL, NULL, &msg) != SQLITE_OK) {
        if (classify(sqlite3_extended_errcode(db)) == STORE_CORRUPT) {
            /* its schema is unreadable: the caller's quick_check, or the first statement, reports the corruption */
            sqlite3_free(msg);
            return db;
        }
        if (errbuf)
            snprintf(errbuf, errlen, "cannot configure database %s: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

/* Borrow a connection of the pool (opening one when none is idle) that waits at most busy_ms for a lock. */
static sqlite3 *acquire_busy(store *st, int busy_ms)
{
    sqlite3 *db = NULL;
    pthread_mutex_lock(&st->mu);
    if (st->nidle > 0)
        db = st->idle[--st->nidle];
    pthread_mutex_unlock(&st->mu);
    if (!db) {
        char err[512];
        db = conn_open(st->path, err, sizeof err);
        if (!db)
            util_log("%s", err);
    }
    if (db)
        sqlite3_busy_timeout(db, busy_ms);
    return db;
}

static sqlite3 *acquire(store *st)
{
    return acquire_busy(st, BUSY_MS);
}

static void release(store *st, sqlite3 *db)
{
    if (!db)
        return;
    if (!sqlite3_get_autocommit(db))   /* never hand back a connection inside a transaction */
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_lock(&st->mu);
    if (st->nidle < POOL_MAX) {
        st->idle[st->nidle++] = db;
        db = NULL;
    }
    pthread_mutex_unlock(&st->mu);
    if (db)
        sqlite3_close(db);
}

/* Prepare `sql` and bind the arguments described by `fmt`: 't' text (NULL binds SQL NULL), 'i' int64, 'd' double
 * (NaN and infinities bind NULL). NULL when the statement does not prepare (not logged: the caller calls fail). */
static sqlite3_stmt *vprep(sqlite3 *db, const char *sql, const char *fmt, va_list ap)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        return NULL;
    for (int i = 0; fmt && fmt[i]; i++) {
        if (fmt[i] == 't') {
            const char *v = va_arg(ap, const char *);
            if (v)
                sqlite3_bind_text(s, i + 1, v, -1, SQLITE_TRANSIENT);
            else
                sqlite3_bind_null(s, i + 1);
        } else if (fmt[i] == 'i') {
            sqlite3_bind_int64(s, i + 1, va_arg(ap, int64_t));
        } else {
            double x = va_arg(ap, double);
            if (isfinite(x))
                sqlite3_bind_double(s, i + 1, x);
            else
                sqlite3_bind_null(s, i + 1);
        }
    }
    return s;
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sqlite3_stmt *s = vprep(db, sql, fmt, ap);
    va_end(ap);
    return s;
}

static int vrun(store *st, sqlite3 *db, const char *what, const char *sql, const char *fmt, va_list ap)
{
    sqlite3_stmt *s = vprep(db, sql, fmt, ap);
    if (!s)
        return fail(st, db, what);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    }
    int ret = rc == SQLITE_DONE ? sqlite3_changes(db) : fail(st, db, what);
    sqlite3_finalize(s);
    return ret;
}

/* Run one statement to its end; the number of changed rows (>= 0) or a negative error (logged). */
static int run(store *st, sqlite3 *db, const char *what, const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int ret = vrun(st, db, what, sql, fmt, ap);
    va_end(ap);
    return ret;
}

/* run() on a connection of the pool: 1 when it changed a row, 0 when none, or a negative error. */
static int run1(store *st, const char *what, const char *sql, const char *fmt, ...)
{
    sqlite3 *db = acquire(st);
    if (!db)
        return STORE_ERROR;
    va_list ap;
    va_start(ap, fmt);
    int k = vrun(st, db, what, sql, fmt, ap);
    va_end(ap);
    release(st, db);
    return k < 0 ? k : k > 0;
}

/* BEGIN IMMEDIATE / COMMIT: 0 or a negative error. */
static int begin(store *st, sqlite3 *db)
{
    return sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0 : fail(st, db, "begin");
}

static int commit(store *st, sqlite3 *db)
{
    return sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : fail(st, db, "commit");
}

/* PRAGMA quick_check on `db`: 0 when it answers "ok", else -1 with the first problem in `why`. */
static int quick_check(sqlite3 *db, char *why, size_t cap)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &s, NULL) != SQLITE_OK) {
        snprintf(why, cap, "%s", sqlite3_errmsg(db));
        return -1;
    }
    int rc = sqlite3_step(s), ret = -1;
    if (rc == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(s, 0);
        ret = t && strcmp(t, "ok") == 0 ? 0 : -1;
        snprintf(why, cap, "%s", t ? t : "no answer");
    } else {
        snprintf(why, cap, "%s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(s);
    return ret;
}

static int exec_plain(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int apply_migrations(sqlite3 *db, char *errbuf, size_t errlen)
{
    sqlite3_stmt *s = NULL;
    /* WAL is persistent in the file: set once here, every later connection uses it. */
    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &s, NULL) != SQLITE_OK || sqlite3_step(s) != SQLITE_ROW
        || strcmp((const char *)sqlite3_column_text(s, 0), "wal") != 0) {
        snprintf(errbuf, errlen, "cannot switch the database to WAL mode: %s", sqlite3_errmsg(db));
        sqlite3_finalize(s);
        return -1;
    }
    sqlite3_finalize(s);
    if (exec_plain(db, "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")) {
        snprintf(errbuf, errlen, "cannot create schema_migrations: %s", sqlite3_errmsg(db));
        return -1;
    }
    for (int i = 0; i < migrations_count; i++) {
        const migration *m = &migrations[i];
        if (exec_plain(db, "BEGIN IMMEDIATE") != 0) {
            snprintf(errbuf, errlen, "cannot lock the database: %s", sqlite3_errmsg(db));
            return -1;
        }
        s = prep(db, "SELECT 1 FROM schema_migrations WHERE version = ?", "t", m->version);
        int rc = s ? sqlite3_step(s) : SQLITE_ERROR;
        sqlite3_finalize(s);
        if (rc == SQLITE_ROW) {
            exec_plain(db, "COMMIT");
            continue;
        }
        if (rc != SQLITE_DONE)
            goto fail;
        char *msg = NULL;
        if (sqlite3_exec(db, m->sql, NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(errbuf, errlen, "migration %s failed: %s", m->version, msg ? msg : "?");
            sqlite3_free(msg);
            exec_plain(db, "ROLLBACK");
            return -1;
        }
        char now[UTIL_TIME_LEN];
        util_now(now);
        s = prep(db, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", "tt", m->version, now);
        rc = s ? sqlite3_step(s) : SQLITE_ERROR;
        sqlite3_finalize(s);
        if (rc != SQLITE_DONE || exec_plain(db, "COMMIT") != 0)
            goto fail;
        util_log("applied migration %s", m->version);
    }
    return 0;
fail:
    snprintf(errbuf, errlen, "migrations failed: %s", sqlite3_errmsg(db));
    exec_plain(db, "ROLLBACK");
    return -1;
}

store *store_open(const char *path, char *errbuf, size_t errlen)
{
    /* Before SQLite initializes: every connection is used by one thread at a time (the pool), so the
     * per-connection mutexes are not needed, and memory statistics would take a global mutex on each malloc. */
    sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    store *st = calloc(1, sizeof *st);
    if (!st || !(st->path = strdup(path))) {
        free(st);
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&st->mu, NULL);
    atomic_init(&st->corrupt, 0);
    sqlite3 *db = conn_open(path, errbuf, errlen);
    char why[300];
    if (db && quick_check(db, why, sizeof why) != 0) {
        /* A malformed file would start, answer /healthz and accept submissions, and fail on whatever reads the
         * damaged pages: refuse it at once. */
        snprintf(errbuf, errlen, "database %s is corrupted (PRAGMA quick_check: %s): restore it from a backup or move it "
                 "away", path, why);
        sqlite3_close(db);
        store_close(st);
        return NULL;
    }
    if (!db || apply_migrations(db, errbuf, errlen) != 0) {
        sqlite3_close(db);
        store_close(st);
        return NULL;
    }
    release(st, db);
    return st;
}

void store_close(store *st)
{
    if (!st)
        return;
    for (int i = 0; i < st->nidle; i++)
        sqlite3_close(st->idle[i]);
    pthread_mutex_destroy(&st->mu);
    free(st->path);
    free(st);
}

const char *store_path(const store *st)
{
    return st->path;
}

/* ---- experiments ---- */

/* The status of experiment `id` into `status` (16 bytes): 1 found, 0 not, or a negative error. */
static int status_in(store *st, sqlite3 *db, const char *id, char status[16])
{
    sqlite3_stmt *s = prep(db, "SELECT status FROM experiments WHERE id = ?", "t", id);
    if (!s)
        return fail(st, db, "status");
    int rc = sqlite3_step(s), ret;
    if (rc == SQLITE_ROW) {
        snprintf(status, 16, "%s", (const char *)sqlite3_column_text(s, 0));
        ret = 1;
    } else {
        ret = rc == SQLITE_DONE ? 0 : fail(st, db, "status");
    }
    sqlite3_finalize(s);
    return ret;
}

int store_insert(store *st, const char *id, const char *name, const char *created_at, const char *spec, size_t spec_len,
                 const char *resolved_spec, const char *version, const char *const *tags, const char *key,
                 const char *body_sha256, char *existing)
{
    sqlite3 *db = acquire_busy(st, REQUEST_BUSY_MS);
    if (!db)
        return STORE_ERROR;
    int ret = begin(st, db);
    if (ret < 0)
        goto done;
    ret = STORE_ERROR;
    if (key) {
        sqlite3_stmt *s = prep(db, "SELECT body_sha256, experiment_id FROM idempotency_keys WHERE key = ?", "t", key);
        if (!s) {
            ret = fail(st, db, "idempotency key");
            goto done;
        }
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            int same = strcmp((const char *)sqlite3_column_text(s, 0), body_sha256) == 0;
            snprintf(existing, UTIL_ID_LEN + 8, "%s", (const char *)sqlite3_column_text(s, 1));
            ret = same ? STORE_KEY_SAME : STORE_KEY_CONFLICT;
        } else if (rc != SQLITE_DONE) {
            ret = fail(st, db, "idempotency key");
        }
        sqlite3_finalize(s);
        if (rc != SQLITE_DONE)
            goto done;
    }
    sqlite3_stmt *s = prep(db, "INSERT INTO experiments (id, name, status, progress, created_at, spec, resolved_spec, "
                               "version) VALUES (?, ?, 'queued', 0, ?, ?, ?, ?)", "ttt", id, name, created_at);
    if (!s) {
        ret = fail(st, db, "insert experiment");
        goto done;
    }
    sqlite3_bind_text(s, 4, spec, (int)spec_len, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, resolved_spec, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, version, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE)
        ret = sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_PRIMARYKEY ? STORE_ID_TAKEN
                                                                           : fail(st, db, "insert experiment");
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        goto done;
    for (int i = 0; tags && tags[i]; i++)
        if ((ret = run(st, db, "insert tag", "INSERT OR IGNORE INTO experiment_tags (tag, experiment_id) VALUES (?, ?)",
                       "tt", tags[i], id)) < 0)
            goto done;
    if (key && (ret = run(st, db, "insert idempotency key", "INSERT INTO idempotency_keys (key, body_sha256, "
                          "experiment_id, created_at) VALUES (?, ?, ?, ?)", "tttt", key, body_sha256, id, created_at)) < 0)
        goto done;
    ret = commit(st, db);
    if (ret == 0)
        ret = STORE_INSERTED;
done:
    release(st, db);   /* rolls back an unfinished transaction */
    return ret;
}

int store_cancel(store *st, const char *id, const char *now)
{
    sqlite3 *db = acquire_busy(st, REQUEST_BUSY_MS);
    if (!db)
        return STORE_ERROR;
    int ret = begin(st, db), k;
    if (ret < 0)
        goto done;
    if ((k = run(st, db, "cancel", "UPDATE experiments SET status = 'cancelled', finished_at = ?, cancel_requested = 1 "
                 "WHERE id = ? AND status = 'queued'", "tt", now, id)) < 0) {
        ret = k;
        goto done;
    }
    if (k) {
        ret = STORE_CANCEL_QUEUED;
    } else {
        if ((k = run(st, db, "cancel", "UPDATE experiments SET cancel_requested = 1 WHERE id = ? AND status = 'running'",
                     "t", id)) < 0) {
            ret = k;
            goto done;
        }
        if (k) {
            ret = STORE_CANCEL_RUNNING;
        } else {
            char status[16];
            if ((k = status_in(st, db, id, status)) < 0) {
                ret = k;
                goto done;
            }
            ret = k ? STORE_CANCEL_ENDED : STORE_CANCEL_NOT_FOUND;
        }
    }
    if ((k = commit(st, db)) < 0)
        ret = k;
done:
    release(st, db);
    return ret;
}

int store_delete(store *st, const char *id)
{
    sqlite3 *db = acquire_busy(st, REQUEST_BUSY_MS);
    if (!db)
        return STORE_ERROR;
    int ret = begin(st, db), k;
    if (ret < 0)
        goto done;
    if ((k = run(st, db, "delete", "DELETE FROM experiments WHERE id = ? AND status <> 'running'", "t", id)) < 0) {
        ret = k;
        goto done;
    }
    if (k) {
        ret = 1;
    } else {
        char status[16];
        if ((k = status_in(st, db, id, status)) < 0) {
            ret = k;
            goto done;
        }
        ret = k ? 2 : 0;
    }
    if ((k = commit(st, db)) < 0)
        ret = k;
done:
    release(st, db);
    return ret;
}

long store_db_count(store *st, const char *what, const char *sql, const char *fmt, ...)
{
    sqlite3 *db = acquire(st);
    if (!db)
        return STORE_ERROR;
    va_list ap;
    va_start(ap, fmt);
    sqlite3_stmt *s = vprep(db, sql, fmt, ap);
    va_end(ap);
    long ret = s && sqlite3_step(s) == SQLITE_ROW ? (long)sqlite3_column_int64(s, 0) : fail(st, db, what);
    sqlite3_finalize(s);
    release(st, db);
    return ret;
}

long store_count_status(store *st, const char *status)
{
    return store_db_count(st, "count", "SELECT count(*) FROM experiments WHERE status = ?", "t", status);
}

/* eta_seconds counts down from when it was estimated (eta_at, STORE_NOW_S), never below 0 */
#define EXP_COLS "id, name, status, progress, created_at, started_at, finished_at, error, spec, resolved_spec, version, " \
                 "cancel_requested, provenance, error_code, error_field, lease_owner, lease_expires_ms, " \
                 "CASE WHEN eta_seconds IS NULL OR eta_at IS NULL THEN eta_seconds ELSE " \
                 "max(0.0, eta_seconds - max(0.0, " STORE_NOW_S " - eta_at)) END"

static char *col_dup(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? strdup((const char *)t) : NULL;
}

static void read_experiment(sqlite3_stmt *s, store_experiment *e)
{
    memset(e, 0, sizeof *e);
    snprintf(e->id, sizeof e->id, "%s", (const char *)sqlite3_column_text(s, 0));
    e->name = col_dup(s, 1);
    snprintf(e->status, sizeof e->status, "%s", (const char *)sqlite3_column_text(s, 2));
    e->progress = sqlite3_column_double(s, 3);
    e->created_at = col_dup(s, 4);
    e->started_at = col_dup(s, 5);
    e->finished_at = col_dup(s, 6);
    e->error = col_dup(s, 7);
    e->spec = col_dup(s, 8);
    e->resolved_spec = col_dup(s, 9);
    e->version = col_dup(s, 10);
    e->cancel_requested = sqlite3_column_int(s, 11);
    e->provenance = col_dup(s, 12);
    e->error_code = col_dup(s, 13);
    e->error_field = col_dup(s, 14);
    e->lease_owner = col_dup(s, 15);
    e->lease_expires_ms = sqlite3_column_int64(s, 16);
    e->eta_seconds = sqlite3_column_type(s, 17) == SQLITE_NULL ? NAN : sqlite3_column_double(s, 17);
}

static int get_in(store *st, sqlite3 *db, const char *id, store_experiment *out)
{
    sqlite3_stmt *s = prep(db, "SELECT " EXP_COLS " FROM experiments WHERE id = ?", "t", id);
    if (!s)
        return fail(st, db, "get experiment");
    int rc = sqlite3_step(s), ret;
    if (rc == SQLITE_ROW) {
        read_experiment(s, out);
        ret = 1;
    } else {
        ret = rc == SQLITE_DONE ? 0 : fail(st, db, "get experiment");
    }
    sqlite3_finalize(s);
    return ret;
}

int store_get_experiment(store *st, const char *id, store_experiment *out)
{
    sqlite3 *db = acquire(st);
    if (!db)
        return STORE_ERROR;
    int ret = get_in(st, db, id, out);
    release(st, db);
    return ret;
}

int store_list_experiments(store *st, const store_filter *f, int limit, store_experiment **out, int *n)
{
    *out = NULL;
    *n = 0;
    char sql[2048];
    int k = snprintf(sql, sizeof sql, "SELECT " EXP_COLS " FROM experiments e "
                     "WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR instr(lower(name), lower(?2)) > 0) "
                     "AND (?3 IS NULL OR (created_at, id) < (?3, ?4))");
    int ntags = 0;
    while (f->tags && f->tags[ntags] && ntags < MAX_FILTER_TAGS)
        k += snprintf(sql + k, sizeof sql - (size_t)k, " AND EXISTS (SELECT 1 FROM experiment_tags t "
                      "WHERE t.tag = ?%d AND t.experiment_id = e.id)", 6 + ntags++);
    snprintf(sql + k, sizeof sql - (size_t)k, " ORDER BY created_at DESC, id DESC LIMIT ?5");
    sqlite3 *db = acquire(st);
    if (!db)
        return STORE_ERROR;
    int ret = STORE_ERROR;
    sqlite3_stmt *s = prep(db, sql, "ttttt", f->status, f->name_contains, f->after_created,
                           f->after_id ? f->after_id : "", NULL);
    store_experiment *v = limit > 0 ? calloc((size_t)limit, sizeof *v) : NULL;
    if (!s) {
        ret = fail(st, db, "list experiments");
    } else if (v || limit <= 0) {
        sqlite3_bind_int(s, 5, limit);
        for (int i = 0; i < ntags; i++)
            sqlite3_bind_text(s, 6 + i, f->tags[i], -1, SQLITE_STATIC);
        int got = 0, rc = SQLITE_DONE;
        while (got < limit && (rc = sqlite3_step(s)) == SQLITE_ROW)
            read_experiment(s, &v[got++]);
        if (got == limit || rc == SQLITE_DONE) {
            ret = 0;
            *out = v;
            *n = got;
            v = NULL;
        } else {
            ret = fail(st, db, "list experiments");
            store_experiments_free(v, got);
            v = NULL;
        }
    }
    free(v);
    sqlite3_finalize(s);
    release(st, db);
    return ret;
}

/* ---- points ---- */

int store_have_point(store *st, const char *id, const char *arm, size_t n_train, int repeat)
{
    sqlite3 *db = acquire(st);
    if (!db)
        return STORE_ERROR;
    sqlite3_stmt *s = prep(db, "SELECT 1 FROM points WHERE experiment_id = ? AND arm = ? AND n_train = ? AND repeat = ?",
                           "ttii", id, arm, (int64_t)n_train, (int64_t)repeat);
    int rc = s ? sqlite3_step(s) : SQLITE_ERROR;
    int ret = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : fail(st, db, "have point");
    sqlite3_finalize(s);
    release(st, db);
    return ret;
}

static double col_real(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL ? NAN : sqlite3_column_double(s, i);
}

static void col_copy(sqlite3_stmt *s, int i, char *dst, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

/* An arm's four name columns from column i on (arm, data, model, inference, as the points and spectra tables hold
 * them), into the fields of a dml_point or a dml_arm_spectrum (DML_ARM_MAX and DML_NAME_MAX bytes). */
static void col_arm(sqlite3_stmt *s, int i, char *arm, char *data, char *model, char *inference)
{
    col_copy(s, i, arm, DML_ARM_MAX);
    col_copy(s, i + 1, data, DML_NAME_MAX);
    col_copy(s, i + 2, model, DML_NAME_MAX);
    col_copy(s, i + 3, inference, DML_NAME_MAX);
}

int store_points(store *st, const char *id, point_list *out)
{
    sqlite3 *db = acquire(st);
    if (!db)
        return STORE_ERROR;
    sqlite3_stmt *s = prep(db, "SELECT arm_index, arm, data, model, inference, n_train, repeat, test_mse, test_accuracy, "
                               "train_mse, seconds, training_curve FROM points WHERE experiment_id = ? "
                               "ORDER BY arm_index, n_train, repeat, seq", "t", id);
    if (!s) {
        int k = fail(st, db, "points");
        release(st, db);
        return k;
    }
    int rc, ret = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        dml_point p;
        memset(&p, 0, sizeof p);
        col_arm(s, 1, p.arm, p.data, p.model, p.inference);
        p.n_train = (size_t)sqlite3_column_int64(s, 5);
        p.repeat = sqlite3_column_int(s, 6);
        p.test_mse = col_real(s, 7);
        p.test_accuracy = col_real(s, 8);
        p.train_mse = col_real(s, 9);
        p.seconds = col_real(s, 10);
        dml_train_epoch *curve = NULL;
        const unsigned char *ct = sqlite3_column_text(s, 11);
        if (ct) {
            cJSON *cj = cJSON_Parse((const char *)ct);
            dml_training_curve_parse(cj, &curve, &p.n_curve);
            p.curve = curve;
            cJSON_Delete(cj);
        }
        int bad = point_list_add(out, &p, sqlite3_column_int(s, 0)) != 0;
        free(curve);
        if (bad) {
            ret = STORE_ERROR;
            break;
        }
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = fail(st, db, "points");
    sqlite3_finalize(s);
    release(st, db);
    return ret;
}

int store_cancel_requested(store *st, const char *id)
{
    sqlite3 *db = acquire(st);
    if (!db)
        return STORE_ERROR;
    sqlite3_stmt *s = prep(db, "SELECT cancel_requested FROM experiments WHERE id = ?", "t", id);
    int rc = s ? sqlite3_step(s) : SQLITE_ERROR;
    int ret = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) != 0 : rc == SQLITE_DONE ? 0 : fail(st, db, "cancel requested");
    sqlite3_finalize(s);
    release(st, db);
    return ret;
}

/* ---- the lease protocol ---- */

/* The lease of a running experiment taken away: back to the queue, or cancelled when a cancel was requested. */
#define REQUEUE_SET "status = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'queued' END, " \
                    "finished_at = CASE WHEN cancel_requested THEN ?1 ELSE finished_at END, " \
                    "lease_owner = NULL, lease_expires_ms = NULL"

int store_claim(store *st, const char *owner, int64_t now_ms, int64_t lease_ms, const char *now, store_experiment *out)
{
    sqlite3 *db = acquire(st);
    if (!db)
        return STORE_ERROR;
    char id[UTIL_ID_LEN + 8] = "";
    int ret = begin(st, db), k;
    if (ret < 0)
        goto done;
    sqlite3_stmt *s = prep(db, "SELECT id FROM experiments WHERE status = 'queued' ORDER BY created_at, rowid LIMIT 1", "");
    int rc = s ? sqlite3_step(s) : SQLITE_ERROR;
    if (rc == SQLITE_ROW)
        snprintf(id, sizeof id, "%s", (const char *)sqlite3_column_text(s, 0));
    else
        ret = rc == SQLITE_DONE ? 0 : fail(st, db, "claim");
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW)
        goto done;
    if ((k = run(st, db, "claim", "UPDATE experiments SET status = 'running', started_at = COALESCE(started_at, ?), "
                 "lease_owner = ?, lease_expires_ms = ?, heartbeat_ms = ? WHERE id = ? AND status = 'queued'", "ttiit",
                 now, owner, now_ms + lease_ms, now_ms, id)) < 0) {
        ret = k;
        goto done;
    }
    if ((k = get_in(st, db, id, out)) != 1) {
        ret = k < 0 ? k : STORE_ERROR;
        goto done;
    }
    if ((k = commit(st, db)) < 0) {
        store_experiment_free(out);
        ret = k;
        goto done;
    }
    ret = 1;
done:
    release(st, db);   /* rolls back an unfinished transaction */
    return ret;
}

/* Extend the lease of `owner` on `id`: 1 held, 0 lost, or a negative error. */
static int renew_in(store *st, sqlite3 *db, const char *id, const char *owner, int64_t now_ms, int64_t lease_ms)
{
    int k = run(st, db, "renew lease", "UPDATE experiments SET lease_expires_ms = ?, heartbeat_ms = ? "
                "WHERE id = ? AND status = 'running' AND lease_owner = ?", "iitt", now_ms + lease_ms, now_ms, id, owner);
    return k < 0 ? k : k > 0;
}

int store_renew(store *st, const char *id, const char *owner, int64_t now_ms, int64_t lease_ms, int *cancel_requested)
{
    sqlite3 *db = acquire(st);
    if (!db)
        return STORE_ERROR;
    int ret = renew_in(st, db, id, owner, now_ms, lease_ms);
    if (ret == 1 && cancel_requested) {
        sqlite3_stmt *s = prep(db, "SELECT cancel_requested FROM experiments WHERE id = ?", "t", id);
        int rc = s ? sqlite3_step(s) : SQLITE_ERROR;
        *cancel_requested = rc == SQLITE_ROW && sqlite3_column_int(s, 0) != 0;
        sqlite3_finalize(s);
    }
    release(st, db);
    return ret;
}

int store_report_point(store *st, const char *id, const char *owner, int64_t now_ms, int64_t lease_ms, int arm_index,
                       const dml_point *p)
{
    sqlite3 *db = acquire(st);
    if (!db)
        return STORE_ERROR;
    int ret = begin(st, db);
    if (ret < 0)
        goto done;
    if ((ret = renew_in(st, db, id, owner, now_ms, lease_ms)) != 1)
        goto done;   /* lost (0) or an error: nothing stored */
    int k = store_db_insert_point(st, db, id, arm_index, p);
    ret = k < 0 ? k : commit(st, db);
    if (ret == 0)
        ret = 1;
done:
    release(st, db);
    return ret;
}

int store_db_insert_point(store *st, sqlite3 *db, const char *id, int arm_index, const dml_point *p)
{
    char *curve = NULL;
    if (p->curve && p->n_curve > 0) {
        cJSON *c = dml_training_curve_json(p->curve, p->n_curve);
        curve = c ? dml_json_print(c) : NULL;
        cJSON_Delete(c);
        if (!curve)
            return STORE_ERROR;
    }
    int k = run(st, db, "insert point", "INSERT OR IGNORE INTO points (experiment_id, arm_index, arm, data, model, inference, "
                "n_train, repeat, test_mse, test_accuracy, train_mse, seconds, training_curve) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "tittttiiddddt", id, (int64_t)arm_index, p->arm, p->data,
                p->model, p->inference, (int64_t)p->n_train, (int64_t)p->repeat, p->test_mse, p->test_accuracy,
                p->train_mse, p->seconds, curve);
    cJSON_free(curve);
    return k;
}

/* ---- the helpers of store_shards.c (store_internal.h) ---- */

sqlite3 *store_db_acquire(store *st)
{
    return acquire(st);
}

void store_db_release(store *st, sqlite3 *db)
{
    release(st, db);
}

sqlite3_stmt *store_db_prep(sqlite3 *db, const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sqlite3_stmt *s = vprep(db, sql, fmt, ap);
    va_end(ap);
    return s;
}

int store_db_run(store *st, sqlite3 *db, const char *what, const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int ret = vrun(st, db, what, sql, fmt, ap);
    va_end(ap);
    return ret;
}

int store_db_begin(store *st, sqlite3 *db)
{
    return begin(st, db);
}

int store_db_commit(store *st, sqlite3 *db)
{
    return commit(st, db);
}

int store_db_fail(store *st, sqlite3 *db, const char *what)
{
    return fail(st, db, what);
}

int store_db_get_experiment(store *st, sqlite3 *db, const char *id, store_experiment *out)
{
    return get_in(st, db, id, out);
}

char *store_db_col_dup(sqlite3_stmt *s, int i)
{
    return col_dup(s, i);
}

/* ---- spectra (the spectral readout of the kernel arms) ---- */

int store_have_spectrum(store *st, const char *id, const char *arm)
{
    sqlite3 *db = acquire(st);
    if (!db)
        return STORE_ERROR;
    sqlite3_stmt *s = prep(db, "SELECT 1 FROM spectra WHERE experiment_id = ? AND arm = ?", "tt", id, arm);
    int rc = s ? sqlite3_step(s) : SQLITE_ERROR;
    int ret = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : fail(st, db, "have spectrum");
    sqlite3_finalize(s);
    release(st, db);
    return ret;
}

/* The arrays are stored as little-endian doubles whatever the host's byte order. */
static void *le_doubles(const double *v, size_t n)
{
    unsigned char *b = v ? malloc(n * 8 + 1) : NULL;
    for (size_t i = 0; b && i < n; i++) {
        uint64_t u;
        memcpy(&u, &v[i], 8);
        for (int k = 0; k < 8; k++)
            b[i * 8 + (size_t)k] = (unsigned char)(u >> (8 * k));
    }
    return b;
}

static double *col_doubles(sqlite3_stmt *s, int i, size_t n, int *bad)
{
    if (sqlite3_column_type(s, i) == SQLITE_NULL)
        return NULL;
    const unsigned char *b = sqlite3_column_blob(s, i);
    double *v = (size_t)sqlite3_column_bytes(s, i) == n * 8 ? malloc(n * sizeof *v + 1) : NULL;
    for (size_t j = 0; v && j < n; j++) {
        uint64_t u = 0;
        for (int k = 0; k < 8; k++)
            u |= (uint64_t)b[j * 8 + (size_t)k] << (8 * k);
        memcpy(&v[j], &u, 8);
    }
    if (!v)
        *bad = 1;
    return v;
}

int store_report_spectrum(store *st, const char *id, const char *owner, int64_t now_ms, int64_t lease_ms, int arm_index,
                          const dml_arm_spectrum *a)
{
    const dml_spectrum *sp = a->spectrum;
    cJSON *pj = dml_predictions_json(a->pred, a->npred);
    char *pred = pj ? dml_json_print(pj) : NULL;
    cJSON_Delete(pj);
    void *ev = le_doubles(sp->eigenvalue, sp->n), *pw = le_doubles(sp->power, sp->n), *cu = le_doubles(sp->cumulative, sp->n);
    sqlite3 *db = NULL;
    int ret = STORE_ERROR;
    if (!pred || !ev || (sp->power && !pw) || (sp->cumulative && !cu) || sp->n > (size_t)1 << 27 || !(db = acquire(st)))
        goto out;
    if ((ret = begin(st, db)) < 0)
        goto done;
    if ((ret = renew_in(st, db, id, owner, now_ms, lease_ms)) != 1)
        goto done;   /* lost (0) or an error: nothing stored */
    sqlite3_stmt *s = prep(db, "INSERT OR IGNORE INTO spectra (experiment_id, arm_index, arm, data, model, inference, n, "
                           "outputs, ridge, label_noise, trace, target_power, alignment, effective_dimension, seconds, "
                           "predicted, eigenvalue, power, cumulative) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                           "?, ?, ?, ?)", "tittttiiddddddd", id, (int64_t)arm_index, a->arm, a->data, a->model,
                           a->inference, (int64_t)sp->n, (int64_t)sp->k, a->ridge, a->label_noise, sp->trace,
                           sp->target_power, sp->alignment, sp->effective_dimension, a->seconds);
    if (!s) {
        ret = fail(st, db, "insert spectrum");
        goto done;
    }
    /* the text and blobs bound apart (prep copies its text; these are large); a NULL array binds NULL */
    int bytes = (int)(sp->n * 8);
    sqlite3_bind_text(s, 16, pred, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 17, ev, bytes, SQLITE_STATIC);
    sqlite3_bind_blob(s, 18, pw, pw ? bytes : 0, SQLITE_STATIC);
    sqlite3_bind_blob(s, 19, cu, cu ? bytes : 0, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        ret = fail(st, db, "insert spectrum");
        goto done;
    }
    ret = commit(st, db);
    if (ret == 0)
        ret = 1;
done:
    release(st, db);
out:
    cJSON_free(pred);
    free(ev);
    free(pw);
    free(cu);
    return ret;
}

int store_spectra(store *st, const char *id, int arrays, spectrum_list *out)
{
    sqlite3 *db = acquire(st);
    if (!db)
        return STORE_ERROR;
    /* the blobs last: without them SQLite need not read their overflow pages */
    const char *sql = arrays ? "SELECT arm_index, arm, data, model, inference, n, outputs, ridge, label_noise, trace, "
                               "target_power, alignment, effective_dimension, seconds, predicted, eigenvalue, power, "
                               "cumulative FROM spectra WHERE experiment_id = ? ORDER BY arm_index, arm"
                             : "SELECT arm_index, arm, data, model, inference, n, outputs, ridge, label_noise, trace, "
                               "target_power, alignment, effective_dimension, seconds, predicted FROM spectra "
                               "WHERE experiment_id = ? ORDER BY arm_index, arm";
    sqlite3_stmt *s = prep(db, sql, "t", id);
    if (!s) {
        int k = fail(st, db, "spectra");
        release(st, db);
        return k;
    }
    int rc, ret = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        dml_arm_spectrum a;
        dml_spectrum sp;
        memset(&a, 0, sizeof a);
        memset(&sp, 0, sizeof sp);
        col_arm(s, 1, a.arm, a.data, a.model, a.inference);
        sp.n = (size_t)sqlite3_column_int64(s, 5);
        sp.k = (size_t)sqlite3_column_int64(s, 6);
        a.ridge = col_real(s, 7);
        a.label_noise = col_real(s, 8);
        sp.trace = col_real(s, 9);
        sp.target_power = col_real(s, 10);
        sp.alignment = col_real(s, 11);
        sp.effective_dimension = col_real(s, 12);
        a.seconds = col_real(s, 13);
        const unsigned char *pt = sqlite3_column_text(s, 14);
        cJSON *pj = pt ? cJSON_Parse((const char *)pt) : NULL;
        int np = dml_predictions_parse(pj, a.pred, DML_MAX_SIZES);
        cJSON_Delete(pj);
        a.npred = np > 0 ? np : 0;
        int bad = 0;
        if (arrays) {
            sp.eigenvalue = col_doubles(s, 15, sp.n, &bad);
            sp.power = col_doubles(s, 16, sp.n, &bad);
            sp.cumulative = col_doubles(s, 17, sp.n, &bad);
            bad |= !sp.eigenvalue;
        }
        if (bad) {
            free(sp.eigenvalue);
            free(sp.power);
            free(sp.cumulative);
            ret = STORE_ERROR;
            break;
        }
        if (spectrum_list_adopt(out, &a, &sp, sqlite3_column_int(s, 0)) != 0) {
            ret = STORE_ERROR;
            break;
        }
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = fail(st, db, "spectra");
    sqlite3_finalize(s);
    release(st, db);
    return ret;
}

/* ---- audit cells ---- */

int store_have_audit(store *st, const char *id, const char *arm, const char *group)
{
    sqlite3 *db = acquire(st);
    if (!db)
        return STORE_ERROR;
    sqlite3_stmt *s = prep(db, "SELECT 1 FROM audit WHERE experiment_id = ? AND arm = ? AND grp = ?", "ttt", id, arm,
                           group);
    int rc = s ? sqlite3_step(s) : SQLITE_ERROR;
    int ret = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : fail(st, db, "have audit");
    sqlite3_finalize(s);
    release(st, db);
    return ret;
}

int store_audit(store *st, const char *id, dml_audit_entry **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3 *db = acquire(st);
    if (!db)
        return STORE_ERROR;
    sqlite3_stmt *s = prep(db, "SELECT arm, grp, method, n_train, gap, seed_gap, threshold, invariant, seconds FROM audit "
                           "WHERE experiment_id = ? ORDER BY arm_index, grp", "t", id);
    int ret = s ? 0 : fail(st, db, "audit");
    size_t cap = 0;
    int rc = SQLITE_DONE;
    while (s && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            dml_audit_entry *v = realloc(*out, cap * sizeof *v);
            if (!v) {
                ret = STORE_ERROR;
                break;
            }
            *out = v;
        }
        dml_audit_entry *e = &(*out)[(*n)++];
        memset(e, 0, sizeof *e);
        col_copy(s, 0, e->arm, sizeof e->arm);
        char g[32], m[32];
        col_copy(s, 1, g, sizeof g);
        col_copy(s, 2, m, sizeof m);
        for (int k = 0; k < DML_N_TRANSFORMS; k++)
            if (strcmp(g, dml_transform_name((dml_transform_kind)k)) == 0)
                e->group = (dml_transform_kind)k;
        for (int k = 0; k < 3; k++)
            if (strcmp(m, dml_audit_method_name((dml_audit_method)k)) == 0)
                e->method = (dml_audit_method)k;
        e->n_train = (size_t)sqlite3_column_int64(s, 3);
        e->gap = col_real(s, 4);
        e->seed_gap = col_real(s, 5);
        e->threshold = col_real(s, 6);
        e->invariant = sqlite3_column_int(s, 7);
        e->seconds = col_real(s, 8);
    }
    if (s && ret == 0 && rc != SQLITE_DONE)
        ret = fail(st, db, "audit");
    sqlite3_finalize(s);
    release(st, db);
    if (ret) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return ret;
}

int store_report_audit(store *st, const char *id, const char *owner, int64_t now_ms, int64_t lease_ms, int arm_index,
                       const dml_audit_entry *e)
{
    sqlite3 *db = acquire(st);
    if (!db)
        return STORE_ERROR;
    int ret = begin(st, db);
    if (ret < 0)
        goto done;
    if ((ret = renew_in(st, db, id, owner, now_ms, lease_ms)) != 1)
        goto done;
    int k = run(st, db, "insert audit", "INSERT OR IGNORE INTO audit (experiment_id, arm_index, arm, grp, method, n_train, "
                "gap, seed_gap, threshold, invariant, seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "titttidddid", id,
                (int64_t)arm_index, e->arm, dml_transform_name(e->group), dml_audit_method_name(e->method),
                (int64_t)e->n_train, e->gap, e->seed_gap, e->threshold, (int64_t)e->invariant, e->seconds);
    ret = k < 0 ? k : commit(st, db);
    if (ret == 0)
        ret = 1;
done:
    release(st, db);
    return ret;
}

int store_set_progress(store *st, const char *id, const char *owner, double progress)
{
    return run1(st, "set progress", "UPDATE experiments SET progress = ? WHERE id = ? AND status = 'running' "
                "AND lease_owner = ?", "dtt", progress < 0 ? 0 : progress > 1 ? 1 : progress, id, owner);
}

int store_set_tile_progress(store *st, const char *id, const char *owner, double progress, double eta_seconds)
{
    if (eta_seconds < 0)
        return run1(st, "set progress", "UPDATE experiments SET progress = ?, eta_seconds = NULL WHERE id = ? AND "
                    "status = 'running' AND lease_owner = ?", "dtt", progress < 0 ? 0 : progress > 1 ? 1 : progress, id, owner);
    return run1(st, "set progress", "UPDATE experiments SET progress = ?, eta_seconds = ?, eta_at = " STORE_NOW_S " WHERE id = ? AND "
                "status = 'running' AND lease_owner = ?", "ddtt", progress < 0 ? 0 : progress > 1 ? 1 : progress,
                eta_seconds, id, owner);
}

int store_set_provenance(store *st, const char *id, const char *owner, const char *provenance)
{
    return run1(st, "set provenance", "UPDATE experiments SET provenance = ? WHERE id = ? AND status = 'running' "
                "AND lease_owner = ?", "ttt", provenance, id, owner);
}

int store_release(store *st, const char *id, const char *owner)
{
    char now[UTIL_TIME_LEN];
    util_now(now);
    return run1(st, "release", "UPDATE experiments SET " REQUEUE_SET " WHERE id = ?2 AND status = 'running' "
                "AND lease_owner = ?3", "ttt", now, id, owner);
}

int store_finish(store *st, const char *id, const char *owner, const char *status, const char *code, const char *field,
                 const char *message, const char *now)
{
    return run1(st, "finish", "UPDATE experiments SET status = ?1, error = ?2, error_code = ?3, error_field = ?4, "
                "finished_at = ?5, progress = CASE WHEN ?1 = 'succeeded' THEN 1 ELSE progress END, lease_owner = NULL, "
                "lease_expires_ms = NULL WHERE id = ?6 AND status = 'running' AND lease_owner = ?7", "ttttttt", status,
                message, code, field && *field ? field : NULL, now, id, owner);
}

int store_expire_leases(store *st, int64_t now_ms, store_owner_gone gone, void *ctx, const char *now)
{
    sqlite3 *db = acquire(st);
    if (!db)
        return STORE_ERROR;
    int total = run(st, db, "expire leases", "UPDATE experiments SET " REQUEUE_SET " WHERE status = 'running' AND "
                    "(lease_owner IS NULL OR lease_expires_ms IS NULL OR lease_expires_ms < ?2)", "ti", now, now_ms);
    if (total < 0 || !gone)
        goto done;
    /* Owners known to be gone: collect them first, then re-queue each only if the same owner still holds it. */
    sqlite3_stmt *s = prep(db, "SELECT id, lease_owner FROM experiments WHERE status = 'running'", "");
    if (!s) {
        total = fail(st, db, "expire leases");
        goto done;
    }
    char (*ids)[UTIL_ID_LEN + 8] = NULL;
    char (*owners)[256] = NULL;
    int n = 0, cap = 0, rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(s, 0), *ow = (const char *)sqlite3_column_text(s, 1);
        if (!id || !ow || !gone(ctx, ow))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 8;
            void *a = realloc(ids, (size_t)cap * sizeof *ids), *b = a ? realloc(owners, (size_t)cap * sizeof *owners) : NULL;
            if (a)
                ids = a;
            if (b)
                owners = b;
            if (!a || !b)
                break;
        }
        snprintf(ids[n], sizeof ids[n], "%s", id);
        snprintf(owners[n], sizeof owners[n], "%s", ow);
        n++;
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        total = fail(st, db, "expire leases");
    sqlite3_finalize(s);
    for (int i = 0; i < n && total >= 0; i++) {
        int k = run(st, db, "expire lease", "UPDATE experiments SET " REQUEUE_SET " WHERE id = ?2 AND status = 'running' "
                    "AND lease_owner = ?3", "ttt", now, ids[i], owners[i]);
        total = k < 0 ? k : total + k;
    }
    free(ids);
    free(owners);
done:
    release(st, db);
    return total;
}

/* ---- health ---- */

int store_health(store *st, char *reason, size_t cap)
{
    if (atomic_load(&st->corrupt)) {
        pthread_mutex_lock(&st->mu);
        snprintf(reason, cap, "%s", st->fault);
        pthread_mutex_unlock(&st->mu);
        return STORE_CORRUPT;
    }
    sqlite3 *db = acquire(st);
    if (!db) {
        snprintf(reason, cap, "database %s cannot be opened", st->path);
        return STORE_ERROR;
    }
    /* the newest experiment through its index: a few pages, whatever the size of the table */
    sqlite3_stmt *s = prep(db, "SELECT id, status FROM experiments ORDER BY created_at DESC, id DESC LIMIT 1", "");
    int rc = s ? sqlite3_step(s) : SQLITE_ERROR, ret = 0;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        snprintf(reason, cap, "database %s cannot be read: %s", st->path, sqlite3_errmsg(db));
        ret = fail(st, db, "health");
    }
    sqlite3_finalize(s);
    release(st, db);
    return ret;
}

int store_check_integrity(store *st, char *reason, size_t cap)
{
    char err[512], why[300];
    sqlite3 *db = conn_open(st->path, err, sizeof err);   /* not pooled: its page cache is empty */
    if (!db) {
        snprintf(reason, cap, "%s", err);
        return STORE_ERROR;
    }
    int ret = 0;
    if (quick_check(db, why, sizeof why) != 0) {
        int k = classify(sqlite3_extended_errcode(db));
        /* a lock or a full disk does not make the file malformed; anything else quick_check reports does */
        ret = k == STORE_BUSY || k == STORE_FULL ? k : STORE_CORRUPT;
        snprintf(reason, cap, "database %s: PRAGMA quick_check: %s", st->path, why);
        if (ret == STORE_CORRUPT)
            remember_corrupt(st, why);
    }
    sqlite3_close(db);
    return ret;
}

void store_experiment_free(store_experiment *e)
{
    if (!e)
        return;
    free(e->name);
    free(e->created_at);
    free(e->started_at);
    free(e->finished_at);
    free(e->error);
    free(e->error_code);
    free(e->error_field);
    free(e->spec);
    free(e->resolved_spec);
    free(e->version);
    free(e->provenance);
    free(e->lease_owner);
    memset(e, 0, sizeof *e);
}

void store_experiments_free(store_experiment *v, int n)
{
    for (int i = 0; i < n; i++)
        store_experiment_free(&v[i]);
    free(v);
}
