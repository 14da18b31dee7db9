/* dmilab: `dmilab serve`: store, worker queue and HTTP daemon, until SIGINT or SIGTERM. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "cluster.h"
#include "commands.h"
#include "config.h"
#include "health.h"
#include "http.h"
#include "lease.h"
#include "queue.h"
#include "slurm.h"
#include "util.h"

/* How long a stopping service waits for running experiments to reach the end of their unit of work. */
#define SHUTDOWN_GRACE_SECONDS 10

static int gone_owner(void *ctx, const char *owner)
{
    (void)ctx;
    return lease_owner_gone(owner);
}

static void wake_workers(void *ctx)
{
    app *a = ctx;
    if (a->q)
        queue_notify(a->q);
}

static void on_second_signal(int sig)
{
    (void)sig;
    static const char msg[] = "dmilab: second signal: exiting now\n";
    ssize_t k = write(2, msg, sizeof msg - 1);
    (void)k;
    _exit(1);
}

int cmd_serve(int argc, char **argv)
{
    serve_config cfg;
    int pc = config_parse(&cfg, argc, argv);
    if (pc != 0)
        return pc > 0 ? 0 : 2;

    /* Signals are taken by sigwait in this thread: block them before any thread starts. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    static app a;
    memset(&a, 0, sizeof a);
    a.cfg = &cfg;
    if (strlen(cfg.data_root) >= DML_PATH_MAX) {
        util_log("--data-root is too long");
        return 2;
    }
    atomic_init(&a.stopping, 0);
    app_events_init(&a);
    snprintf(a.version, sizeof a.version, "%s", util_version_text());
    /* tile files beside the database unless configured: a restart resumes from them */
    if (cfg.tile_dir[0]) snprintf(a.tile_dir, sizeof a.tile_dir, "%s", cfg.tile_dir);
    else snprintf(a.tile_dir, sizeof a.tile_dir, "%s.tiles", cfg.db);
    if (!realpath(cfg.web_root, a.web_root)) {
        util_log("warning: web root %s does not exist: no dashboard", cfg.web_root);
        a.web_root[0] = '\0';
    }

    char err[512];
    a.st = store_open(cfg.db, err, sizeof err);
    if (!a.st) {
        util_log("%s", err);
        return 2;
    }
    /* Running work of another live process on this database (a second server) keeps running there; work whose
     * owner is gone (this process's predecessor, killed) or whose lease lapsed is queued again and resumes. */
    lease_owner_init("serve");
    char now[UTIL_TIME_LEN];
    util_now(now);
    int requeued = store_expire_leases(a.st, util_now_ms(), gone_owner, NULL, now);
    if (requeued > 0)
        util_log("re-queued %d experiment(s) whose owner is gone", requeued);
    health *hl = health_start(a.st, cfg.db_check_seconds);
    lease_keeper *keeper = lease_keeper_start(a.st, lease_owner_self(), cfg.lease_seconds, wake_workers, &a);
    cluster *cl = keeper ? cluster_start(&a, keeper, wake_workers, &a) : NULL;
    a.q = cl ? queue_start(&a, cfg.workers) : NULL;
    slurm *sl = NULL;
    if (a.q && strcmp(cfg.executor, "slurm") == 0 && !(sl = slurm_start(&a))) {
        queue_stop(a.q, SHUTDOWN_GRACE_SECONDS);
        a.q = NULL;
    }
    if (!a.q) {
        cluster_stop(cl);
        lease_keeper_stop(keeper);
        health_stop(hl);
        store_close(a.st);
        return 2;
    }
    http_server *h = http_start(&a, err, sizeof err);
    if (!h) {
        util_log("%s", err);
        slurm_stop(sl);
        if (queue_stop(a.q, SHUTDOWN_GRACE_SECONDS) == 0) {
            cluster_stop(cl);
            lease_keeper_stop(keeper);
            health_stop(hl);
            store_close(a.st);
        }
        return 2;
    }
    util_log("%s listening on http://%s%s%s:%d/ (database %s, %d worker(s) x %d thread(s)%s%s, executor %s)", a.version,
             strchr(cfg.bind, ':') ? "[" : "", cfg.bind, strchr(cfg.bind, ':') ? "]" : "", cfg.port, cfg.db,
             cfg.workers, cfg.threads, cfg.token[0] ? ", token required" : "",
             cfg.worker_token[0] ? ", worker token required" : "", cfg.executor);

    int sig = 0;
    sigwait(&sigs, &sig);
    util_log("signal %d: stopping", sig);
    /* A second SIGINT/SIGTERM during the stop ends the process at once (status 1); what is stored stays
     * consistent (SQLite) and running experiments resume at the next start. Threads created before the mask
     * above (OpenBLAS's) may take it, so a handler, not sigwait. */
    signal(SIGINT, on_second_signal);
    signal(SIGTERM, on_second_signal);
    pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
    /* New submissions get 503 from now on, long-polls answer at once; requests in flight finish, then the
     * listening socket closes. */
    atomic_store(&a.stopping, 1);
    app_changed(&a);
    http_stop(h);
    slurm_stop(sl);
    int busy = queue_stop(a.q, SHUTDOWN_GRACE_SECONDS);
    if (busy) {
        /* The running unit is abandoned: its experiment goes back to the queue, for another server on this database
         * or the next start. */
        int n = lease_keeper_release_all(keeper);
        util_log("%d experiment(s) still running abandoned, %d given back to the queue", busy, n);
        util_log_flush();
        fflush(NULL);
        _exit(0);   /* no atexit handlers while worker threads still run */
    }
    cluster_stop(cl);
    lease_keeper_stop(keeper);
    health_stop(hl);
    store_close(a.st);
    util_log("stopped");
    return 0;
}
