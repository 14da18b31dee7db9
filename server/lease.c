/* dmilab server: owner ids, liveness of owners and the lease keeper. See lease.h. */
#include "lease.h"

#include "ticker.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char self_id[LEASE_OWNER_MAX];
static char self_host[128], self_boot[40], self_ns[40];

/* Start time of process `pid` in clock ticks since boot (field 22 of /proc/PID/stat) and its state letter;
 * 0 when there is no such process. */
static unsigned long long proc_start(long pid, char *state)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');   /* the command name may hold spaces and parentheses */
    unsigned long long start = 0;
    char st = '?';
    /* after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime
     * priority nice num_threads itrealvalue starttime */
    if (!p || sscanf(p + 1, " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu", &st,
                     &start) != 2)
        return 0;
    if (state)
        *state = st;
    return start;
}

static void read_line(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    out[0] = '\0';
    if (f) {
        if (fgets(out, (int)cap, f))
            out[strcspn(out, "\n")] = '\0';
        fclose(f);
    }
}

void lease_owner_init(const char *role)
{
    if (gethostname(self_host, sizeof self_host) != 0 || !self_host[0])
        snprintf(self_host, sizeof self_host, "localhost");
    self_host[sizeof self_host - 1] = '\0';
    for (char *c = self_host; *c; c++)   /* the separators of the id stay unambiguous */
        if (*c == ':' || *c == '#' || *c == ',' || *c == '@')
            *c = '-';
    char boot[64];
    read_line("/proc/sys/kernel/random/boot_id", boot, sizeof boot);
    snprintf(self_boot, sizeof self_boot, "%.8s", boot[0] ? boot : "unknown");
    char ns[64] = "";
    ssize_t k = readlink("/proc/self/ns/pid", ns, sizeof ns - 1);   /* "pid:[4026531836]" */
    ns[k > 0 ? k : 0] = '\0';
    const char *lb = strchr(ns, '[');
    snprintf(self_ns, sizeof self_ns, "%.*s", lb ? (int)strcspn(lb + 1, "]") : 7, lb ? lb + 1 : "unknown");
    long pid = (long)getpid();
    snprintf(self_id, sizeof self_id, "%s@%s:%ld#start=%llu,boot=%s,pidns=%s", role, self_host, pid, proc_start(pid, NULL),
             self_boot, self_ns);
}

const char *lease_owner_self(void)
{
    return self_id;
}

int lease_owner_gone(const char *owner)
{
    char host[128], boot[40], ns[40];
    long pid;
    unsigned long long start;
    const char *at = strchr(owner, '@');
    if (!at || sscanf(at + 1, "%127[^:]:%ld#start=%llu,boot=%39[^,],pidns=%39s", host, &pid, &start, boot, ns) != 5)
        return 0;
    if (strcmp(host, self_host) != 0 || strcmp(boot, self_boot) != 0 || strcmp(ns, self_ns) != 0 || strcmp(boot, "unknown") == 0
        || strcmp(ns, "unknown") == 0)
        return 0;   /* another machine, boot or container: only the lease's expiry can tell */
    if (strcmp(owner, self_id) == 0)
        return 0;
    char state = '?';
    unsigned long long now_start = proc_start(pid, &state);
    return now_start == 0 || now_start != start || state == 'Z' || state == 'X';
}

struct lease_keeper {
    store *st;
    char owner[LEASE_OWNER_MAX];
    int64_t lease_ms;
    pthread_mutex_t mu;   /* the list of claims */
    lease_claim *claims;
    void (*on_requeue)(void *ctx);
    void *ctx;
    ticker *t;
};

static int gone_cb(void *ctx, const char *owner)
{
    (void)ctx;
    return lease_owner_gone(owner);
}

static void keeper_tick(void *p)
{
    lease_keeper *k = p;
    /* Renew under the lock: a claim lives in its worker's frame until lease_keeper_remove returns. While the database
     * is locked a renewal waits up to the store's busy timeout, and a worker ending its experiment waits with it. */
    pthread_mutex_lock(&k->mu);
    for (lease_claim *c = k->claims; c; c = c->next) {
        if (atomic_load(&c->abandoned) || atomic_load(&c->lost))
            continue;
        int cancel = 0;
        int r = store_renew(k->st, c->id, k->owner, util_now_ms(), k->lease_ms, &cancel);
        if (r == 0) {
            atomic_store(&c->lost, 1);
            util_log("experiment %s: its lease was lost (re-queued or taken by another owner); stopping work on it", c->id);
        } else if (r == 1 && cancel) {
            atomic_store(&c->cancel, 1);
        }
    }
    pthread_mutex_unlock(&k->mu);
    char now[UTIL_TIME_LEN];
    util_now(now);
    int n = store_expire_leases(k->st, util_now_ms(), gone_cb, NULL, now);
    if (n > 0) {
        util_log("re-queued %d experiment(s) whose owner is gone (lease lapsed or process ended)", n);
        if (k->on_requeue)
            k->on_requeue(k->ctx);
    }
}

lease_keeper *lease_keeper_start(store *st, const char *owner, double lease_seconds, void (*on_requeue)(void *ctx),
                                 void *ctx)
{
    lease_keeper *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->st = st;
    k->on_requeue = on_requeue;
    k->ctx = ctx;
    snprintf(k->owner, sizeof k->owner, "%s", owner);
    k->lease_ms = (int64_t)(lease_seconds * 1000);
    pthread_mutex_init(&k->mu, NULL);
    if (!(k->t = ticker_start(lease_seconds / 6, keeper_tick, k))) {
        pthread_mutex_destroy(&k->mu);
        free(k);
        return NULL;
    }
    return k;
}

int64_t lease_keeper_ms(const lease_keeper *k)
{
    return k->lease_ms;
}

void lease_keeper_add(lease_keeper *k, lease_claim *c)
{
    atomic_init(&c->lost, 0);
    atomic_init(&c->cancel, 0);
    atomic_init(&c->abandoned, 0);
    pthread_mutex_lock(&k->mu);
    c->next = k->claims;
    k->claims = c;
    pthread_mutex_unlock(&k->mu);
}

void lease_keeper_remove(lease_keeper *k, lease_claim *c)
{
    pthread_mutex_lock(&k->mu);
    for (lease_claim **p = &k->claims; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    pthread_mutex_unlock(&k->mu);
}

int lease_keeper_release_all(lease_keeper *k)
{
    int n = 0;
    pthread_mutex_lock(&k->mu);
    for (lease_claim *c = k->claims; c; c = c->next)
        if (!atomic_load(&c->lost) && store_release(k->st, c->id, k->owner) == 1) {
            atomic_store(&c->lost, 1);   /* its worker must not write any more */
            n++;
        }
    pthread_mutex_unlock(&k->mu);
    return n;
}

void lease_keeper_stop(lease_keeper *k)
{
    if (!k)
        return;
    ticker_stop(k->t);
    pthread_mutex_destroy(&k->mu);
    free(k);
}
