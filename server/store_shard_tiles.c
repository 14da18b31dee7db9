/* dmilab server: the kernel tiles of tile shards in the store. See store_shard_tiles.h. */
#include "store_shard_tiles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

/* found 0: under the claim that holds the shard; 1: claim 0, found in the server's tile directory. */
static int tile_add(store *st, const char *id, int idx, const char *worker, const char *key, long tile,
                    const char *sha_nngp, const char *sha_ntk, int found)
{
    sqlite3 *db = store_db_acquire(st);
    if (!db)
        return STORE_ERROR;
    int ret = store_db_begin(st, db), k;
    if (ret < 0)
        goto done;
    sqlite3_stmt *s = store_db_prep(db, "SELECT claims FROM shards WHERE experiment_id = ? AND idx = ? AND status = "
                                    "'running' AND owner = ?", "tit", id, (int64_t)idx, worker);
    int rc = s ? sqlite3_step(s) : SQLITE_ERROR;
    long claim = rc == SQLITE_ROW && !found ? (long)sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW) {
        ret = rc == SQLITE_DONE ? 0 : store_db_fail(st, db, "record tile");
        goto done;
    }
    k = store_db_run(st, db, "record tile", "INSERT OR IGNORE INTO shard_tiles (experiment_id, key, tile, idx, claim, "
                     "sha256_nngp, sha256_ntk) VALUES (?, ?, ?, ?, ?, ?, ?)", "ttiiitt", id, key, (int64_t)tile,
                     (int64_t)idx, (int64_t)claim, sha_nngp, sha_ntk);
    if (k == 0)
        k = store_db_run(st, db, "record tile", "UPDATE shards SET tiles_again = tiles_again + 1 WHERE experiment_id = ? "
                         "AND idx = ?", "ti", id, (int64_t)idx) < 0 ? STORE_ERROR : 0;
    if (k < 0) {
        ret = k;
        goto done;
    }
    if ((ret = store_db_commit(st, db)) < 0)
        goto done;
    ret = k > 0 ? 1 : 2;
done:
    store_db_release(st, db);
    return ret;
}

int store_shard_tile_add(store *st, const char *id, int idx, const char *worker, const char *key, long tile,
                         const char *sha_nngp, const char *sha_ntk)
{
    return tile_add(st, id, idx, worker, key, tile, sha_nngp, sha_ntk, 0);
}

int store_shard_tile_found(store *st, const char *id, int idx, const char *worker, const char *key, long tile,
                           const char *sha_nngp, const char *sha_ntk)
{
    return tile_add(st, id, idx, worker, key, tile, sha_nngp, sha_ntk, 1);
}

long store_shard_tiles_found(store *st, const char *id, int idx)
{
    return store_db_count(st, "tiles", "SELECT count(*) FROM shard_tiles WHERE experiment_id = ? AND idx = ? AND claim = 0",
                          "ti", id, (int64_t)idx);
}

int store_shard_tiles_of(store *st, const char *id, int from, int to, char key[DML_SHA256_HEX], long **tiles, size_t *n)
{
    key[0] = '\0';
    *tiles = NULL;
    *n = 0;
    sqlite3 *db = store_db_acquire(st);
    if (!db)
        return STORE_ERROR;
    sqlite3_stmt *s = store_db_prep(db, "SELECT key, tile FROM shard_tiles WHERE experiment_id = ? AND idx >= ? AND "
                                    "idx < ? ORDER BY tile", "tii", id, (int64_t)from, (int64_t)to);
    int rc = SQLITE_ERROR, ret = 0;
    size_t cap = 0;
    while (s && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            long *v = realloc(*tiles, (cap = cap ? 2 * cap : 64) * sizeof *v);
            if (!v) {
                ret = STORE_ERROR;
                break;
            }
            *tiles = v;
        }
        snprintf(key, DML_SHA256_HEX, "%s", (const char *)sqlite3_column_text(s, 0));
        (*tiles)[(*n)++] = (long)sqlite3_column_int64(s, 1);
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = store_db_fail(st, db, "tiles of shards");
    sqlite3_finalize(s);
    store_db_release(st, db);
    if (ret < 0) {
        free(*tiles);
        *tiles = NULL;
        *n = 0;
    }
    return ret;
}

int store_shard_tile_known(store *st, const char *id, const char *key, long tile, int *idx, char *sha_nngp,
                           char *sha_ntk)
{
    sqlite3 *db = store_db_acquire(st);
    if (!db)
        return STORE_ERROR;
    sqlite3_stmt *s = store_db_prep(db, "SELECT sha256_nngp, sha256_ntk, idx FROM shard_tiles WHERE experiment_id = ? AND "
                                    "key = ? AND tile = ?", "tti", id, key, (int64_t)tile);
    int rc = s ? sqlite3_step(s) : SQLITE_ERROR, ret = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
    if (ret == 1) {
        snprintf(sha_nngp, DML_SHA256_HEX, "%s", (const char *)sqlite3_column_text(s, 0));
        snprintf(sha_ntk, DML_SHA256_HEX, "%s", (const char *)sqlite3_column_text(s, 1));
        *idx = sqlite3_column_int(s, 2);
    }
    if (ret < 0)
        ret = store_db_fail(st, db, "known tile");
    sqlite3_finalize(s);
    store_db_release(st, db);
    return ret;
}

int store_shard_tiles_count(store *st, const char *id, long *stored, long *rerun, long *found, long *again)
{
    long a = store_db_count(st, "tiles", "SELECT count(*) FROM shard_tiles WHERE experiment_id = ?", "t", id);
    long r = store_db_count(st, "tiles", "SELECT count(*) FROM shard_tiles WHERE experiment_id = ? AND claim > 1", "t", id);
    long f = store_db_count(st, "tiles", "SELECT count(*) FROM shard_tiles WHERE experiment_id = ? AND claim = 0", "t", id);
    long b = store_db_count(st, "tiles", "SELECT COALESCE(sum(tiles_again), 0) FROM shards WHERE experiment_id = ?", "t", id);
    if (a < 0 || r < 0 || f < 0 || b < 0)
        return STORE_ERROR;
    *stored = a;
    *rerun = r;
    *found = f;
    *again = b;
    return 0;
}
