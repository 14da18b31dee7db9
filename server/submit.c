/* dmilab: `dmilab submit`, the CI command: submit a spec to a running server (libcurl), long-poll it to its end, write
 * JUnit, print its results and failing checks, and exit 0 / 1 / 2 as `dmilab run` does. */
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "checks_report.h"
#include "dmilab/json.h"
#include "commands.h"
#include "util.h"

#define PROG "dmilab submit"
#define POLL_DEFAULT 60
#define POLL_MAX 300              /* the cap of one GET .../wait */
#define RETRIES 5                 /* consecutive transient failures (no connection, 502-504) tolerated while waiting */

static void usage(FILE *f)
{
    fprintf(f, "usage: dmilab submit SPEC.json --server URL [--token T] [--wait] [--junit FILE] [--poll S] [--timeout S]\n\n"
               "Submits the spec (- reads standard input) to the dmilab server at URL (POST /api/v1/experiments, with\n"
               "an Idempotency-Key, so a retry never queues it twice). Without --wait it prints the queued experiment\n"
               "and exits 0. With --wait (implied by --junit) it long-polls GET .../wait (S seconds a call, default 60,\n"
               "at most 300) again and again until the experiment ends, with its progress on standard error, writes\n"
               "the JUnit of its checks to FILE, prints its results JSON (points, curves, checks, resolved_spec,\n"
               "version, provenance, status, error) on standard output and names each failing check on standard\n"
               "error. --timeout S gives up waiting after S seconds (exit 2; the experiment goes on).\n"
               "The token is --token or DMILAB_TOKEN (sent as Authorization: Bearer T).\n\n"
               "Exit status: 0 every check passed, 1 a check failed, 2 the experiment failed or was cancelled, or any\n"
               "error (no connection, a 4xx or 5xx answer: the server's error body is printed).\n");
}

typedef struct {
    char *data;
    size_t len;
} buf;

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    buf *b = ud;
    char *d = realloc(b->data, b->len + sz * n + 1);
    if (!d)
        return 0;
    memcpy(d + b->len, p, sz * n);
    b->data = d;
    b->len += sz * n;
    b->data[b->len] = '\0';
    return sz * n;
}

typedef struct {
    const char *server, *token;
    char key[64];
} client;

typedef struct {
    long status;          /* 0: no answer */
    buf body;
    long retry_after;     /* seconds, -1 when absent */
    char error[CURL_ERROR_SIZE];
} answer;

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    answer *a = ud;
    size_t len = sz * n;
    if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0)
        a->retry_after = strtol(p + 12, NULL, 10);
    return len;
}

/* One request; `body` NULL for a GET. Fills *a (free a->body.data). */
static void request(const client *c, const char *method, const char *path, const char *body, size_t len, long timeout,
                    answer *a)
{
    memset(a, 0, sizeof *a);
    a->retry_after = -1;
    char url[2048];
    snprintf(url, sizeof url, "%s%s", c->server, path);
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(a->error, sizeof a->error, "cannot initialize libcurl");
        return;
    }
    struct curl_slist *hs = NULL;
    char line[600];
    if (c->token && *c->token) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", c->token);
        hs = curl_slist_append(hs, line);
    }
    if (body) {
        hs = curl_slist_append(hs, "Content-Type: application/json");
        snprintf(line, sizeof line, "Idempotency-Key: %s", c->key);
        hs = curl_slist_append(hs, line);
        hs = curl_slist_append(hs, "Expect:");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &a->body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, a->error);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, util_version_text());
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
    else if (!a->error[0])
        snprintf(a->error, sizeof a->error, "%s", curl_easy_strerror(rc));
    curl_slist_free_all(hs);
    curl_easy_cleanup(h);
}

/* The failure of a request on stderr: no connection, or the status and the server's body. */
static void report(const client *c, const char *method, const char *path, const answer *a)
{
    if (a->status == 0)
        fprintf(stderr, "%s: %s %s%s: cannot reach the server: %s\n", PROG, method, c->server, path, a->error);
    else
        fprintf(stderr, "%s: %s %s%s: HTTP %ld: %s\n", PROG, method, c->server, path, a->status,
                a->body.data ? a->body.data : "(no body)");
}

/* A transient failure worth retrying while waiting: no answer, or 502, 503, 504. */
static int transient(const answer *a)
{
    return a->status == 0 || a->status == 502 || a->status == 503 || a->status == 504;
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* GET path as JSON (NULL after reporting an error). */
static cJSON *get_json(const client *c, const char *path, long timeout)
{
    answer a;
    request(c, "GET", path, NULL, 0, timeout, &a);
    cJSON *j = a.status == 200 && a.body.data ? cJSON_Parse(a.body.data) : NULL;
    if (!j)
        report(c, "GET", path, &a);
    free(a.body.data);
    return j;
}

static long positive_arg(const char *flag, const char *v, long max)
{
    char *end;
    long x = v ? strtol(v, &end, 10) : -1;
    if (!v || *end || x < 1 || x > max) {
        fprintf(stderr, "%s: %s needs an integer from 1 to %ld\n", PROG, flag, max);
        return -1;
    }
    return x;
}

int cmd_submit(int argc, char **argv)
{
    const char *spec_path = NULL, *server = NULL, *token = getenv("DMILAB_TOKEN"), *junit = NULL;
    int wait = 0;
    long poll = POLL_DEFAULT, timeout = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--wait") == 0) {
            wait = 1;
        } else if (strcmp(a, "--server") == 0 && v) {
            server = argv[++i];
        } else if (strcmp(a, "--token") == 0 && v) {
            token = argv[++i];
        } else if (strcmp(a, "--junit") == 0 && v) {
            junit = argv[++i];
            wait = 1;
        } else if (strcmp(a, "--poll") == 0) {
            if ((poll = positive_arg(a, v, POLL_MAX)) < 0)
                return 2;
            i++;
        } else if (strcmp(a, "--timeout") == 0) {
            if ((timeout = positive_arg(a, v, 100000000)) < 0)
                return 2;
            i++;
        } else if ((strncmp(a, "--", 2) == 0 && strcmp(a, "-") != 0) || spec_path) {
            fprintf(stderr, "%s: unexpected argument '%s'\n\n", PROG, a);
            usage(stderr);
            return 2;
        } else {
            spec_path = a;
        }
    }
    if (!spec_path || !server) {
        usage(stderr);
        return 2;
    }
    size_t len;
    char *spec = strcmp(spec_path, "-") == 0 ? util_read_stream(stdin, &len) : util_read_file(spec_path, &len);
    if (!spec) {
        fprintf(stderr, "%s: cannot read %s\n", PROG, spec_path);
        return 2;
    }
    char base[1024];
    snprintf(base, sizeof base, "%s", server);
    for (size_t n = strlen(base); n > 0 && base[n - 1] == '/'; n--)
        base[n - 1] = '\0';
    client c = {.server = base, .token = token};
    /* one key per invocation: a POST retried after a 503 (or a lost answer) never queues the spec twice */
    char id[UTIL_ID_LEN];
    if (util_new_id(id) != 0) {
        fprintf(stderr, "%s: cannot read /dev/urandom\n", PROG);
        free(spec);
        return 2;
    }
    snprintf(c.key, sizeof c.key, "submit-%s-%ld", id + 4, (long)getpid());
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = 2;
    cJSON *exp = NULL, *results = NULL, *checks = NULL;
    answer a;
    memset(&a, 0, sizeof a);
    for (int attempt = 0;; attempt++) {
        request(&c, "POST", "/api/v1/experiments", spec, len, 60, &a);
        if (a.status != 503 || attempt >= RETRIES)
            break;
        long s = a.retry_after > 0 && a.retry_after <= 60 ? a.retry_after : 5;
        fprintf(stderr, "%s: the server answered 503 (%s); retrying in %ld s\n", PROG,
                a.body.data ? a.body.data : "unavailable", s);
        free(a.body.data);
        sleep((unsigned)s);
    }
    free(spec);
    if (a.status != 200 && a.status != 201) {
        report(&c, "POST", "/api/v1/experiments", &a);
        goto done;
    }
    exp = a.body.data ? cJSON_Parse(a.body.data) : NULL;
    const cJSON *jid = cJSON_GetObjectItemCaseSensitive(exp, "id");
    if (!cJSON_IsString(jid)) {
        fprintf(stderr, "%s: the server's answer has no experiment id: %s\n", PROG, a.body.data ? a.body.data : "");
        goto done;
    }
    char eid[128];
    snprintf(eid, sizeof eid, "%s", jid->valuestring);
    fprintf(stderr, "%s: %s %s (%s/api/v1/experiments/%s)\n", PROG, eid, a.status == 201 ? "queued" : "submitted before",
            c.server, eid);
    if (!wait) {
        puts(a.body.data);
        rc = fflush(stdout) == 0 ? 0 : 2;
        goto done;
    }

    /* long-poll until it ends */
    double t0 = mono_now();
    int failures = 0;
    char path[256], status[32] = "";
    for (;;) {
        long left = timeout ? timeout - (long)(mono_now() - t0) : poll;
        if (left <= 0) {
            fprintf(stderr, "%s: %s has not ended after --timeout %ld s (status %s); it goes on on the server\n", PROG,
                    eid, timeout, status);
            goto done;
        }
        snprintf(path, sizeof path, "/api/v1/experiments/%s/wait?timeout=%ld", eid, left < poll ? left : poll);
        answer w;
        request(&c, "GET", path, NULL, 0, poll + 30, &w);
        if (w.status != 200) {
            if (transient(&w) && ++failures <= RETRIES) {
                double s = pow(2, failures - 1);
                fprintf(stderr, "%s: waiting for %s: %s%s; retrying in %.0f s\n", PROG, eid,
                        w.status ? "HTTP " : "", w.status ? (w.body.data ? w.body.data : "") : w.error, s);
                free(w.body.data);
                sleep((unsigned)s);
                continue;
            }
            report(&c, "GET", path, &w);
            free(w.body.data);
            goto done;
        }
        failures = 0;
        cJSON_Delete(exp);
        exp = w.body.data ? cJSON_Parse(w.body.data) : NULL;
        free(w.body.data);
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(exp, "status");
        const cJSON *pr = cJSON_GetObjectItemCaseSensitive(exp, "progress");
        snprintf(status, sizeof status, "%s", cJSON_IsString(st) ? st->valuestring : "?");
        fprintf(stderr, "%s: %s %s %.0f%% after %.0f s\n", PROG, eid, status,
                cJSON_IsNumber(pr) ? 100 * pr->valuedouble : 0.0, mono_now() - t0);
        if (strcmp(status, "queued") != 0 && strcmp(status, "running") != 0 && strcmp(status, "?") != 0)
            break;
    }

    /* it ended: its results, checks and JUnit */
    snprintf(path, sizeof path, "/api/v1/experiments/%s/results", eid);
    results = get_json(&c, path, 300);
    snprintf(path, sizeof path, "/api/v1/experiments/%s/checks", eid);
    checks = get_json(&c, path, 300);
    if (!results || !checks)
        goto done;
    if (junit) {
        snprintf(path, sizeof path, "/api/v1/experiments/%s/checks?format=junit", eid);
        answer x;
        request(&c, "GET", path, NULL, 0, 300, &x);
        FILE *f = x.status == 200 ? fopen(junit, "w") : NULL;
        int written = f && x.body.data && fputs(x.body.data, f) >= 0;
        if (f && fclose(f) != 0)
            written = 0;
        if (x.status != 200)
            report(&c, "GET", path, &x);
        else if (!written)
            fprintf(stderr, "%s: cannot write %s\n", PROG, junit);
        free(x.body.data);
        if (!written)
            goto done;
    }
    static const char *const members[] = {"status", "error", "error_detail", "resolved_spec", "version", "provenance"};
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++) {
        cJSON *m = cJSON_DetachItemFromObjectCaseSensitive(exp, members[i]);
        cJSON_AddItemToObject(results, members[i], m ? m : cJSON_CreateNull());
    }
    cJSON *passed = cJSON_GetObjectItemCaseSensitive(checks, "passed");
    int green = cJSON_IsTrue(passed);
    cJSON_AddItemToObject(results, "checks", checks);
    checks = NULL;
    char *out = dml_json_print(results);
    int ok = out && puts(out) >= 0 && fflush(stdout) == 0;
    free(out);
    const cJSON *det = cJSON_GetObjectItemCaseSensitive(results, "error_detail");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(results, "error");
    const cJSON *field = cJSON_GetObjectItemCaseSensitive(det, "field");
    if (strcmp(status, "succeeded") != 0) {
        fprintf(stderr, "%s: %s %s%s%s%s%s\n", PROG, eid, status, cJSON_IsString(msg) ? ": " : "",
                cJSON_IsString(msg) ? msg->valuestring : "", cJSON_IsString(field) ? " at " : "",
                cJSON_IsString(field) ? field->valuestring : "");
        rc = 2;
    } else {
        checks_report(stderr, PROG, cJSON_GetObjectItemCaseSensitive(results, "checks"));
        rc = !ok ? 2 : green ? 0 : 1;
    }
done:
    free(a.body.data);
    cJSON_Delete(exp);
    cJSON_Delete(results);
    cJSON_Delete(checks);
    curl_global_cleanup();
    return rc;
}
