/* POST /api/v1/kernels under a memory limit (issue 9): a real `dmilab serve` whose address space is capped
 * with RLIMIT_AS (ulimit -v 700000) answers a legal request of n = 1,500 fcn inputs of 16 numbers (a 1500 x
 * 1500 NNGP and NTK, 4.5 million numbers of response) with the whole response, correct where checked, and keeps
 * serving; and the route's memory estimate counts the request and response text: with --max-memory below what
 * that request really needs (the matrices alone fit), it is a 413 naming the limit, not an attempt; empirical
 * kernels over HTTP carry their standard errors and stay within the server's limits.
 * usage: test_kernel_route DMILAB_EXE */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include "dmilab/kernel.h"
#include "test_api_util.h"

#define N 1500
#define D 16

static char *request(double **x)
{
    *x = malloc(sizeof **x * N * D);
    size_t cap = (size_t)N * D * 24 + 256, n = 0;
    char *b = malloc(cap);
    n += (size_t)snprintf(b + n, cap - n, "{\"model\": {\"arch\": \"fcn\", \"depth\": 2}, \"x1\": {\"shape\": [%d, %d], "
                                         "\"data\": [", N, D);
    for (int i = 0; i < N * D; i++) {
        (*x)[i] = (double)((i * 7919) % 201 - 100) / 37.0;
        n += (size_t)snprintf(b + n, cap - n, "%s%.17g", i ? ", " : "", (*x)[i]);
    }
    snprintf(b + n, cap - n, "]}}");
    return b;
}

/* The first `k` numbers after `"name": {"shape": [...], "data": [` in text. */
static int numbers_after(const char *text, const char *name, double *out, int k)
{
    const char *p = strstr(text, name);
    if (!p || !(p = strstr(p, "\"data\": ["))) return -1;
    p += strlen("\"data\": [");
    for (int i = 0; i < k; i++) {
        char *end;
        out[i] = strtod(p, &end);
        if (end == p) return -1;
        p = end;
        while (*p == ',' || *p == ' ') p++;
    }
    return 0;
}

static size_t count_char(const char *s, char c)
{
    size_t n = 0;
    for (; *s; s++) n += *s == c;
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_kernel_route DMILAB_EXE\n");
        return 2;
    }
    t_init(argv[1], "kernel_route");
    double *x;
    char *body = request(&x);
    const char *big_body[] = {"--max-body", "4000000", NULL};

    /* 1. under ulimit -v 700000 (the server inherits the soft limit of the fork; this process takes it back):
     * the request must not take the server down. Its few hundred MB of address space at rest (thread stacks,
     * malloc arenas, OpenBLAS buffers) leave about 110 MB for the request's ~160 MB peak estimate: it answers
     * 200 with every number, or, when the threads of the moment leave less, a clean 500 "out of memory". Then,
     * under 900000 KiB, it must answer 200, and the numbers must be right. */
    struct rlimit old;
    getrlimit(RLIMIT_AS, &old);
    for (int pass = 0; pass < 2; pass++) {
        struct rlimit lim = old;
        lim.rlim_cur = (pass ? 900000ULL : 700000ULL) * 1024;
        if (old.rlim_max != RLIM_INFINITY && old.rlim_max < lim.rlim_cur) lim.rlim_cur = old.rlim_max;
        setrlimit(RLIMIT_AS, &lim);
        int started = start_server(big_body);
        setrlimit(RLIMIT_AS, &old);
        if (!check(started == 0, "server starts under RLIMIT_AS %llu KiB", (unsigned long long)lim.rlim_cur / 1024))
            return t_finish();
        resp r;
        long st = post_json("/api/v1/kernels", body, &r);
        if (pass == 0 && st == 500) {
            check(is_error(&r, "internal", NULL) && strstr(r.body, "out of memory"),
                  "1500 x 1500 fcn kernels under 700000 KiB: a clean 'out of memory' error");
        } else {
            check(st == 200, "1500 x 1500 fcn kernels under %llu KiB: status %ld", (unsigned long long)lim.rlim_cur / 1024,
                  st);
        }
        if (st == 200) {
            /* the whole response: 2 x 1500^2 numbers; the top-left 3x3 block as dml_kernel computes it */
            check(count_char(r.body, ',') == 2 * ((size_t)N * N - 1) + 5, "every number is there (%zu commas)",
                  count_char(r.body, ','));
            dml_model m;
            dml_model_defaults(&m);
            m.depth = 2;
            dml_shape s = {.nd = 0, .channels = D};
            double K[9], T[9], got[N + 3];
            dml_error err;
            int rc = dml_kernel(&m, &s, x, 3, NULL, 3, K, T, 1, &err);
            int same = rc == 0;
            for (int what = 0; same && what < 2; what++) {
                same = numbers_after(r.body, what ? "\"ntk\"" : "\"nngp\"", got, N + 3) == 0;
                for (int i = 0; same && i < 3; i++)
                    same = fabs(got[i] - (what ? T : K)[i]) <= 1e-12 * fabs((what ? T : K)[i]) &&
                           fabs(got[N + i] - (what ? T : K)[3 + i]) <= 1e-12 * fabs((what ? T : K)[3 + i]);
            }
            check(same, "the response holds the kernels dml_kernel computes (%%.17g)");
        }
        resp_free(&r);
        check(get("/healthz", &r) == 200, "the server still answers /healthz");
        resp_free(&r);
        stop_server(15);
    }
    resp r;
    long st;

    /* 2. the estimate counts the text: 40 MB holds the two matrices (36 MB) but not the response (about 100 MB) */
    const char *tight[] = {"--max-body", "4000000", "--max-memory", "40000000", NULL};
    if (check(start_server(tight) == 0, "server starts with --max-memory 40000000")) {
        st = post_json("/api/v1/kernels", body, &r);
        cJSON *j = json_of(&r);
        const char *msg = j ? str_at(cJSON_GetObjectItem(j, "error"), "message") : NULL;
        check(st == 413 && is_error(&r, "payload_too_large", NULL) && msg && strstr(msg, "max-memory"),
              "beyond --max-memory with the response text counted: %ld %s", st, msg ? msg : "");
        cJSON_Delete(j);
        resp_free(&r);
    }
    stop_server(15);

    /* 3. empirical kernels over HTTP: standard errors beside the entries, within the server's limits */
    const char *plain[] = {"--max-width", "256", NULL};
    if (check(start_server(plain) == 0, "server starts with --max-width 256")) {
        const char *ereq = "{\"model\": {\"arch\": \"cnn-gap\", \"filter\": [3]}, \"x1\": {\"shape\": [2, 6, 1], "
                           "\"data\": [1, 2, 3, 4, 5, 6, 4, 3, 2, 1, 0, -1]}, \"empirical\": {\"width\": 128, "
                           "\"samples\": 4, \"seed\": 5}}";
        st = post_json("/api/v1/kernels", ereq, &r);
        cJSON *j = json_of(&r);
        const cJSON *se = j ? cJSON_GetObjectItem(cJSON_GetObjectItem(j, "ntk"), "standard_error") : NULL;
        check(st == 200 && cJSON_GetArraySize(se) == 4 && cJSON_GetArrayItem(se, 0)->valuedouble > 0 &&
                  num_at(cJSON_GetObjectItem(j, "empirical"), "width") == 128,
              "POST /api/v1/kernels with empirical: %ld, standard errors", st);
        cJSON_Delete(j);
        resp_free(&r);
        const char *wide = "{\"model\": {\"arch\": \"fcn\"}, \"x1\": {\"shape\": [2, 3], \"data\": [1, 2, 3, 4, 5, 6]}, "
                           "\"empirical\": {\"width\": 1024}}";
        st = post_json("/api/v1/kernels", wide, &r);
        check(st == 400 && is_error(&r, "limit_exceeded", "empirical.width"), "empirical width above --max-width: %ld",
              st);
        resp_free(&r);
        /* 400 cnn-gap inputs at 14x14: each sample holds (400 * 196)^2 doubles of window Grams per layer */
        size_t cap = 400 * 196 * 4 + 256, n = 0;
        char *slow = malloc(cap);
        n += (size_t)snprintf(slow, cap, "{\"model\": {\"arch\": \"cnn-gap\"}, \"x1\": {\"shape\": [400, 14, 14, 1], "
                                          "\"data\": [");
        for (int i = 0; i < 400 * 196; i++) n += (size_t)snprintf(slow + n, cap - n, "%s%d", i ? "," : "", i % 3);
        snprintf(slow + n, cap - n, "]}, \"empirical\": {\"width\": 256, \"samples\": 1000}}");
        st = post_json("/api/v1/kernels", slow, &r);
        j = json_of(&r);
        const char *msg = j ? str_at(cJSON_GetObjectItem(j, "error"), "message") : NULL;
        check(st == 413 && is_error(&r, "payload_too_large", "x1.shape"),
              "a huge empirical request is refused before it runs: %ld %s", st, msg ? msg : "");
        cJSON_Delete(j);
        resp_free(&r);
        free(slow);
    }
    free(body);
    free(x);
    return t_finish();
}
