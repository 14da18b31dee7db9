/* The kernel cache: tile directories under a budget, LRU eviction, in-use locks (dmilab/tile_cache.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "dmilab/tile_cache.h"

/* Whether process `pid` of this machine has ended (kill(2) with signal 0: ESRCH). */
static int pid_gone(long pid)
{
    return pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

int dml_tile_cache_sweep_tmp(const char *dir, double now, int *removed)
{
    DIR *d = opendir(dir);
    *removed = 0;
    if (!d) return -1;
    struct dirent *e;
    char p[1600];
    while ((e = readdir(d))) {
        const char *t = strstr(e->d_name, ".tmp.");
        char *end;
        long pid = t ? strtol(t + 5, &end, 10) : 0;
        struct stat sb;
        if (!t || end == t + 5 || *end != '.') continue;   /* not a writer's temporary name */
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (stat(p, &sb) || !S_ISREG(sb.st_mode)) continue;
        double age = now - ((double)sb.st_mtim.tv_sec + 1e-9 * (double)sb.st_mtim.tv_nsec);
        if (age > DML_TILE_TMP_IDLE_SECONDS && (pid_gone(pid) || age > DML_TILE_TMP_STALE_SECONDS) && unlink(p) == 0)
            (*removed)++;
    }
    closedir(d);
    return 0;
}

int dml_tile_cache_enter(const char *base, const char key[DML_SHA256_HEX], dml_tile_hold *h, dml_error *err)
{
    h->lock_fd = -1;
    if (mkdir(base, 0755) && errno != EEXIST)
        return dml_fail(err, DML_ERR_IO, NULL, "cannot create the kernel tile directory %s: %s", base, strerror(errno));
    snprintf(h->dir, sizeof h->dir, "%s/%s", base, key);
    if (mkdir(h->dir, 0755) && errno != EEXIST)
        return dml_fail(err, DML_ERR_IO, NULL, "cannot create the kernel tile directory %s: %s", h->dir, strerror(errno));
    char lock[1300];
    snprintf(lock, sizeof lock, "%s/.lock", h->dir);
    h->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (h->lock_fd < 0 || flock(h->lock_fd, LOCK_SH))
        return dml_fail(err, DML_ERR_IO, NULL, "cannot lock the kernel tile directory %s: %s", h->dir, strerror(errno));
    futimens(h->lock_fd, NULL);   /* used now */
    struct timespec now;
    int removed;
    clock_gettime(CLOCK_REALTIME, &now);
    dml_tile_cache_sweep_tmp(h->dir, (double)now.tv_sec + 1e-9 * (double)now.tv_nsec, &removed);
    return 0;
}

/* Remove the files of a (flat) kernel directory, then the directory. */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[1600];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    closedir(d);
    rmdir(dir);
}

void dml_tile_cache_leave(dml_tile_hold *h, int keep)
{
    if (h->lock_fd < 0) return;
    if (!keep && flock(h->lock_fd, LOCK_EX | LOCK_NB) == 0) remove_dir(h->dir);   /* nobody else uses it */
    close(h->lock_fd);
    h->lock_fd = -1;
}

typedef struct {
    char name[80];
    double bytes, used;
} entry;

static int by_use(const void *a, const void *b)
{
    double x = ((const entry *)a)->used, y = ((const entry *)b)->used;
    return (x > y) - (x < y);
}

/* Kernel directories of base with their sizes and last use. */
static entry *scan(const char *base, size_t *n)
{
    *n = 0;
    DIR *d = opendir(base);
    if (!d) return NULL;
    entry *v = NULL;
    size_t cap = 0;
    struct dirent *e;
    char p[1600];
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strlen(e->d_name) != DML_SHA256_HEX - 1) continue;
        if (*n == cap) {
            entry *nv = realloc(v, sizeof *v * (cap = cap ? 2 * cap : 16));
            if (!nv) break;
            v = nv;
        }
        entry *x = &v[*n];
        snprintf(x->name, sizeof x->name, "%s", e->d_name);
        x->bytes = 0;
        x->used = 0;
        snprintf(p, sizeof p, "%s/%s", base, e->d_name);
        DIR *k = opendir(p);
        if (!k) continue;
        struct dirent *f;
        while ((f = readdir(k))) {
            struct stat sb;
            char q[1900];
            snprintf(q, sizeof q, "%s/%s", p, f->d_name);
            if (f->d_name[0] == '.' && strcmp(f->d_name, ".lock")) continue;
            if (stat(q, &sb)) continue;
            if (strcmp(f->d_name, ".lock") == 0)
                x->used = (double)sb.st_mtim.tv_sec + 1e-9 * (double)sb.st_mtim.tv_nsec;
            else
                x->bytes += (double)sb.st_size;
        }
        closedir(k);
        (*n)++;
    }
    closedir(d);
    return v;
}

/* Remove kernel directory `name` of base unless it is in use. Returns 1 when removed. */
static int evict_one(const char *base, const char *name)
{
    char dir[1200], lock[1300];
    snprintf(dir, sizeof dir, "%s/%s", base, name);
    snprintf(lock, sizeof lock, "%s/.lock", dir);
    int fd = open(lock, O_RDWR | O_CLOEXEC);
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB)) {
        close(fd);
        return 0;
    }
    remove_dir(dir);
    if (fd >= 0) close(fd);
    return 1;
}

double dml_tile_cache_evict(const char *base, double budget_bytes)
{
    size_t n;
    entry *v = scan(base, &n);
    double total = 0;
    for (size_t i = 0; i < n; i++) total += v[i].bytes;
    if (n > 1) qsort(v, n, sizeof *v, by_use);   /* v is NULL when there is none */
    for (size_t i = 0; i < n && total > budget_bytes; i++)
        if (evict_one(base, v[i].name)) total -= v[i].bytes;
    free(v);
    return total;
}

void dml_tile_cache_remove_all(const char *base)
{
    dml_tile_cache_evict(base, -1);
    rmdir(base);
}
