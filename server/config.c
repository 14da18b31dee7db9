/* dmilab server: the configuration of `dmilab serve`. Precedence: flag, then environment, then default. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dmilab_version.h"
#include "util.h"

typedef enum { OPT_STR, OPT_INT, OPT_SIZE } opt_type;

/* One setting, as a Redis config row: its flag, environment variable, type and place in serve_config, bounds,
 * default, help, and for a limit the dml_limit_id that its errors carry. */
typedef struct {
    const char *flag;    /* without the leading "--" */
    const char *env;
    opt_type type;
    size_t offset, cap;  /* field in serve_config; cap for strings */
    long long min, max;
    long long def;               /* numbers: the default */
    const char *def_str;         /* strings: the default */
    long long (*def_fn)(void);   /* a default computed at start-up (overrides def) */
    int limit;                   /* dml_limit_id, or DML_LIMIT_NONE */
    const char *help;
} option;

static long long ncpu(void) { return util_ncpu(); }
static long long default_memory(void) { return (long long)config_default_max_memory(); }

#define STR(f, d) OPT_STR, offsetof(serve_config, f), sizeof(((serve_config *)0)->f), 0, 0, 0, d, NULL, DML_LIMIT_NONE
#define INT(f, lo, hi, d) OPT_INT, offsetof(serve_config, f), 0, lo, hi, d, NULL, NULL, DML_LIMIT_NONE
#define SIZE(f, lo, hi, d) OPT_SIZE, offsetof(serve_config, f), 0, lo, hi, d, NULL, NULL, DML_LIMIT_NONE
#define LIMIT(type, f, lo, hi, d, fn, id) type, offsetof(serve_config, limits.f), 0, lo, hi, d, NULL, fn, id

static const option options[] = {
    {"bind", "DMILAB_BIND", STR(bind, "127.0.0.1"), "address to listen on (default 127.0.0.1)"},
    {"port", "DMILAB_PORT", INT(port, 1, 65535, 8080), "TCP port (default 8080)"},
    {"db", "DMILAB_DB", STR(db, "./dmilab.db"), "SQLite database file (default ./dmilab.db)"},
    {"workers", "DMILAB_WORKERS", INT(workers, 0, 1024, 1),
     "worker threads: shards computed at once in this process; 0: only remote workers compute (default 1)"},
    {"threads", "DMILAB_THREADS", OPT_INT, offsetof(serve_config, threads), 0, 1, 4096, 1, NULL, ncpu, DML_LIMIT_NONE,
     "threads of each worker thread's shard, and of a kernel request (default: number of cores)"},
    {"data-root", "DMILAB_DATA_ROOT", STR(data_root, "/usr/share/datasets"),
     "data paths of specs must be inside it (default /usr/share/datasets)"},
    {"web-root", "DMILAB_WEB_ROOT", STR(web_root, DMILAB_SOURCE_ROOT "/web"),
     "directory of the dashboard's static files (default: web/ of the source tree)"},
    {"max-body", "DMILAB_MAX_BODY", SIZE(max_body, 1, 1LL << 40, 1 << 20), "largest request body in bytes (default 1048576)"},
    {"max-kernel-numbers", "DMILAB_MAX_KERNEL_NUMBERS",
     LIMIT(OPT_SIZE, max_kernel_numbers, 1, 1LL << 40, 4000000, NULL, DML_LIMIT_KERNEL_NUMBERS),
     "bound of POST /api/v1/kernels on n1*n2 + input numbers (default 4000000)"},
    {"max-kernel-seconds", "DMILAB_MAX_KERNEL_SECONDS",
     LIMIT(OPT_INT, max_kernel_seconds, 1, 100000000, 60, NULL, DML_LIMIT_KERNEL_SECONDS),
     "bound of POST /api/v1/kernels on its estimated computing time, seconds (default 60)"},
    {"token", "DMILAB_TOKEN", STR(token, ""), "bearer token required by POST and DELETE requests (default: none)"},
    {"worker-token", "DMILAB_WORKER_TOKEN", STR(worker_token, ""),
     "bearer token of the worker routes (/api/v1/workers/*), which it alone opens: a cluster's workers cannot delete"
     " or submit experiments (default: the --token)"},
    {"executor", "DMILAB_EXECUTOR", STR(executor, "local"),
     "local: worker threads here and `dmilab worker` processes; slurm: also submits queued shards as Slurm job arrays"
     " of `dmilab worker --once` (sbatch, squeue, scancel on the PATH) (default local)"},
    {"slurm-partition", "DMILAB_SLURM_PARTITION", STR(slurm_partition, ""), "sbatch --partition (default: Slurm's)"},
    {"slurm-account", "DMILAB_SLURM_ACCOUNT", STR(slurm_account, ""), "sbatch --account (default: Slurm's)"},
    {"slurm-time", "DMILAB_SLURM_TIME", STR(slurm_time, ""), "sbatch --time of each task, e.g. 2:00:00 (default: Slurm's)"},
    {"slurm-cpus", "DMILAB_SLURM_CPUS", INT(slurm_cpus, 1, 4096, 1), "sbatch --cpus-per-task, the worker's --threads (default 1)"},
    {"slurm-mem", "DMILAB_SLURM_MEM", STR(slurm_mem, ""), "sbatch --mem of each task, e.g. 4G (default: Slurm's)"},
    {"slurm-max-tasks", "DMILAB_SLURM_MAX_TASKS", INT(slurm_max_tasks, 1, 100000, 64),
     "array tasks queued or running at once (default 64)"},
    {"slurm-options", "DMILAB_SLURM_OPTIONS", STR(slurm_options, ""), "further sbatch options, separated by spaces"},
    {"slurm-server-url", "DMILAB_SLURM_SERVER_URL", STR(slurm_server_url, ""),
     "the URL at which the tasks reach this server (default http://BIND:PORT)"},
    {"slurm-worker", "DMILAB_SLURM_WORKER", STR(slurm_worker, ""),
     "the dmilab executable the tasks run, on a file system the nodes share (default: this one)"},
    {"max-points", "DMILAB_MAX_POINTS", LIMIT(OPT_SIZE, max_points, 1, 1LL << 40, 10000, NULL, DML_LIMIT_POINTS),
     "largest grid of a spec, in points (default 10000)"},
    {"max-n-train", "DMILAB_MAX_N_TRAIN", LIMIT(OPT_SIZE, max_n_train, 1, 1LL << 40, 60000, NULL, DML_LIMIT_N_TRAIN),
     "largest n_train (default 60000)"},
    {"max-n-test", "DMILAB_MAX_N_TEST", LIMIT(OPT_SIZE, max_n_test, 1, 1LL << 40, 10000, NULL, DML_LIMIT_N_TEST),
     "largest n_test (default 10000)"},
    {"max-repeats", "DMILAB_MAX_REPEATS", LIMIT(OPT_INT, max_repeats, 1, 1000000, 100, NULL, DML_LIMIT_REPEATS),
     "largest repeats (default 100)"},
    {"max-depth", "DMILAB_MAX_DEPTH", LIMIT(OPT_INT, max_depth, 1, 1000000, 30, NULL, DML_LIMIT_DEPTH),
     "largest model depth (default 30, the most a layer list holds)"},
    {"max-width", "DMILAB_MAX_WIDTH", LIMIT(OPT_INT, max_width, 1, 1 << 30, 16384, NULL, DML_LIMIT_WIDTH),
     "largest model width (default 16384)"},
    {"max-memory", "DMILAB_MAX_MEMORY", LIMIT(OPT_SIZE, max_memory_bytes, 1, 1LL << 50, 0, default_memory, DML_LIMIT_MEMORY),
     "largest estimated memory of one unit of work, bytes: data, kernel matrices or network, workspaces (default 16 GiB, "
     "or 3/4 of the machine's memory if less)"},
    {"max-experiment-seconds", "DMILAB_MAX_EXPERIMENT_SECONDS",
     LIMIT(OPT_SIZE, max_experiment_seconds, 1, 1LL << 40, 7 * 24 * 3600, NULL, DML_LIMIT_EXPERIMENT_SECONDS),
     "largest estimated computing time of an experiment (the dry-run estimate), seconds (default 604800, 7 days)"},
    {"tile-dir", "DMILAB_TILE_DIR", STR(tile_dir, ""),
     "directory of kernel tile files and the kernel cache (default: the database's path with .tiles appended)"},
    {"cache-bytes", "DMILAB_CACHE_BYTES", SIZE(cache_bytes, 0, 1LL << 50, 2LL << 30),
     "bytes of finished kernels kept in the tile directory for later experiments, least recently used evicted "
     "(default 2147483648; 0 keeps none)"},
    {"tile-rows", "DMILAB_TILE_ROWS", INT(tile_rows, 0, 1 << 30, 0),
     "rows per kernel tile of a kernel split into tile shards (default 0: about 2 s of the cost model per tile)"},
    {"shard-seconds", "DMILAB_SHARD_SECONDS", INT(shard_seconds, 1, 1000000, 60),
     "a tile shard takes tiles worth about this many seconds of the cost model; a kernel of fewer than two such "
     "shards stays one kernel shard (default 60)"},
    {"shard-tiles", "DMILAB_SHARD_TILES", INT(shard_tiles, 0, 1 << 30, 0),
     "tiles per tile shard instead of --shard-seconds (default 0: by --shard-seconds)"},
    {"max-tile-body", "DMILAB_MAX_TILE_BODY", SIZE(max_tile_body, 1, 1LL << 40, 1LL << 30),
     "largest body of a tile upload (POST /api/v1/workers/tile), bytes (default 1073741824)"},
    {"lease-seconds", "DMILAB_LEASE_SECONDS", INT(lease_seconds, 2, 3600, 60),
     "lease of running work: renewed every sixth of it; when it lapses (owner hung, or on another machine and gone)"
     " the work is re-queued; a failing write is retried this long (default 60)"},
    {"max-connections", "DMILAB_MAX_CONNECTIONS", INT(max_connections, 16, 1000000, 4096),
     "open connections at once, each with a thread (the open-file limit is raised to fit; default 4096)"},
    {"max-connections-per-client", "DMILAB_MAX_CONNECTIONS_PER_CLIENT", INT(max_connections_per_client, 1, 1000000, 256),
     "open connections at once from one client address (behind a reverse proxy all clients share its address; default 256)"},
    {"read-timeout", "DMILAB_READ_TIMEOUT", INT(read_timeout, 1, 3600, 20),
     "seconds a request may take to arrive whole, from the connection or the previous reply, plus 1 s per 64 KiB of"
     " body (a client sending a byte now and then is closed; default 20)"},
    {"db-check-seconds", "DMILAB_DB_CHECK_SECONDS", INT(db_check_seconds, 0, 1000000, 3600),
     "check the database's integrity (PRAGMA quick_check, a read of the whole file) this often while serving;"
     " 0: at start-up only (default 3600)"},
};
#define NOPT (sizeof options / sizeof options[0])

void config_usage(FILE *f)
{
    fprintf(f, "usage: dmilab serve [OPTIONS]\n\nRuns the dmilab HTTP service. Every option can also be set by\n"
               "the environment variable shown; a flag wins over the environment.\n\n");
    for (size_t i = 0; i < NOPT; i++) {
        char left[64];
        snprintf(left, sizeof left, "--%s %s", options[i].flag, options[i].type == OPT_STR ? "TEXT" : "N");
        fprintf(f, "  %-28s %-28s %s\n", left, options[i].env, options[i].help);
    }
    fprintf(f, "  %-28s %-28s %s\n", "--help", "", "show this help");
    fprintf(f, "\nSIGTERM or SIGINT stops the service (exit 0): submissions still arriving get 503, long-polls answer\n"
               "at once, running experiments stop after their unit of work (waited for at most 10 s) and go back to the queue.\n"
               "A second signal exits at once (status 1).\n");
}

/* Store a number into the field of row o. */
static void store_number(serve_config *c, const option *o, long long v)
{
    char *dst = (char *)c + o->offset;
    if (o->type == OPT_INT)
        *(int *)dst = (int)v;
    else
        *(size_t *)dst = (size_t)v;
}

static int set(serve_config *c, const option *o, const char *val, const char *source, const char *cmd)
{
    char *dst = (char *)c + o->offset;
    if (o->type == OPT_STR) {
        if (strlen(val) >= o->cap) {
            fprintf(stderr, "dmilab %s: %s: value too long\n", cmd, source);
            return -1;
        }
        memcpy(dst, val, strlen(val) + 1);
        return 0;
    }
    char *end;
    errno = 0;
    long long v = strtoll(val, &end, 10);
    if (errno || end == val || *end || v < o->min || v > o->max) {
        fprintf(stderr, "dmilab %s: %s: expected an integer in [%lld, %lld], got '%s'\n", cmd, source, o->min,
                o->max, val);
        return -1;
    }
    store_number(c, o, v);
    return 0;
}

void config_defaults(serve_config *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < NOPT; i++) {
        const option *o = &options[i];
        if (o->type == OPT_STR)
            snprintf((char *)c + o->offset, o->cap, "%s", o->def_str);
        else
            store_number(c, o, o->def_fn ? o->def_fn() : o->def);
    }
    c->limits.threads = c->threads;
}

/* The row of flag name[0..nlen), or NULL. */
static const option *find_option(const char *name, size_t nlen)
{
    for (size_t i = 0; i < NOPT; i++)
        if (strlen(options[i].flag) == nlen && strncmp(options[i].flag, name, nlen) == 0)
            return &options[i];
    return NULL;
}

int config_parse_limits(serve_config *c, int argc, char **argv, char **rest, int *nrest, const char *cmd)
{
    for (size_t i = 0; i < NOPT; i++) {
        const char *v = getenv(options[i].env);
        if (options[i].limit != DML_LIMIT_NONE && v && *v && set(c, &options[i], v, options[i].env, cmd) != 0)
            return -1;
    }
    *nrest = 0;
    for (int a = 0; a < argc; a++) {
        const char *arg = argv[a], *eq = strchr(arg, '=');
        const option *o = NULL;
        if (strncmp(arg, "--", 2) == 0)
            o = find_option(arg + 2, eq ? (size_t)(eq - (arg + 2)) : strlen(arg + 2));
        if (!o || o->limit == DML_LIMIT_NONE) {
            rest[(*nrest)++] = argv[a];
            continue;
        }
        const char *val = eq ? eq + 1 : NULL;
        if (!val) {
            if (a + 1 >= argc) {
                fprintf(stderr, "dmilab %s: option '%s' needs a value\n", cmd, arg);
                return -1;
            }
            val = argv[++a];
        }
        if (set(c, o, val, arg, cmd) != 0)
            return -1;
    }
    return 0;
}

int config_parse(serve_config *c, int argc, char **argv)
{
    config_defaults(c);
    for (size_t i = 0; i < NOPT; i++) {
        const char *v = getenv(options[i].env);
        if (v && *v && set(c, &options[i], v, options[i].env, "serve") != 0)
            return -1;
    }
    for (int a = 0; a < argc; a++) {
        const char *arg = argv[a];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            config_usage(stdout);
            return 1;
        }
        if (strncmp(arg, "--", 2) != 0) {
            fprintf(stderr, "dmilab serve: unexpected argument '%s' (see --help)\n", arg);
            return -1;
        }
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const option *o = find_option(name, nlen);
        if (!o) {
            fprintf(stderr, "dmilab serve: unknown option '%s' (see --help)\n", arg);
            return -1;
        }
        const char *val = eq ? eq + 1 : NULL;
        if (!val) {
            if (a + 1 >= argc) {
                fprintf(stderr, "dmilab serve: option '%s' needs a value\n", arg);
                return -1;
            }
            val = argv[++a];
        }
        if (set(c, o, val, arg, "serve") != 0)
            return -1;
    }
    c->limits.threads = c->threads;
    if (strcmp(c->executor, "local") != 0 && strcmp(c->executor, "slurm") != 0) {
        fprintf(stderr, "dmilab serve: --executor: expected local or slurm, got '%s'\n", c->executor);
        return -1;
    }
    return 0;
}

size_t config_default_max_memory(void)
{
    const size_t cap = (size_t)16 << 30;
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || page <= 0) return cap;
    double three_quarters = 0.75 * (double)pages * (double)page;
    return three_quarters < (double)cap ? (size_t)three_quarters : cap;
}

void config_limit_hint(const serve_config *c, int id, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; i < NOPT; i++) {
        const option *o = &options[i];
        if (id == DML_LIMIT_NONE || o->limit != id)
            continue;
        const char *field = (const char *)c + o->offset;
        unsigned long long v = o->type == OPT_INT ? (unsigned long long)*(const int *)field : *(const size_t *)field;
        snprintf(out, cap, " (limit set by --%s=%llu)", o->flag, v);
        return;
    }
}
