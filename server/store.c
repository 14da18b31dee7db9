/* dmilab server: the SQLite store. See store.h. */
#include "store.h"
#include "dmilab/json.h"

#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrations.h"
#include "dmilab/results.h"

#define POOL_MAX 16
#define BUSY_TIMEOUT_MS 10000

struct store {
    char *path;
    pthread_mutex_t mu;
    sqlite3 *idle[POOL_MAX];
    int nidle;
};

static void log_db(sqlite3 *db, const char *what)
{
    util_log("sqlite: %s: %s", what, db ? sqlite3_errmsg(db) : "no connection");
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
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    char *msg = NULL;
    if (sqlite3_exec(db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;", NULL, NULL, &msg) != SQLITE_OK) {
        if (errbuf)
            snprintf(errbuf, errlen, "cannot configure database %s: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

/* Borrow a connection of the pool (opening one when none is idle). */
static sqlite3 *acquire(store *st)
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
    return db;
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

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        log_db(db, sql);
        return NULL;
    }
    return s;
}

static int exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        util_log("sqlite: %s: %s", sql, msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
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
    if (exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                 "version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)") != 0) {
        snprintf(errbuf, errlen, "cannot create schema_migrations: %s", sqlite3_errmsg(db));
        return -1;
    }
    for (int i = 0; i < migrations_count; i++) {
        const migration *m = &migrations[i];
        if (exec(db, "BEGIN IMMEDIATE") != 0) {
            snprintf(errbuf, errlen, "cannot lock the database: %s", sqlite3_errmsg(db));
            return -1;
        }
        s = prepare(db, "SELECT 1 FROM schema_migrations WHERE version = ?");
        if (!s)
            goto fail;
        sqlite3_bind_text(s, 1, m->version, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        sqlite3_finalize(s);
        if (rc == SQLITE_ROW) {
            exec(db, "COMMIT");
            continue;
        }
        if (rc != SQLITE_DONE)
            goto fail;
        char *msg = NULL;
        if (sqlite3_exec(db, m->sql, NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(errbuf, errlen, "migration %s failed: %s", m->version, msg ? msg : "?");
            sqlite3_free(msg);
            exec(db, "ROLLBACK");
            return -1;
        }
        char now[UTIL_TIME_LEN];
        util_now(now);
        s = prepare(db, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)");
        if (!s)
            goto fail;
        sqlite3_bind_text(s, 1, m->version, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, now, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        sqlite3_finalize(s);
        if (rc != SQLITE_DONE || exec(db, "COMMIT") != 0)
            goto fail;
        util_log("applied migration %s", m->version);
    }
    return 0;
fail:
    snprintf(errbuf, errlen, "migrations failed: %s", sqlite3_errmsg(db));
    exec(db, "ROLLBACK");
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
    sqlite3 *db = conn_open(path, errbuf, errlen);
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

/* Run one statement with text parameters (NULL binds SQL NULL); the number of changed rows or -1. */
static int run_text(store *st, const char *sql, int nparam, const char *const *params)
{
    sqlite3 *db = acquire(st);
    if (!db)
        return -1;
    sqlite3_stmt *s = prepare(db, sql);
    int ret = -1;
    if (s) {
        for (int i = 0; i < nparam; i++)
            sqlite3_bind_text(s, i + 1, params[i], -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_DONE)
            ret = sqlite3_changes(db);
        else
            log_db(db, sql);
        sqlite3_finalize(s);
    }
    release(st, db);
    return ret;
}

int store_requeue_running(store *st)
{
    return run_text(st, "UPDATE experiments SET status = 'queued' WHERE status = 'running'", 0, NULL);
}

int store_insert_experiment(store *st, const char *id, const char *name, const char *created_at,
                            const char *spec, size_t spec_len, const char *resolved_spec,
                            const char *version)
{
    sqlite3 *db = acquire(st);
    if (!db)
        return -1;
    sqlite3_stmt *s = prepare(db, "INSERT INTO experiments (id, name, status, progress, created_at, spec, "
                                  "resolved_spec, version) VALUES (?, ?, 'queued', 0, ?, ?, ?, ?)");
    int ret = -1;
    if (s) {
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, created_at, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, spec, (int)spec_len, SQLITE_STATIC);
        sqlite3_bind_text(s, 5, resolved_spec, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 6, version, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_DONE)
            ret = 0;
        else if (sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_PRIMARYKEY)
            ret = 1;
        else
            log_db(db, "insert experiment");
        sqlite3_finalize(s);
    }
    release(st, db);
    return ret;
}

/* One step of a statement with text parameters; the SQLite result code. */
static int step_text(sqlite3 *db, const char *sql, int nparam, const char *const *params, int *changes)
{
    sqlite3_stmt *s = prepare(db, sql);
    if (!s)
        return SQLITE_ERROR;
    for (int i = 0; i < nparam; i++)
        sqlite3_bind_text(s, i + 1, params[i], -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        log_db(db, sql);
    sqlite3_finalize(s);
    if (changes)
        *changes = sqlite3_changes(db);
    return rc;
}

/* The status of experiment `id` into `status` (16 bytes): 1 found, 0 not, -1 error. */
static int status_in(sqlite3 *db, const char *id, char status[16])
{
    sqlite3_stmt *s = prepare(db, "SELECT status FROM experiments WHERE id = ?");
    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s), ret = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
    if (ret == 1)
        snprintf(status, 16, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return ret;
}

int store_insert_idempotent(store *st, const char *id, const char *name, const char *created_at, const char *spec,
                            size_t spec_len, const char *resolved_spec, const char *version, const char *key,
                            const char *body_sha256, char *existing)
{
    if (!key)
        return store_insert_experiment(st, id, name, created_at, spec, spec_len, resolved_spec, version);
    sqlite3 *db = acquire(st);
    if (!db)
        return -1;
    int ret = -1;
    if (exec(db, "BEGIN IMMEDIATE") != 0)
        goto done;
    sqlite3_stmt *s = prepare(db, "SELECT body_sha256, experiment_id FROM idempotency_keys WHERE key = ?");
    if (!s)
        goto done;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        ret = strcmp((const char *)sqlite3_column_text(s, 0), body_sha256) == 0 ? STORE_KEY_SAME : STORE_KEY_CONFLICT;
        snprintf(existing, UTIL_ID_LEN + 8, "%s", (const char *)sqlite3_column_text(s, 1));
    }
    sqlite3_finalize(s);
    if (rc == SQLITE_ROW || rc != SQLITE_DONE)
        goto done;
    s = prepare(db, "INSERT INTO experiments (id, name, status, progress, created_at, spec, "
                    "resolved_spec, version) VALUES (?, ?, 'queued', 0, ?, ?, ?, ?)");
    if (!s)
        goto done;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, created_at, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, spec, (int)spec_len, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, resolved_spec, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, version, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    int taken = rc != SQLITE_DONE && sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_PRIMARYKEY;
    sqlite3_finalize(s);
    if (taken) {
        ret = STORE_ID_TAKEN;
        goto done;
    }
    if (rc != SQLITE_DONE)
        goto done;
    const char *p[] = {key, body_sha256, id, created_at};
    if (step_text(db, "INSERT INTO idempotency_keys (key, body_sha256, experiment_id, created_at) VALUES (?, ?, ?, ?)",
                  4, p, NULL) != SQLITE_DONE)
        goto done;
    if (exec(db, "COMMIT") != 0)
        goto done;
    ret = STORE_INSERTED;
done:
    if (ret < 0)
        log_db(db, "insert with idempotency key");
    release(st, db);   /* rolls back an unfinished transaction */
    return ret;
}

int store_cancel(store *st, const char *id, const char *now)
{
    sqlite3 *db = acquire(st);
    if (!db)
        return -1;
    int ret = -1, changes = 0;
    if (exec(db, "BEGIN IMMEDIATE") != 0)
        goto done;
    const char *p1[] = {now, id};
    if (step_text(db, "UPDATE experiments SET status = 'cancelled', finished_at = ?, cancel_requested = 1 "
                      "WHERE id = ? AND status = 'queued'", 2, p1, &changes) != SQLITE_DONE)
        goto done;
    if (changes) {
        ret = STORE_CANCEL_QUEUED;
    } else {
        const char *p2[] = {id};
        if (step_text(db, "UPDATE experiments SET cancel_requested = 1 WHERE id = ? AND status = 'running'", 1, p2,
                      &changes) != SQLITE_DONE)
            goto done;
        if (changes) {
            ret = STORE_CANCEL_RUNNING;
        } else {
            char status[16];
            int k = status_in(db, id, status);
            if (k < 0)
                goto done;
            ret = k ? STORE_CANCEL_ENDED : STORE_CANCEL_NOT_FOUND;
        }
    }
    if (exec(db, "COMMIT") != 0)
        ret = -1;
done:
    release(st, db);
    return ret;
}

int store_delete(store *st, const char *id)
{
    sqlite3 *db = acquire(st);
    if (!db)
        return -1;
    int ret = -1, changes = 0;
    if (exec(db, "BEGIN IMMEDIATE") != 0)
        goto done;
    const char *p[] = {id};
    if (step_text(db, "DELETE FROM experiments WHERE id = ? AND status <> 'running'", 1, p, &changes) != SQLITE_DONE)
        goto done;
    if (changes) {
        ret = 1;
    } else {
        char status[16];
        int k = status_in(db, id, status);
        if (k < 0)
            goto done;
        ret = k ? 2 : 0;
    }
    if (exec(db, "COMMIT") != 0)
        ret = -1;
done:
    release(st, db);
    return ret;
}

int store_set_provenance(store *st, const char *id, const char *provenance)
{
    const char *p[] = {provenance, id};
    return run_text(st, "UPDATE experiments SET provenance = ? WHERE id = ?", 2, p) < 0 ? -1 : 0;
}

long store_count_status(store *st, const char *status)
{
    sqlite3 *db = acquire(st);
    if (!db)
        return -1;
    sqlite3_stmt *s = prepare(db, "SELECT count(*) FROM experiments WHERE status = ?");
    long ret = -1;
    if (s) {
        sqlite3_bind_text(s, 1, status, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW)
            ret = (long)sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
    }
    release(st, db);
    return ret;
}

#define EXP_COLS "id, name, status, progress, created_at, started_at, finished_at, error, spec, " \
                 "resolved_spec, version, cancel_requested, provenance"

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
}

static int get_in(sqlite3 *db, const char *id, store_experiment *out)
{
    sqlite3_stmt *s = prepare(db, "SELECT " EXP_COLS " FROM experiments WHERE id = ?");
    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s), ret;
    if (rc == SQLITE_ROW) {
        read_experiment(s, out);
        ret = 1;
    } else if (rc == SQLITE_DONE) {
        ret = 0;
    } else {
        log_db(db, "get experiment");
        ret = -1;
    }
    sqlite3_finalize(s);
    return ret;
}

int store_get_experiment(store *st, const char *id, store_experiment *out)
{
    sqlite3 *db = acquire(st);
    if (!db)
        return -1;
    int ret = get_in(db, id, out);
    release(st, db);
    return ret;
}

int store_list_experiments(store *st, const char *status, const char *after_created, const char *after_id,
                           int limit, store_experiment **out, int *n)
{
    *out = NULL;
    *n = 0;
    sqlite3 *db = acquire(st);
    if (!db)
        return -1;
    sqlite3_stmt *s = prepare(db, "SELECT " EXP_COLS " FROM experiments "
                                  "WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR (created_at, id) < (?2, ?3)) "
                                  "ORDER BY created_at DESC, id DESC LIMIT ?4");
    int ret = -1;
    store_experiment *v = limit > 0 ? calloc((size_t)limit, sizeof *v) : NULL;
    if (s && (v || limit <= 0)) {
        sqlite3_bind_text(s, 1, status, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, after_created, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, after_id ? after_id : "", -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 4, limit);
        int k = 0, rc = SQLITE_DONE;
        while (k < limit && (rc = sqlite3_step(s)) == SQLITE_ROW)
            read_experiment(s, &v[k++]);
        if (k == limit || rc == SQLITE_DONE) {
            ret = 0;
            *out = v;
            *n = k;
            v = NULL;
        } else {
            log_db(db, "list experiments");
            store_experiments_free(v, k);
            v = NULL;
        }
    }
    free(v);
    sqlite3_finalize(s);
    release(st, db);
    return ret;
}

int store_claim(store *st, const char *now, store_experiment *out)
{
    sqlite3 *db = acquire(st);
    if (!db)
        return -1;
    int ret = -1;
    char id[UTIL_ID_LEN + 8] = "";
    if (exec(db, "BEGIN IMMEDIATE") != 0)
        goto done;
    sqlite3_stmt *s = prepare(db, "SELECT id FROM experiments WHERE status = 'queued' "
                                  "ORDER BY created_at, rowid LIMIT 1");
    if (!s)
        goto done;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        snprintf(id, sizeof id, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    if (rc == SQLITE_DONE) {
        ret = 0;
        goto done;
    }
    if (rc != SQLITE_ROW)
        goto done;
    s = prepare(db, "UPDATE experiments SET status = 'running', started_at = COALESCE(started_at, ?) "
                    "WHERE id = ? AND status = 'queued'");
    if (!s)
        goto done;
    sqlite3_bind_text(s, 1, now, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE || get_in(db, id, out) != 1)
        goto done;
    if (exec(db, "COMMIT") != 0) {
        store_experiment_free(out);
        goto done;
    }
    ret = 1;
done:
    if (ret < 0)
        log_db(db, "claim");
    release(st, db);   /* rolls back an unfinished transaction */
    return ret;
}

int store_have_point(store *st, const char *id, const char *arm, size_t n_train, int repeat)
{
    sqlite3 *db = acquire(st);
    if (!db)
        return -1;
    sqlite3_stmt *s = prepare(db, "SELECT 1 FROM points WHERE experiment_id = ? AND arm = ? "
                                  "AND n_train = ? AND repeat = ?");
    int ret = -1;
    if (s) {
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, arm, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, (sqlite3_int64)n_train);
        sqlite3_bind_int(s, 4, repeat);
        int rc = sqlite3_step(s);
        ret = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
        sqlite3_finalize(s);
    }
    release(st, db);
    return ret;
}

static void bind_real(sqlite3_stmt *s, int i, double x)
{
    if (isfinite(x))
        sqlite3_bind_double(s, i, x);
    else
        sqlite3_bind_null(s, i);
}

int store_insert_point(store *st, const char *id, int arm_index, const dml_point *p)
{
    sqlite3 *db = acquire(st);
    if (!db)
        return -1;
    sqlite3_stmt *s = prepare(db, "INSERT OR IGNORE INTO points (experiment_id, arm_index, arm, data, model, "
                                  "inference, n_train, repeat, test_mse, test_accuracy, train_mse, seconds, "
                                  "training_curve) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    char *curve = NULL;
    if (p->curve && p->n_curve > 0) {
        cJSON *c = dml_training_curve_json(p->curve, p->n_curve);
        curve = dml_json_print(c);
        cJSON_Delete(c);
    }
    int ret = -1;
    if (s) {
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 2, arm_index);
        sqlite3_bind_text(s, 3, p->arm, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, p->data, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 5, p->model, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 6, p->inference, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 7, (sqlite3_int64)p->n_train);
        sqlite3_bind_int(s, 8, p->repeat);
        bind_real(s, 9, p->test_mse);
        bind_real(s, 10, p->test_accuracy);
        bind_real(s, 11, p->train_mse);
        bind_real(s, 12, p->seconds);
        if (curve)
            sqlite3_bind_text(s, 13, curve, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(s, 13);
        if (sqlite3_step(s) == SQLITE_DONE)
            ret = 0;
        else
            log_db(db, "insert point");
        sqlite3_finalize(s);
    }
    release(st, db);
    cJSON_free(curve);
    return ret;
}

int store_set_progress(store *st, const char *id, double progress)
{
    sqlite3 *db = acquire(st);
    if (!db)
        return -1;
    sqlite3_stmt *s = prepare(db, "UPDATE experiments SET progress = ? WHERE id = ? AND status = 'running'");
    int ret = -1;
    if (s) {
        sqlite3_bind_double(s, 1, progress < 0 ? 0 : progress > 1 ? 1 : progress);
        sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
        ret = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
        if (ret)
            log_db(db, "set progress");
        sqlite3_finalize(s);
    }
    release(st, db);
    return ret;
}

int store_finish(store *st, const char *id, const char *status, const char *error, const char *now)
{
    const char *p[] = {status, error, now, status, id};
    return run_text(st, "UPDATE experiments SET status = ?, error = ?, finished_at = ?, "
                        "progress = CASE WHEN ? = 'succeeded' THEN 1 ELSE progress END WHERE id = ?",
                    5, p) < 0 ? -1 : 0;
}

int store_cancel_requested(store *st, const char *id)
{
    sqlite3 *db = acquire(st);
    if (!db)
        return -1;
    sqlite3_stmt *s = prepare(db, "SELECT cancel_requested FROM experiments WHERE id = ?");
    int ret = -1;
    if (s) {
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        ret = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) != 0 : rc == SQLITE_DONE ? 0 : -1;
        sqlite3_finalize(s);
    }
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

int store_points(store *st, const char *id, point_list *out)
{
    sqlite3 *db = acquire(st);
    if (!db)
        return -1;
    sqlite3_stmt *s = prepare(db, "SELECT arm_index, arm, data, model, inference, n_train, repeat, test_mse, "
                                  "test_accuracy, train_mse, seconds, training_curve FROM points WHERE experiment_id = ? "
                                  "ORDER BY arm_index, n_train, repeat, seq");
    int ret = -1;
    if (s) {
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        int rc;
        ret = 0;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            dml_point p;
            memset(&p, 0, sizeof p);
            col_copy(s, 1, p.arm, sizeof p.arm);
            col_copy(s, 2, p.data, sizeof p.data);
            col_copy(s, 3, p.model, sizeof p.model);
            col_copy(s, 4, p.inference, sizeof p.inference);
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
                ret = -1;
                break;
            }
        }
        if (ret == 0 && rc != SQLITE_DONE) {
            log_db(db, "points");
            ret = -1;
        }
        sqlite3_finalize(s);
    }
    release(st, db);
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
    free(e->spec);
    free(e->resolved_spec);
    free(e->version);
    free(e->provenance);
    memset(e, 0, sizeof *e);
}

void store_experiments_free(store_experiment *v, int n)
{
    for (int i = 0; i < n; i++)
        store_experiment_free(&v[i]);
    free(v);
}
