/* dmilab: `dmilab worker --server URL`: a shard worker on any machine, its protocol requests sent over HTTP (libcurl)
 * to the worker routes of a `dmilab serve` (worker.h, docs/cluster.md). */
#include <curl/curl.h>
#include <limits.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster.h"
#include "commands.h"
#include "lease.h"
#include "util.h"
#include "worker.h"

#define PROG "dmilab worker"
#define IDLE_POLL_SECONDS 2

typedef struct {
    const char *server, *token;
    long timeout;
} http_ctx;

typedef struct {
    char *data;
    size_t len;
} buf;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    buf *b = ud;
    size_t k = size * n;
    char *d = realloc(b->data, b->len + k + 1);
    if (!d)
        return 0;
    memcpy(d + b->len, p, k);
    b->len += k;
    d[b->len] = '\0';
    b->data = d;
    return k;
}

/* POST /api/v1/workers/OP with the request ("fetch": GET /api/v1/workers/tile with it in the query): the HTTP status as the CLUSTER_* status it stands for, or -1 when the
 * server cannot be reached (or answers 5xx other than 503: retried the same way). */
static int http_call(void *ctx, const char *op, const cJSON *req, cJSON **answer)
{
    http_ctx *c = ctx;
    *answer = NULL;
    char url[2048], auth[600], err[CURL_ERROR_SIZE] = "";
    int get = strcmp(op, "fetch") == 0;   /* GET /api/v1/workers/tile?worker=&experiment_id=&key=&tile= */
    snprintf(url, sizeof url, "%s/api/v1/workers/%s", c->server, get ? "tile" : op);
    char *body = get ? strdup("") : cJSON_PrintUnformatted(req);
    CURL *h = body ? curl_easy_init() : NULL;
    if (!h) {
        free(body);
        return -1;
    }
    const char *keys[] = {"worker", "experiment_id", "key", "tile"};
    for (int i = 0; get && i < 4; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, keys[i]);
        char num[32];
        if (cJSON_IsNumber(v))
            snprintf(num, sizeof num, "%.0f", v->valuedouble);
        char *e = cJSON_IsString(v) || cJSON_IsNumber(v) ? curl_easy_escape(h, cJSON_IsString(v) ? v->valuestring : num, 0) : NULL;
        size_t len = strlen(url);
        if (e)
            snprintf(url + len, sizeof url - len, "%c%s=%s", i ? '&' : '?', keys[i], e);
        curl_free(e);
    }
    struct curl_slist *hs = curl_slist_append(NULL, "Content-Type: application/json");
    hs = curl_slist_append(hs, "Expect:");
    if (c->token && *c->token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->token);
        hs = curl_slist_append(hs, auth);
    }
    buf b = {0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    if (!get) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, c->timeout);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, util_version_text());
    long status = 0;
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hs);
    curl_easy_cleanup(h);
    free(body);
    int st = -1;
    if (rc != CURLE_OK) {
        util_log("%s: cannot reach %s: %s", op, url, err[0] ? err : curl_easy_strerror(rc));
    } else if (status == 200) {
        *answer = b.data ? cJSON_Parse(b.data) : NULL;
        st = *answer ? CLUSTER_OK : -1;
    } else if (status == 204 || status == 400 || status == 409 || status == 503) {
        st = (int)status;
    } else if (status == 401) {
        util_log("%s: the server refuses this worker's token (HTTP 401): %s", op, b.data ? b.data : "");
        st = CLUSTER_BAD;
    } else {
        util_log("%s: HTTP %ld from %s: %s", op, status, url, b.data ? b.data : "");
    }
    if (st == CLUSTER_BAD)
        util_log("%s: refused: %s", op, b.data ? b.data : "");
    free(b.data);
    return st;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: dmilab worker --server URL [--token T] [--once] [--threads N] [--data-root DIR]\n\n"
               "Claims shards of queued experiments from a dmilab server, computes them and uploads their results.\n"
               "  --server URL      the server (http://HOST:PORT; TLS through a reverse proxy: https://...)\n"
               "  --token T         the server's worker token (or DMILAB_WORKER_TOKEN, then DMILAB_TOKEN)\n"
               "  --once            exit after one shard (exit 0; 3 when no shard was queued)\n"
               "  --threads N       threads for kernels and training (default: number of cores)\n"
               "  --data-root DIR   where this machine sees the data files (default /usr/share/datasets)\n"
               "  --idle-exit S     exit when no shard was queued for S seconds (default: never)\n"
               "SIGTERM or SIGINT: the running shard stops at its next unit and is given back (exit 0).\n");
}

static atomic_int stopping;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&stopping, 1);
}

int cmd_worker(int argc, char **argv)
{
    const char *server = NULL, *token = getenv("DMILAB_WORKER_TOKEN");
    if (!token || !*token)
        token = getenv("DMILAB_TOKEN");
    const char *data_root = "/usr/share/datasets";
    int once = 0, threads = util_ncpu();
    long idle_exit = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--once") == 0) {
            once = 1;
        } else if (strcmp(a, "--server") == 0 && v) {
            server = argv[++i];
        } else if (strcmp(a, "--token") == 0 && v) {
            token = argv[++i];
        } else if (strcmp(a, "--data-root") == 0 && v) {
            data_root = argv[++i];
        } else if ((strcmp(a, "--threads") == 0 || strcmp(a, "--idle-exit") == 0) && v) {
            char *end;
            long x = strtol(argv[++i], &end, 10);
            if (*end || x < 1 || x > 100000000) {
                fprintf(stderr, "%s: %s needs a positive integer\n", PROG, a);
                return 2;
            }
            if (a[2] == 't')
                threads = (int)(x > 4096 ? 4096 : x);
            else
                idle_exit = x;
        } else {
            fprintf(stderr, "%s: unexpected argument '%s'\n\n", PROG, a);
            usage(stderr);
            return 2;
        }
    }
    if (!server) {
        fprintf(stderr, "%s: --server URL is required\n\n", PROG);
        usage(stderr);
        return 2;
    }
    char root[PATH_MAX];
    if (!realpath(data_root, root)) {
        fprintf(stderr, "%s: --data-root %s does not exist\n", PROG, data_root);
        return 2;
    }
    char url[2048];
    snprintf(url, sizeof url, "%s", server);
    for (size_t n = strlen(url); n > 0 && url[n - 1] == '/'; n--)
        url[n - 1] = '\0';
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    lease_owner_init("worker");
    char slurm[64] = "";
    const char *job = getenv("SLURM_ARRAY_JOB_ID"), *task = getenv("SLURM_ARRAY_TASK_ID");
    if (job && task)
        snprintf(slurm, sizeof slurm, "%s_%s", job, task);
    else if ((job = getenv("SLURM_JOB_ID")))
        snprintf(slurm, sizeof slurm, "%s", job);
    http_ctx ctx = {.server = url, .token = token, .timeout = 120};
    worker_transport t = {.ctx = &ctx, .call = http_call};
    worker_opts o = {.owner = lease_owner_self(), .threads = threads, .data_root = root,
                     .slurm_job = slurm[0] ? slurm : NULL, .stopping = &stopping};
    util_log("%s %s: worker %s (%d thread(s)%s%s) serving %s", PROG, util_version_text(), o.owner, threads,
             slurm[0] ? ", Slurm job " : "", slurm, url);
    int rc = 0;
    double idle_since = util_now_ms() / 1000.0;
    while (!atomic_load(&stopping)) {
        int r = worker_step(&t, &o);
        if (r == WORKER_RAN) {
            idle_since = util_now_ms() / 1000.0;
            if (once)
                break;
            continue;
        }
        if (once && r == WORKER_IDLE) {
            rc = 3;
            break;
        }
        if (idle_exit && util_now_ms() / 1000.0 - idle_since >= (double)idle_exit) {
            util_log("%s: no shard queued for %ld s: exiting", PROG, idle_exit);
            break;
        }
        for (int k = 0; k < IDLE_POLL_SECONDS * 10 && !atomic_load(&stopping); k++)
            usleep(100000);
    }
    util_log_flush();
    curl_global_cleanup();
    return rc;
}
