/* dmilab server: the shards of running experiments in the store. See store_shards.h. */
#include "store_shards.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

/* A shard `s` whose dependencies (the shards [after_from, after_to) of its experiment) are all done. */
#define UNBLOCKED                                                                                                       \
    "(s.after_to IS NULL OR s.after_to <= s.after_from OR NOT EXISTS (SELECT 1 FROM shards d WHERE d.experiment_id = "  \
    "s.experiment_id AND d.idx >= s.after_from AND d.idx < s.after_to AND d.status != 'done'))"

/* A shard's share of its experiment's progress: its weight (tile shards and solves: their share of the kernel's
 * cost-model seconds), else its points. */
#define WEIGHT "COALESCE(weight, points)"

void store_shard_free(store_shard *s)
{
    free(s->unit);
    free(s->resolved_spec);
    free(s->provenance);
    s->unit = s->resolved_spec = s->provenance = NULL;
}

int store_shards_plan(store *st, const char *id, const store_shard_plan *v, int n)
{
    sqlite3 *db = store_db_acquire(st);
    if (!db)
        return STORE_ERROR;
    int ret = store_db_begin(st, db);
    if (ret < 0)
        goto done;
    sqlite3_stmt *s = store_db_prep(db, "SELECT count(*) FROM shards WHERE experiment_id = ?", "t", id);
    int rc = s ? sqlite3_step(s) : SQLITE_ERROR;
    long have = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    if (have < 0) {
        ret = store_db_fail(st, db, "plan shards");
        goto done;
    }
    if (have > 0) {
        ret = 0;
        goto done;
    }
    for (int i = 0; i < n; i++) {
        int dep = v[i].after_to > v[i].after_from;
        int k = store_db_run(st, db, "plan shards", "INSERT INTO shards (experiment_id, idx, kind, unit, points, status, "
                             "after_from, after_to, weight) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", "tittitiid", id, (int64_t)i,
                             v[i].kind, v[i].unit, (int64_t)v[i].points, v[i].done ? "done" : "queued",
                             (int64_t)(dep ? v[i].after_from : 0), (int64_t)(dep ? v[i].after_to : 0),
                             v[i].weight > 0 ? v[i].weight : NAN);
        if (k < 0) {
            ret = k;
            goto done;
        }
    }
    ret = store_db_commit(st, db);
    if (ret == 0)
        ret = 1;
done:
    store_db_release(st, db);
    return ret;
}

int store_shard_reopen(store *st, const char *id, int idx, const char *unit)
{
    sqlite3 *db = store_db_acquire(st);
    if (!db)
        return STORE_ERROR;
    int k = store_db_run(st, db, "reopen shard", "UPDATE shards SET status = 'queued' WHERE experiment_id = ? AND idx = ? "
                         "AND status = 'done' AND unit = ?", "tit", id, (int64_t)idx, unit);
    store_db_release(st, db);
    return k < 0 ? k : k > 0;
}

static int seen_in(store *st, sqlite3 *db, const char *worker, int threads, const char *slurm_job, int64_t now_ms)
{
    return store_db_run(st, db, "worker seen", "INSERT INTO workers (owner, threads, slurm_job, last_seen_ms) "
                        "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (owner) DO UPDATE SET last_seen_ms = ?4, "
                        "threads = COALESCE(?2, threads), slurm_job = COALESCE(?3, slurm_job)", "titi", worker,
                        (int64_t)threads, slurm_job, now_ms);
}

int store_shard_claim(store *st, const char *worker, int threads, const char *slurm_job, int64_t now_ms, int64_t lease_ms,
                      store_shard *out)
{
    memset(out, 0, sizeof *out);
    sqlite3 *db = store_db_acquire(st);
    if (!db)
        return STORE_ERROR;
    int ret = store_db_begin(st, db), k;
    if (ret < 0)
        goto done;
    if ((k = seen_in(st, db, worker, threads, slurm_job, now_ms)) < 0) {
        ret = k;
        goto done;
    }
    sqlite3_stmt *s = store_db_prep(db, "SELECT s.experiment_id, s.idx, s.kind, s.unit, s.points, s.claims, "
                                    "e.resolved_spec, e.provenance, s.after_from, s.after_to FROM shards s JOIN experiments e "
                                    "ON e.id = s.experiment_id WHERE s.status = 'queued' AND e.status = 'running' AND "
                                    "e.cancel_requested = 0 AND " UNBLOCKED " ORDER BY e.started_at, e.rowid, s.idx LIMIT 1",
                                    "");
    int rc = s ? sqlite3_step(s) : SQLITE_ERROR;
    if (rc == SQLITE_ROW) {
        snprintf(out->experiment_id, sizeof out->experiment_id, "%s", (const char *)sqlite3_column_text(s, 0));
        out->idx = sqlite3_column_int(s, 1);
        snprintf(out->kind, sizeof out->kind, "%s", (const char *)sqlite3_column_text(s, 2));
        out->unit = store_db_col_dup(s, 3);
        out->points = sqlite3_column_int(s, 4);
        out->claims = sqlite3_column_int(s, 5) + 1;
        out->resolved_spec = store_db_col_dup(s, 6);
        out->provenance = store_db_col_dup(s, 7);
        out->after_from = sqlite3_column_int(s, 8);
        out->after_to = sqlite3_column_int(s, 9);
    } else {
        ret = rc == SQLITE_DONE ? 0 : store_db_fail(st, db, "claim shard");
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW) {
        if (ret == 0)
            ret = store_db_commit(st, db);   /* the worker was seen */
        goto done;
    }
    if ((k = store_db_run(st, db, "claim shard", "UPDATE shards SET status = 'running', owner = ?, lease_expires_ms = ?, "
                          "claims = claims + 1, slurm_job = ? WHERE experiment_id = ? AND idx = ? AND status = 'queued'",
                          "titti", worker, now_ms + lease_ms, slurm_job, out->experiment_id, (int64_t)out->idx)) < 0 ||
        (k = store_db_commit(st, db)) < 0) {
        ret = k;
        store_shard_free(out);
        goto done;
    }
    ret = 1;
done:
    store_db_release(st, db);
    return ret;
}

/* The seconds left of the kernel that tile shard (id, idx) belongs to, from its own `eta` at done `fraction`: its
 * rate (seconds per weight, on what is left of it) applied to the kernel's queued tile shards, shared among its
 * running ones (in parallel), and to its solve. Shard weights are cost-model seconds scaled into points (cluster.c
 * plan_kernel), so that one rate serves them all. A shard that is not a tile shard of a split kernel (a whole
 * kernel shard: its tiles are the kernel's), or whose fraction leaves no rate, keeps its own eta. */
static double kernel_eta(sqlite3 *db, const char *id, int idx, double fraction, double eta)
{
    if (fraction < 0 || fraction >= 1)
        return eta;
    sqlite3_stmt *s = store_db_prep(
        db, "SELECT COALESCE(me.weight, me.points), CASE WHEN k.status = 'done' THEN 0 ELSE COALESCE(k.weight, k.points) END, "
        "(SELECT total(COALESCE(q.weight, q.points)) FROM shards q WHERE q.experiment_id = ?1 AND q.kind = 'tile' AND "
        "q.status = 'queued' AND q.idx >= k.after_from AND q.idx < k.after_to), "
        "(SELECT count(*) FROM shards q WHERE q.experiment_id = ?1 AND q.kind = 'tile' AND q.status = 'running' AND "
        "q.idx >= k.after_from AND q.idx < k.after_to) "
        "FROM shards me JOIN shards k ON k.experiment_id = me.experiment_id AND k.kind = 'solve' AND "
        "k.after_from <= me.idx AND k.after_to > me.idx WHERE me.experiment_id = ?1 AND me.idx = ?2 AND me.kind = 'tile'",
        "ti", id, (int64_t)idx);
    if (s && sqlite3_step(s) == SQLITE_ROW) {
        double self = sqlite3_column_double(s, 0), solve = sqlite3_column_double(s, 1), queued = sqlite3_column_double(s, 2);
        int running = sqlite3_column_int(s, 3);
        if (self > 0) {
            double rate = eta / ((1 - fraction) * self);
            eta += rate * (queued / (running > 1 ? running : 1) + solve);
        }
    }
    sqlite3_finalize(s);
    return eta;
}

int store_shard_renew(store *st, const char *id, int idx, const char *worker, int64_t now_ms, int64_t lease_ms,
                      double fraction, double eta_seconds, int *cancel)
{
    sqlite3 *db = store_db_acquire(st);
    if (!db)
        return STORE_ERROR;
    int ret = store_db_run(st, db, "renew shard", "UPDATE shards SET lease_expires_ms = ? WHERE experiment_id = ? AND "
                           "idx = ? AND status = 'running' AND owner = ? AND EXISTS (SELECT 1 FROM experiments e WHERE "
                           "e.id = shards.experiment_id AND e.status IN ('running', 'queued'))", "itit", now_ms + lease_ms,
                           id, (int64_t)idx, worker);
    if (ret > 0) {
        ret = 1;
        store_db_run(st, db, "worker seen", "UPDATE workers SET last_seen_ms = ? WHERE owner = ?", "it", now_ms, worker);
        if (fraction >= 0)
            store_db_run(st, db, "shard progress", "UPDATE experiments SET progress = max(progress, (SELECT (CAST(total(CASE "
                         "WHEN status = 'done' THEN " WEIGHT " END) AS REAL) + ?2 * total(CASE WHEN idx = ?3 THEN " WEIGHT " END)) / "
                         "max(total(" WEIGHT "), 1) FROM shards WHERE experiment_id = ?1)) WHERE id = ?1 AND status = 'running'",
                         "tdi", id, fraction > 1 ? 1.0 : fraction, (int64_t)idx);
        if (eta_seconds >= 0)
            store_db_run(st, db, "shard eta", "UPDATE experiments SET eta_seconds = ?, eta_at = " STORE_NOW_S " WHERE id = ? AND "
                         "status = 'running'",
                         "dt", kernel_eta(db, id, idx, fraction, eta_seconds), id);
        sqlite3_stmt *s = store_db_prep(db, "SELECT cancel_requested FROM experiments WHERE id = ?", "t", id);
        int rc = s ? sqlite3_step(s) : SQLITE_ERROR;
        if (cancel)
            *cancel = rc == SQLITE_ROW && sqlite3_column_int(s, 0) != 0;
        sqlite3_finalize(s);
    }
    store_db_release(st, db);
    return ret;
}

int store_shard_report(store *st, const char *id, int idx, const char *worker, const point_list *pts,
                       const char *kernel)
{
    sqlite3 *db = store_db_acquire(st);
    if (!db)
        return STORE_ERROR;
    int ret = store_db_begin(st, db), k;
    if (ret < 0)
        goto done;
    k = store_db_run(st, db, "report shard", "UPDATE shards SET status = 'done', owner = NULL, lease_expires_ms = NULL, "
                     "kernel = COALESCE(?, kernel) WHERE experiment_id = ? AND idx = ? AND status = 'running' AND owner = ?",
                     "ttit", kernel, id, (int64_t)idx, worker);
    if (k <= 0) {
        ret = k;   /* lost (0): nothing stored */
        goto done;
    }
    for (size_t i = 0; i < pts->n; i++)
        if ((k = store_db_insert_point(st, db, id, pts->v[i].arm_index, &pts->v[i].p)) < 0) {
            ret = k;
            goto done;
        }
    if ((k = store_db_run(st, db, "report shard", "UPDATE experiments SET progress = (SELECT CAST(total(CASE WHEN status = "
                          "'done' THEN " WEIGHT " END) AS REAL) / max(total(" WEIGHT "), 1) FROM shards WHERE experiment_id = ?1) "
                          "WHERE id = ?1 AND status = 'running'", "t", id)) < 0 ||
        (k = store_db_run(st, db, "report shard", "UPDATE workers SET shards_done = shards_done + 1 WHERE owner = ?", "t",
                          worker)) < 0 ||
        (k = store_db_commit(st, db)) < 0) {
        ret = k;
        goto done;
    }
    ret = 1;
done:
    store_db_release(st, db);
    return ret;
}

int store_shard_unit(store *st, const char *id, int idx, const char *worker, char kind[16], char **unit)
{
    *unit = NULL;
    sqlite3 *db = store_db_acquire(st);
    if (!db)
        return STORE_ERROR;
    sqlite3_stmt *s = store_db_prep(db, "SELECT kind, unit FROM shards WHERE experiment_id = ?1 AND idx = ?2 AND (?3 IS "
                                    "NULL OR (status = 'running' AND owner = ?3))", "tit", id, (int64_t)idx, worker);
    int rc = s ? sqlite3_step(s) : SQLITE_ERROR, ret = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
    if (ret == 1) {
        snprintf(kind, 16, "%s", (const char *)sqlite3_column_text(s, 0));
        if (!(*unit = store_db_col_dup(s, 1)))
            ret = STORE_ERROR;
    }
    if (ret == -1)
        ret = store_db_fail(st, db, "shard unit");
    sqlite3_finalize(s);
    store_db_release(st, db);
    return ret;
}

char *store_shards_kernels(store *st, const char *id)
{
    sqlite3 *db = store_db_acquire(st);
    if (!db)
        return NULL;
    sqlite3_stmt *s = store_db_prep(db, "SELECT '[' || COALESCE(group_concat(kernel, ','), '') || ']' FROM (SELECT kernel "
                                    "FROM shards WHERE experiment_id = ? AND kernel IS NOT NULL ORDER BY idx)", "t", id);
    char *out = s && sqlite3_step(s) == SQLITE_ROW ? store_db_col_dup(s, 0) : NULL;
    if (!out)
        store_db_fail(st, db, "shard kernels");
    sqlite3_finalize(s);
    store_db_release(st, db);
    return out;
}

int store_shard_release(store *st, const char *id, int idx, const char *worker)
{
    sqlite3 *db = store_db_acquire(st);
    if (!db)
        return STORE_ERROR;
    int k = store_db_run(st, db, "release shard", "UPDATE shards SET status = 'queued', owner = NULL, lease_expires_ms = "
                         "NULL WHERE experiment_id = ? AND idx = ? AND status = 'running' AND owner = ?", "tit", id,
                         (int64_t)idx, worker);
    store_db_release(st, db);
    return k < 0 ? k : k > 0;
}

int store_shards_expire(store *st, int64_t now_ms, store_owner_gone gone, void *ctx)
{
    sqlite3 *db = store_db_acquire(st);
    if (!db)
        return STORE_ERROR;
    int total = store_db_run(st, db, "expire shards", "UPDATE shards SET status = 'queued', owner = NULL, "
                             "lease_expires_ms = NULL, expiries = expiries + 1 WHERE status = 'running' AND "
                             "(owner IS NULL OR lease_expires_ms IS NULL OR lease_expires_ms < ?)", "i", now_ms);
    if (total < 0 || !gone)
        goto done;
    sqlite3_stmt *s = store_db_prep(db, "SELECT DISTINCT owner FROM shards WHERE status = 'running'", "");
    if (!s) {
        total = store_db_fail(st, db, "expire shards");
        goto done;
    }
    char (*owners)[256] = NULL;
    int n = 0, cap = 0, rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *ow = (const char *)sqlite3_column_text(s, 0);
        if (!ow || !gone(ctx, ow))
            continue;
        if (n == cap) {
            void *a = realloc(owners, (size_t)(cap = cap ? 2 * cap : 8) * sizeof *owners);
            if (!a)
                break;
            owners = a;
        }
        snprintf(owners[n++], sizeof owners[0], "%s", ow);
    }
    sqlite3_finalize(s);
    for (int i = 0; i < n && total >= 0; i++) {
        int k = store_db_run(st, db, "expire shards", "UPDATE shards SET status = 'queued', owner = NULL, "
                             "lease_expires_ms = NULL, expiries = expiries + 1 WHERE status = 'running' AND owner = ?", "t",
                             owners[i]);
        total = k < 0 ? k : total + k;
    }
    free(owners);
done:
    store_db_release(st, db);
    return total;
}

long store_shards_count(store *st, const char *id, long counts[3], long *claims, long *expiries)
{
    sqlite3 *db = store_db_acquire(st);
    if (!db)
        return STORE_ERROR;
    counts[0] = counts[1] = counts[2] = 0;
    sqlite3_stmt *s = store_db_prep(db, "SELECT status, count(*), total(claims), total(expiries) FROM shards "
                                    "WHERE ?1 IS NULL OR experiment_id = ?1 GROUP BY status", "t", id);
    long n = 0, c = 0, x = 0;
    int rc;
    while (s && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *status = (const char *)sqlite3_column_text(s, 0);
        long k = (long)sqlite3_column_int64(s, 1);
        int slot = strcmp(status, "queued") == 0 ? 0 : strcmp(status, "running") == 0 ? 1 : 2;
        counts[slot] += k;
        n += k;
        c += (long)sqlite3_column_double(s, 2);
        x += (long)sqlite3_column_double(s, 3);
    }
    if (!s || rc != SQLITE_DONE)
        n = store_db_fail(st, db, "count shards");
    sqlite3_finalize(s);
    store_db_release(st, db);
    if (claims)
        *claims = c;
    if (expiries)
        *expiries = x;
    return n;
}

int store_shards_slurm_jobs(store *st, const char *id, char *out, size_t cap)
{
    out[0] = '\0';
    sqlite3 *db = store_db_acquire(st);
    if (!db)
        return STORE_ERROR;
    sqlite3_stmt *s = store_db_prep(db, "SELECT DISTINCT slurm_job FROM shards WHERE experiment_id = ? AND slurm_job IS "
                                    "NOT NULL ORDER BY slurm_job", "t", id);
    int n = 0, rc = SQLITE_ERROR;
    size_t len = 0;
    while (s && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *j = (const char *)sqlite3_column_text(s, 0);
        if (len + strlen(j) + 2 < cap)
            len += (size_t)snprintf(out + len, cap - len, "%s%s", n ? "," : "", j);
        n++;
    }
    if (rc != SQLITE_DONE)
        n = store_db_fail(st, db, "slurm jobs");
    sqlite3_finalize(s);
    store_db_release(st, db);
    return n;
}

long store_workers_seen(store *st, int64_t since_ms)
{
    return store_db_count(st, "workers", "SELECT count(*) FROM workers WHERE last_seen_ms >= ?", "i", since_ms);
}

int store_running_of(store *st, const char *owner, char (*out)[UTIL_ID_LEN + 8], int max)
{
    sqlite3 *db = store_db_acquire(st);
    if (!db)
        return STORE_ERROR;
    sqlite3_stmt *s = store_db_prep(db, "SELECT id FROM experiments WHERE status = 'running' AND lease_owner = ? "
                                    "ORDER BY started_at, rowid", "t", owner);
    int n = 0, rc = SQLITE_ERROR;
    while (s && (rc = sqlite3_step(s)) == SQLITE_ROW)
        if (n < max)
            snprintf(out[n++], sizeof out[0], "%s", (const char *)sqlite3_column_text(s, 0));
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        n = store_db_fail(st, db, "running experiments");
    sqlite3_finalize(s);
    store_db_release(st, db);
    return n;
}

long store_shards_claimable(store *st)
{
    return store_db_count(st, "claimable", "SELECT (SELECT count(*) FROM shards s JOIN experiments e ON e.id = "
                          "s.experiment_id WHERE s.status = 'queued' AND e.status = 'running' AND e.cancel_requested = 0 "
                          "AND " UNBLOCKED ") "
                          "+ (SELECT count(*) FROM experiments WHERE status = 'queued')", "");
}
