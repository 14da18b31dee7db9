/* dmilab server: the Slurm executor. See slurm.h and docs/cluster.md. */
#include "slurm.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store_shards.h"
#include "ticker.h"
#include "util.h"

#define JOB_NAME "dmilab-worker"
#define TICK_SECONDS 2.0

extern char **environ;

struct slurm {
    app *a;
    ticker *t;
    char exe[PATH_MAX];
    char url[600];
    char log_dir[PATH_MAX];
};

/* Run argv (found on the PATH) with `env` (NULL: this process's), its standard output into out[cap] (may be NULL).
 * Returns its exit status, or -1 when it cannot run. */
static int run(char *const argv[], char *const env[], char *out, size_t cap)
{
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
    posix_spawn_file_actions_addclose(&fa, fd[0]);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, env ? env : environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fd[1]);
    if (rc != 0) {
        close(fd[0]);
        util_log("slurm: cannot run %s: %s", argv[0], strerror(rc));
        return -1;
    }
    size_t n = 0;
    char sink[512];
    for (;;) {
        ssize_t k = out && n + 1 < cap ? read(fd[0], out + n, cap - 1 - n) : read(fd[0], sink, sizeof sink);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        if (out && n + 1 < cap)
            n += (size_t)k;
    }
    close(fd[0]);
    if (out)
        out[n] = '\0';
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Tasks of our job arrays pending or running: squeue -h -r --name=dmilab-worker, one line each. */
static long tasks_alive(void)
{
    char out[1 << 16];
    char *argv[] = {"squeue", "-h", "-r", "--name=" JOB_NAME, "-o", "%i %T", NULL};
    if (run(argv, NULL, out, sizeof out) != 0)
        return -1;
    long n = 0;
    for (char *p = out; *p; p++)
        n += *p == '\n';
    return n;
}

static void add(char **v, int *n, char *s)
{
    v[(*n)++] = s;
}

/* sbatch --array=0-(k-1) of `dmilab worker --once`; the worker token through the environment, not the command line. */
static void submit(slurm *s, long k)
{
    const serve_config *c = s->a->cfg;
    char array[64], cpus[64], part[160], acct[160], tim[64], mem[64], out[PATH_MAX + 32], wrap[2 * PATH_MAX + 1024];
    snprintf(array, sizeof array, "--array=0-%ld", k - 1);
    snprintf(cpus, sizeof cpus, "--cpus-per-task=%d", c->slurm_cpus);
    snprintf(out, sizeof out, "--output=%s/slurm-%%A_%%a.out", s->log_dir);
    snprintf(wrap, sizeof wrap, "exec '%s' worker --server '%s' --once --threads %d --data-root '%s'", s->exe, s->url,
             c->slurm_cpus, c->data_root);
    char *argv[64], opts[sizeof c->slurm_options];
    int n = 0;
    add(argv, &n, "sbatch");
    add(argv, &n, "--parsable");
    add(argv, &n, "--job-name=" JOB_NAME);
    add(argv, &n, array);
    add(argv, &n, cpus);
    add(argv, &n, out);
    if (c->slurm_partition[0])
        add(argv, &n, (snprintf(part, sizeof part, "--partition=%s", c->slurm_partition), part));
    if (c->slurm_account[0])
        add(argv, &n, (snprintf(acct, sizeof acct, "--account=%s", c->slurm_account), acct));
    if (c->slurm_time[0])
        add(argv, &n, (snprintf(tim, sizeof tim, "--time=%s", c->slurm_time), tim));
    if (c->slurm_mem[0])
        add(argv, &n, (snprintf(mem, sizeof mem, "--mem=%s", c->slurm_mem), mem));
    snprintf(opts, sizeof opts, "%s", c->slurm_options);
    for (char *save = NULL, *tok = strtok_r(opts, " ", &save); tok && n < 56; tok = strtok_r(NULL, " ", &save))
        add(argv, &n, tok);
    add(argv, &n, "--wrap");
    add(argv, &n, wrap);
    argv[n] = NULL;
    /* the environment, with the worker token (sbatch exports the whole environment to the tasks by default) */
    size_t ne = 0;
    while (environ[ne])
        ne++;
    char **env = calloc(ne + 2, sizeof *env), tokvar[300];
    if (!env)
        return;
    size_t m = 0;
    for (size_t i = 0; i < ne; i++)
        if (strncmp(environ[i], "DMILAB_WORKER_TOKEN=", 20) != 0)
            env[m++] = environ[i];
    const char *token = c->worker_token[0] ? c->worker_token : c->token;
    if (*token) {
        snprintf(tokvar, sizeof tokvar, "DMILAB_WORKER_TOKEN=%s", token);
        env[m++] = tokvar;
    }
    char job[128] = "";
    int rc = run(argv, env, job, sizeof job);
    free(env);
    job[strcspn(job, "\n;")] = '\0';
    if (rc == 0 && job[0])
        util_log("slurm: submitted job %s: %ld task(s) of dmilab worker --once", job, k);
    else
        util_log("slurm: sbatch failed (exit %d)", rc);
}

static void tick(void *p)
{
    slurm *s = p;
    long want = store_shards_claimable(s->a->st);
    if (want <= 0)
        return;
    long alive = tasks_alive();
    if (alive < 0)
        return;
    long room = s->a->cfg->slurm_max_tasks - alive;
    long k = want - alive < room ? want - alive : room;
    if (k > 0)
        submit(s, k);
}

slurm *slurm_start(app *a)
{
    slurm *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->a = a;
    const serve_config *c = a->cfg;
    if (c->slurm_worker[0])
        snprintf(s->exe, sizeof s->exe, "%s", c->slurm_worker);
    else if (!realpath("/proc/self/exe", s->exe)) {
        util_log("slurm: cannot find this executable");
        free(s);
        return NULL;
    }
    if (c->slurm_server_url[0])
        snprintf(s->url, sizeof s->url, "%s", c->slurm_server_url);
    else
        snprintf(s->url, sizeof s->url, "http://%s%s%s:%d", strchr(c->bind, ':') ? "[" : "",
                 strcmp(c->bind, "0.0.0.0") == 0 ? "127.0.0.1" : c->bind, strchr(c->bind, ':') ? "]" : "", c->port);
    char db[PATH_MAX], dir[PATH_MAX];
    snprintf(db, sizeof db, "%s", c->db);
    if (!realpath(dirname(db), dir))
        snprintf(dir, sizeof dir, ".");
    snprintf(s->log_dir, sizeof s->log_dir, "%s", dir);
    char *argv[] = {"sbatch", "--version", NULL};
    if (run(argv, NULL, NULL, 0) != 0) {
        util_log("--executor slurm: sbatch is not on the PATH (or fails): Slurm's client commands are needed");
        free(s);
        return NULL;
    }
    a->slurm = s;
    if (!(s->t = ticker_start(TICK_SECONDS, tick, s))) {
        a->slurm = NULL;
        free(s);
        return NULL;
    }
    util_log("slurm: executor on (tasks reach this server at %s; output in %s)", s->url, s->log_dir);
    return s;
}

void slurm_stop(slurm *s)
{
    if (!s)
        return;
    ticker_stop(s->t);
    s->a->slurm = NULL;
    free(s);
}

int slurm_cancel_experiment(slurm *s, const char *id)
{
    if (!s)
        return 0;
    char jobs[4096];
    int n = store_shards_slurm_jobs(s->a->st, id, jobs, sizeof jobs);
    if (n <= 0)
        return n < 0 ? -1 : 0;
    char *argv[256];
    int k = 0;
    argv[k++] = "scancel";
    for (char *save = NULL, *tok = strtok_r(jobs, ",", &save); tok && k < 255; tok = strtok_r(NULL, ",", &save))
        argv[k++] = tok;
    argv[k] = NULL;
    int rc = run(argv, NULL, NULL, 0);
    util_log("experiment %s: scancel of %d Slurm task(s): exit %d", id, k - 1, rc);
    return rc == 0 ? k - 1 : -1;
}
