/* API test of ownership and database faults (issue 9), against real `dmilab serve` processes:
 *   lease    two servers on one database file share the queue and the shards of each experiment: no shard is computed
 *            twice, each experiment has each point once and one write of finished_at (counted by a trigger); kill -9 of
 *            the owner mid-run: the other server resumes the work; a hung owner (SIGSTOP): its lease lapses, the
 *            other server finishes the work, and the owner, resumed, writes nothing more;
 *   lock     a helper process holds the write lock (BEGIN EXCLUSIVE) for 13 s while an experiment stores points: the
 *            points are retried and stored, the experiment succeeds; a POST meanwhile answers 503 with Retry-After;
 *   disk     the database on a small tmpfs that fills up: the experiment neither fails nor stays running without an
 *            owner, and resumes when space is freed (skipped, with the reason, when mounting is not allowed);
 *   corrupt  a database with corrupted pages: the server refuses to start, naming the file; pages corrupted while it
 *            runs: /healthz answers 503 with the reason and POST is refused.
 * usage: test_api_faults PATH/TO/dmilab lease|lock|disk|corrupt   (exit 77: skipped) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_api_util.h"

/* 10 units of about a tenth of a second (60 points). */
static const int long_points = 60;
static const char *mid_spec =
    "{\"name\": \"mid\", \"data\": {\"source\": \"fashion-mnist\", \"resize\": 2, \"n_train\": [300, 600, 900],"
    " \"n_test\": 300}, \"models\": {\"arch\": \"fcn\"}, \"inference\": [{\"method\": \"nngp\"}, {\"method\": \"ntk\"}],"
    " \"repeats\": 10}";
/* 8 quick units (16 points). */
static const char *short_spec =
    "{\"name\": \"short\", \"data\": {\"source\": \"fashion-mnist\", \"resize\": 2, \"n_train\": [300],"
    " \"n_test\": 200}, \"models\": {\"arch\": \"fcn\"}, \"inference\": [{\"method\": \"nngp\"}, {\"method\": \"ntk\"}],"
    " \"repeats\": 8}";
static const int short_points = 16;
static const char *tiny_spec =
    "{\"name\": \"tiny\", \"data\": {\"source\": \"fashion-mnist\", \"resize\": 7, \"n_train\": [5], \"n_test\": 5},"
    " \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}";

static long get_on(int port, const char *path, resp *r)
{
    int saved = t_port;
    t_port = port;
    long s = get(path, r);
    t_port = saved;
    return s;
}

static cJSON *experiment_on(int port, const char *id)
{
    char p[160];
    snprintf(p, sizeof p, "/api/v1/experiments/%s", id);
    resp r;
    get_on(port, p, &r);
    cJSON *j = r.status == 200 ? json_of(&r) : NULL;
    resp_free(&r);
    return j;
}

static char *status_on(int port, const char *id)
{
    cJSON *j = experiment_on(port, id);
    char *s = strdup(str_at(j, "status") ? str_at(j, "status") : "?");
    cJSON_Delete(j);
    return s;
}

/* Points of `id` served on `port`; *unique = no (arm, n_train, repeat) twice. -1 on error. */
static int points_on(int port, const char *id, int *unique)
{
    char p[160];
    snprintf(p, sizeof p, "/api/v1/experiments/%s/results", id);
    resp r;
    get_on(port, p, &r);
    cJSON *j = json_of(&r);
    const cJSON *pts = cJSON_GetObjectItem(j, "points");
    int n = r.status == 200 && cJSON_IsArray(pts) ? cJSON_GetArraySize(pts) : -1;
    if (unique) {
        *unique = 1;
        for (int a = 0; a < n; a++)
            for (int b = a + 1; b < n; b++) {
                const cJSON *x = cJSON_GetArrayItem(pts, a), *y = cJSON_GetArrayItem(pts, b);
                if (strcmp(str_at(x, "arm"), str_at(y, "arm")) == 0 && num_at(x, "n_train") == num_at(y, "n_train")
                    && num_at(x, "repeat") == num_at(y, "repeat"))
                    *unique = 0;
            }
    }
    cJSON_Delete(j);
    resp_free(&r);
    return n;
}

static char *post_on(int port, const char *spec, long *status)
{
    int saved = t_port;
    t_port = port;
    char *id = post_spec(spec, status);
    t_port = saved;
    return id;
}

/* Long-poll on `port` until `id` ends (or `seconds` pass); its final status (malloc'd). */
static char *wait_end_on(int port, const char *id, double seconds)
{
    int saved = t_port;
    t_port = port;
    char *s = NULL;
    double t0 = now_s();
    do {
        free(s);
        s = wait_status(id, 5);
    } while (now_s() - t0 < seconds && (strcmp(s, "queued") == 0 || strcmp(s, "running") == 0 || strcmp(s, "?") == 0));
    t_port = saved;
    return s;
}

/* Wait until `id` runs with at least `min_points` stored. */
static int wait_running(int port, const char *id, int min_points, double seconds)
{
    double t0 = now_s();
    while (now_s() - t0 < seconds) {
        char *s = status_on(port, id);
        int run = strcmp(s, "running") == 0;
        free(s);
        if (run && points_on(port, id, NULL) >= min_points)
            return 0;
        usleep(20000);
    }
    return -1;
}

static int count_in_file(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

static int file_has(const char *path, const char *needle)
{
    return count_in_file(path, needle) > 0;
}

/* One SQL statement on the test database from this process; returns the first integer of the first row (or 0). */
static long long sql1(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    long long v = -1;
    if (sqlite3_open(db, &h) == SQLITE_OK) {
        sqlite3_busy_timeout(h, 10000);
        sqlite3_stmt *s = NULL;
        if (sqlite3_prepare_v2(h, sql, -1, &s, NULL) == SQLITE_OK) {
            int rc = sqlite3_step(s);
            v = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : rc == SQLITE_DONE ? 0 : -1;
        }
        if (v < 0)
            printf("# sqlite: %s: %s\n", sql, sqlite3_errmsg(h));
        sqlite3_finalize(s);
    }
    sqlite3_close(h);
    return v;
}

/* The number of writes of finished_at to experiment `id` (the trigger below logs each). */
static long long finishes(const char *id)
{
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM finish_log WHERE id = '%s'", id);
    return sql1(t_db, sql);
}

/* The pid in the owner id of the lease on `id` ("serve@host:PID#..."), or 0. */
/* How often the shards of `id` were claimed beyond their number (0: each computed once, by whichever server), or
 * -1 when it has no shards. */
static int shard_reruns(int port, const char *id)
{
    cJSON *j = experiment_on(port, id);
    const cJSON *sh = cJSON_GetObjectItem(j, "shards");
    int r = cJSON_IsObject(sh) ? (int)num_at(sh, "claims") - (int)num_at(sh, "total") : -1;
    cJSON_Delete(j);
    return r;
}

static pid_t owner_pid(int port, const char *id)
{
    cJSON *j = experiment_on(port, id);
    const char *ow = str_at(cJSON_GetObjectItem(j, "lease"), "owner");
    const char *colon = ow ? strchr(ow, ':') : NULL;
    pid_t pid = colon ? (pid_t)atol(colon + 1) : 0;
    cJSON_Delete(j);
    return pid;
}

static int end_pid(pid_t pid, int sig)
{
    kill(pid, sig);
    int st = -1;
    double t0 = now_s();
    while (now_s() - t0 < 30) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            return st;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return st;
}

/* Whether another connection holds the write lock of the test database now. */
static int write_locked(void)
{
    sqlite3 *h = NULL;
    int locked = 1;
    if (sqlite3_open(t_db, &h) == SQLITE_OK) {
        sqlite3_busy_timeout(h, 100);
        locked = sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK;
        sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
    }
    sqlite3_close(h);
    return locked;
}

static void test_lease(void)
{
    int pa = t_port, pb = t_free_port();
    char log_b[320];
    snprintf(log_b, sizeof log_b, "%s/server-b.log", t_dir);
    pid_t a = spawn_server(pa, t_db, t_log, NULL, NULL);
    t_server = a;
    if (!check(wait_up(pa, a, 20, NULL) == 0, "server A starts"))
        return;
    /* count every write of finished_at, whoever writes it */
    check(sql1(t_db, "CREATE TABLE finish_log (id TEXT, status TEXT)") == 0
              && sql1(t_db, "CREATE TRIGGER finish_count AFTER UPDATE OF finished_at ON experiments "
                            "WHEN NEW.finished_at IS NOT NULL BEGIN INSERT INTO finish_log VALUES (NEW.id, NEW.status); END")
                     == 0,
          "a trigger counts the writes of finished_at");
    long st;
    char *x = post_on(pa, mid_spec, &st);
    if (!check(x && wait_running(pa, x, 1, 60) == 0, "A runs experiment X"))
        return;
    pid_t b = spawn_server(pb, t_db, log_b, NULL, NULL);
    check(wait_up(pb, b, 20, NULL) == 0, "server B starts on the same database while X runs");
    char *s = wait_end_on(pb, x, 120);
    int unique, n = points_on(pb, x, &unique);
    check(strcmp(s, "succeeded") == 0 && n == long_points && unique, "X succeeded with %d points, each once (%s, %d)",
          long_points, s, n);
    /* the servers share X's shards (A coordinates it); none is computed twice */
    int reruns = shard_reruns(pb, x);
    check(reruns == 0, "each shard of X was claimed once, by A or B (%d reruns)", reruns);
    check(finishes(x) == 1, "finished_at of X was written once (%lld)", finishes(x));
    free(s);

    /* the two servers share the queue: every experiment runs once */
    char *ids[6];
    for (int i = 0; i < 6; i++)
        ids[i] = post_on(i % 2 ? pb : pa, short_spec, &st);
    int once = 1, ok = 1;
    for (int i = 0; i < 6; i++) {
        s = wait_end_on(pa, ids[i], 120);
        n = points_on(pa, ids[i], &unique);
        ok &= strcmp(s, "succeeded") == 0 && n == short_points && unique;
        once &= shard_reruns(pa, ids[i]) == 0 && finishes(ids[i]) == 1;
        free(s);
    }
    check(ok, "6 experiments submitted to A and B in turn all succeed with each point once");
    check(once, "each shard of each ran once on one of them, and its finished_at was written once");

    /* short leases from now on: restart both */
    end_pid(a, SIGTERM);
    end_pid(b, SIGTERM);
    const char *lease[] = {"--lease-seconds", "4", NULL};
    a = spawn_server(pa, t_db, t_log, lease, NULL);
    b = spawn_server(pb, t_db, log_b, lease, NULL);
    t_server = a;
    if (!check(wait_up(pa, a, 20, NULL) == 0 && wait_up(pb, b, 20, NULL) == 0, "A and B start again with --lease-seconds 4"))
        return;

    /* kill -9 of the owner in the middle: the other server resumes the work */
    char *y = post_on(pa, mid_spec, &st);
    wait_running(pa, y, 1, 60);
    pid_t own = owner_pid(pa, y);
    int other = own == a ? pb : pa;
    check(own == a || own == b, "Y runs on %s (lease owner pid %d)", own == a ? "A" : "B", (int)own);
    int before = points_on(other, y, NULL);
    double t0 = now_s();
    end_pid(own, SIGKILL);
    double resumed = -1;
    while (now_s() - t0 < 60) {
        if (owner_pid(other, y) == (own == a ? b : a)) {
            resumed = now_s() - t0;
            break;
        }
        usleep(20000);
    }
    check(resumed >= 0 && resumed < 4, "the other server took Y over %.2f s after kill -9 of its owner (its owner is gone: "
                                       "no need to wait for the lease)", resumed);
    s = wait_end_on(other, y, 120);
    n = points_on(other, y, &unique);
    check(strcmp(s, "succeeded") == 0 && n == long_points && unique && finishes(y) == 1,
          "Y succeeded with each point once (%d, %d before the kill) and one write of finished_at (%lld)", n, before,
          finishes(y));
    free(s);
    if (own == a) {
        a = spawn_server(pa, t_db, t_log, lease, NULL);
        t_server = a;
        wait_up(pa, a, 20, NULL);
    } else {
        b = spawn_server(pb, t_db, log_b, lease, NULL);
        wait_up(pb, b, 20, NULL);
    }

    /* a hung owner (SIGSTOP, outside a write): its lease lapses, the other server finishes the work */
    char *z = post_on(pa, mid_spec, &st);
    wait_running(pa, z, 1, 60);
    own = owner_pid(pa, z);
    other = own == a ? pb : pa;
    for (int tries = 0; tries < 50; tries++) {
        kill(own, SIGSTOP);
        if (!write_locked())
            break;
        kill(own, SIGCONT);
        usleep(30000);
    }
    t0 = now_s();
    resumed = -1;
    while (now_s() - t0 < 30) {
        pid_t p = owner_pid(other, z);
        char *zs = status_on(other, z);
        int ended = strcmp(zs, "succeeded") == 0;   /* taken over and ended at once: the other computed the rest */
        free(zs);
        if ((p && p != own) || ended) {
            resumed = now_s() - t0;
            break;
        }
        usleep(50000);
    }
    check(resumed >= 3 && resumed < 20, "the other server took Z over %.2f s after its owner hung (the 4 s lease lapsed)",
          resumed);
    s = wait_end_on(other, z, 120);
    kill(own, SIGCONT);
    sleep(3);   /* the resumed owner finds its lease lost at its next renewal or write */
    char *s2 = status_on(other, z);
    n = points_on(other, z, &unique);
    check(strcmp(s, "succeeded") == 0 && strcmp(s2, "succeeded") == 0 && n == long_points && unique && finishes(z) == 1,
          "Z succeeded with each point once; the hung owner, resumed, wrote nothing (finished_at written %lld time(s))",
          finishes(z));
    check(file_has(own == a ? t_log : log_b, "lease was lost"), "the resumed owner logged that it lost the lease");
    free(s);
    free(s2);
    st = end_pid(a, SIGTERM);
    check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "A stops (exit 0)");
    st = end_pid(b, SIGTERM);
    check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "B stops (exit 0)");
    t_server = -1;
    free(x);
    free(y);
    free(z);
    for (int i = 0; i < 6; i++)
        free(ids[i]);
}

/* A helper process takes the write lock of the database and holds it `seconds`; returns its pid once it holds it. */
static pid_t hold_lock(double seconds)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        sqlite3 *h = NULL;
        if (sqlite3_open(t_db, &h) != SQLITE_OK)
            _exit(1);
        sqlite3_busy_timeout(h, 20000);
        if (sqlite3_exec(h, "BEGIN EXCLUSIVE", NULL, NULL, NULL) != SQLITE_OK)
            _exit(1);
        if (write(fds[1], "L", 1) != 1)
            _exit(1);
        usleep((useconds_t)(seconds * 1e6));
        sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(h);
        _exit(0);
    }
    close(fds[1]);
    char c = 0;
    ssize_t k = read(fds[0], &c, 1);
    close(fds[0]);
    return k == 1 && c == 'L' ? pid : -1;
}

static void test_lock(void)
{
    if (!check(start_server(NULL) == 0, "server starts"))
        return;
    long st;
    char *id = post_spec(mid_spec, &st);
    if (!check(id && wait_running(t_port, id, 1, 60) == 0, "an experiment runs"))
        return;
    double t0 = now_s();
    pid_t locker = hold_lock(13);
    check(locker > 0, "a helper process holds BEGIN EXCLUSIVE on the database for 13 s");
    usleep(300000);
    resp r;
    double t1 = now_s();
    post_json("/api/v1/experiments", tiny_spec, &r);
    double took = now_s() - t1;
    check(r.status == 503 && r.retry_after[0] && is_error(&r, "internal", NULL) && took < 4,
          "a POST during the lock: 503 with Retry-After: %s after %.2f s (%ld)", r.retry_after, took, r.status);
    resp_free(&r);
    check(get("/healthz", &r) == 200, "/healthz answers 200 during the lock (the database can be read)");
    resp_free(&r);
    char p[160];
    snprintf(p, sizeof p, "/api/v1/experiments/%s", id);
    check(get(p, &r) == 200, "reads answer during the lock");
    resp_free(&r);
    int wst;
    waitpid(locker, &wst, 0);
    printf("# the lock was held %.1f s\n", now_s() - t0);
    char *s = wait_end_on(t_port, id, 120);
    int unique, n = points_on(t_port, id, &unique);
    check(strcmp(s, "succeeded") == 0 && n == long_points && unique,
          "the experiment stored its points after the lock and succeeded (%s, %d of %d points)", s, n, long_points);
    check(file_has(t_log, "retrying"), "the server retried the write (its log says so)");
    free(s);
    free(id);
    st = stop_server(SIGTERM);
    check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "SIGTERM: exit 0");
}

/* Fill the file system of `dir` with `path` until no byte more fits. */
static void fill(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    static char buf[4096];
    memset(buf, 0xee, sizeof buf);
    size_t chunk = sizeof buf;
    while (chunk >= 1) {
        if (write(fd, buf, chunk) < (ssize_t)chunk)
            chunk /= 2;
    }
    fsync(fd);
    close(fd);
}

static int test_disk(void)
{
    char mnt[320];
    snprintf(mnt, sizeof mnt, "%s/small", t_dir);
    mkdir(mnt, 0755);
    if (geteuid() != 0 || mount("tmpfs", mnt, "tmpfs", 0, "size=16m") != 0) {
        printf("SKIP the full-disk test: cannot mount a tmpfs at %s (%s)\n", mnt,
               geteuid() != 0 ? "not root" : strerror(errno));
        return 77;
    }
    snprintf(t_db, sizeof t_db, "%.280s/test.db", mnt);
    /* the kernel tiles (by default beside the database) on the ordinary disk: one unit's tiles take about 17 MB */
    char tiles[400];
    snprintf(tiles, sizeof tiles, "%s/tiles", t_dir);
    const char *lease[] = {"--lease-seconds", "4", "--tile-dir", tiles, NULL};
    if (!check(start_server(lease) == 0, "server starts with its database on a 16 MB tmpfs"))
        goto out;
    long st;
    char *id = post_spec(mid_spec, &st);
    if (!check(id && wait_running(t_port, id, 1, 60) == 0, "an experiment runs"))
        goto out;
    char filler[400];
    snprintf(filler, sizeof filler, "%s/filler", mnt);
    fill(filler);
    printf("# the tmpfs is full\n");
    double t0 = now_s();
    resp r;
    post_json("/api/v1/experiments", tiny_spec, &r);
    check(r.status == 503 && r.retry_after[0], "a POST on the full disk: 503 with Retry-After (%ld)", r.status);
    resp_free(&r);
    int never_failed = 1, seen_queued = 0;
    char *s = NULL;
    while (now_s() - t0 < 9) {   /* two lease periods and more */
        free(s);
        s = status_on(t_port, id);
        never_failed &= strcmp(s, "failed") != 0 && strcmp(s, "succeeded") != 0;
        seen_queued |= strcmp(s, "queued") == 0;
        usleep(100000);
    }
    check(never_failed, "while the disk is full the experiment does not fail (%s)", s);
    check(file_has(t_log, "full"), "the server met the full disk (its log says so)");
    free(s);
    int stored = points_on(t_port, id, NULL);
    unlink(filler);
    printf("# space freed after %.1f s with %d points stored (seen queued: %d)\n", now_s() - t0, stored, seen_queued);
    s = wait_end_on(t_port, id, 120);
    int unique, n = points_on(t_port, id, &unique);
    check(strcmp(s, "succeeded") == 0 && n == long_points && unique,
          "after space is freed it resumes and succeeds with every point once (%s, %d of %d)", s, n, long_points);
    free(s);
    free(id);
    st = stop_server(SIGTERM);
    check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "SIGTERM: exit 0");
out:
    if (t_server > 0)
        stop_server(SIGKILL);
    umount2(mnt, MNT_DETACH);
    return 0;
}

/* Overwrite `npages` pages of 4096 bytes from page `first` (1-based) of `path` with garbage. */
static void corrupt_pages(const char *path, int first, int npages)
{
    int fd = open(path, O_WRONLY);
    char junk[4096];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char)(0x5a ^ (i * 37));
    for (int p = 0; p < npages; p++)
        if (pwrite(fd, junk, sizeof junk, (off_t)(first - 1 + p) * 4096) != (ssize_t)sizeof junk)
            perror("pwrite");
    fsync(fd);
    close(fd);
}

static void test_corrupt(void)
{
    if (!check(start_server(NULL) == 0, "server starts"))
        return;
    /* a database of some pages: 40 experiments with their specs and points */
    char *last = NULL;
    for (int i = 0; i < 40; i++) {
        free(last);
        last = post_spec(tiny_spec, NULL);
    }
    char *s = wait_end_on(t_port, last, 180);
    check(strcmp(s, "succeeded") == 0, "40 experiments ran");
    free(s);
    free(last);
    int st = stop_server(SIGTERM);
    check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "SIGTERM: exit 0 (the WAL is checkpointed into the file)");
    struct stat sb;
    stat(t_db, &sb);
    int pages = (int)(sb.st_size / 4096);
    char good[320], cmd[800];
    snprintf(good, sizeof good, "%s/good.db", t_dir);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", t_db, good);
    check(system(cmd) == 0 && pages >= 12, "a database of %d pages", pages);

    corrupt_pages(t_db, pages / 2, 3);
    t_server = spawn_server(t_port, t_db, t_log, NULL, NULL);
    int wst = -1;
    int up = wait_up(t_port, t_server, 20, &wst);
    if (up != -2) {
        kill(t_server, SIGKILL);
        waitpid(t_server, NULL, 0);
    }
    t_server = -1;
    check(up == -2 && WIFEXITED(wst) && WEXITSTATUS(wst) == 2, "with pages corrupted in the middle the server refuses to "
                                                               "start (exit %d)", WIFEXITED(wst) ? WEXITSTATUS(wst) : -1);
    char needle[400];
    snprintf(needle, sizeof needle, "database %s is corrupted", t_db);
    check(file_has(t_log, needle) && file_has(t_log, "quick_check"), "and says why, naming the file");

    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", good, t_db);
    check(system(cmd) == 0, "the good copy back");
    const char *flags[] = {"--db-check-seconds", "1", NULL};
    if (!check(start_server(flags) == 0, "the server starts on it (--db-check-seconds 1)"))
        return;
    corrupt_pages(t_db, pages / 2, 3);
    double t0 = now_s();
    resp r;
    long hs = 200;
    while (now_s() - t0 < 10 && hs == 200) {
        get("/healthz", &r);
        hs = r.status;
        if (hs == 200)
            resp_free(&r);
        usleep(100000);
    }
    cJSON *j = json_of(&r);
    const char *why = str_at(cJSON_GetObjectItem(j, "error"), "message");
    check(hs == 503 && str_at(j, "status") && strcmp(str_at(j, "status"), "unavailable") == 0 && why
              && strstr(why, t_db) && strstr(why, "corrupt"),
          "pages corrupted while it runs: /healthz answers 503 after %.1f s with the reason (%s)", now_s() - t0,
          why ? why : "?");
    cJSON_Delete(j);
    resp_free(&r);
    post_json("/api/v1/experiments", tiny_spec, &r);
    check(r.status == 503 && r.body && strstr(r.body, "corrupted"), "a POST is refused: 503, the database is corrupted (%ld)",
          r.status);
    resp_free(&r);
    stop_server(SIGTERM);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_api_faults PATH/TO/dmilab lease|lock|disk|corrupt\n");
        return 2;
    }
    const char *what = argv[2];
    t_init(argv[1], what);
    if (strcmp(what, "lease") == 0)
        test_lease();
    else if (strcmp(what, "lock") == 0)
        test_lock();
    else if (strcmp(what, "disk") == 0) {
        if (test_disk() == 77) {
            t_finish();
            return 77;
        }
    } else if (strcmp(what, "corrupt") == 0)
        test_corrupt();
    else {
        fprintf(stderr, "test_api_faults: unknown part '%s'\n", what);
        return 2;
    }
    return t_finish();
}
