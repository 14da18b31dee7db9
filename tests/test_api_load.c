/* API test under concurrency: 200 parallel POSTs (curl multi) give 200 distinct experiments that all run;
 * parallel retries with one Idempotency-Key give one experiment; that key with another body is 409; parallel
 * GETs and long-polls while the queue drains. usage: test_api_load PATH/TO/dmilab */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_api_util.h"

typedef struct {
    CURL *c;
    struct curl_slist *hs;
    char *body;      /* request body (owned) */
    resp r;          /* response body (r.body, r.len) */
    long status;
} job;

/* Run n POSTs of bodies[i] with keys[i] (NULL: no Idempotency-Key) all at once. */
static void run_parallel(job *jobs, int n, char **bodies, char **keys, const char *path)
{
    CURLM *m = curl_multi_init();
    for (int i = 0; i < n; i++) {
        job *j = &jobs[i];
        memset(j, 0, sizeof *j);
        j->c = curl_easy_init();
        j->body = bodies[i];
        char url[256], h[400];
        snprintf(url, sizeof url, "http://127.0.0.1:%d%s", t_port, path);
        curl_easy_setopt(j->c, CURLOPT_URL, url);
        curl_easy_setopt(j->c, CURLOPT_POSTFIELDS, j->body);
        curl_easy_setopt(j->c, CURLOPT_WRITEFUNCTION, t_body_append);
        curl_easy_setopt(j->c, CURLOPT_WRITEDATA, &j->r);
        curl_easy_setopt(j->c, CURLOPT_TIMEOUT, 120L);
        curl_easy_setopt(j->c, CURLOPT_NOSIGNAL, 1L);
        j->hs = curl_slist_append(NULL, "Content-Type: application/json");
        j->hs = curl_slist_append(j->hs, "Expect:");
        if (keys && keys[i]) {
            snprintf(h, sizeof h, "Idempotency-Key: %s", keys[i]);
            j->hs = curl_slist_append(j->hs, h);
        }
        curl_easy_setopt(j->c, CURLOPT_HTTPHEADER, j->hs);
        curl_multi_add_handle(m, j->c);
    }
    int running = 1;
    while (running) {
        curl_multi_perform(m, &running);
        if (running)
            curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    for (int i = 0; i < n; i++) {
        curl_easy_getinfo(jobs[i].c, CURLINFO_RESPONSE_CODE, &jobs[i].status);
        curl_multi_remove_handle(m, jobs[i].c);
        curl_easy_cleanup(jobs[i].c);
        curl_slist_free_all(jobs[i].hs);
    }
    curl_multi_cleanup(m);
}

static char *id_of(const job *j)
{
    cJSON *o = j->r.body ? cJSON_Parse(j->r.body) : NULL;
    char *id = str_at(o, "id") ? strdup(str_at(o, "id")) : NULL;
    cJSON_Delete(o);
    return id;
}

static int cmp_str(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    return strcmp(x ? x : "", y ? y : "");
}

static char *tiny(int i)
{
    char *s = malloc(512);
    snprintf(s, 512,
             "{\"name\": \"load %d\", \"seed\": %d, \"data\": {\"source\": \"fashion-mnist\", \"resize\": 4, \"n_train\": [5],"
             " \"n_test\": 5, \"subset\": \"head\"}, \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}",
             i, i);
    return s;
}

static void test_parallel_posts(void)
{
    enum { N = 200 };
    static job jobs[N];
    char *bodies[N];
    for (int i = 0; i < N; i++)
        bodies[i] = tiny(i);
    double t0 = now_s();
    run_parallel(jobs, N, bodies, NULL, "/api/v1/experiments");
    double took = now_s() - t0;
    char *ids[N];
    int created = 0;
    for (int i = 0; i < N; i++) {
        created += jobs[i].status == 201;
        ids[i] = id_of(&jobs[i]);
        free(jobs[i].r.body);
        free(bodies[i]);
    }
    qsort(ids, N, sizeof *ids, cmp_str);
    int distinct = ids[0] != NULL;
    for (int i = 1; i < N; i++)
        distinct += ids[i] && (!ids[i - 1] || strcmp(ids[i], ids[i - 1]) != 0);
    check(created == N && distinct == N, "200 parallel POSTs: %d x 201, %d distinct ids (%.2f s)", created, distinct, took);

    /* every one of them runs to the end: long-poll each in turn */
    int succeeded = 0;
    t0 = now_s();
    for (int i = 0; i < N; i++) {
        char *s = ids[i] ? wait_status(ids[i], 120) : strdup("?");
        succeeded += strcmp(s, "succeeded") == 0;
        free(s);
        free(ids[i]);
    }
    check(succeeded == N, "all 200 succeeded (%d) within %.1f s", succeeded, now_s() - t0);
    resp r;
    get("/api/v1/experiments?status=succeeded&limit=1000", &r);
    cJSON *j = json_of(&r);
    check(cJSON_GetArraySize(cJSON_GetObjectItem(j, "experiments")) == N, "the list shows 200 succeeded experiments");
    cJSON_Delete(j);
    resp_free(&r);
}

static void test_parallel_idempotency(void)
{
    enum { N = 60 };
    static job jobs[N];
    char *bodies[N], *keys[N];
    /* 20 keys, each sent 3 times at once with the same body */
    for (int i = 0; i < N; i++) {
        bodies[i] = tiny(1000 + i % 20);
        keys[i] = malloc(32);
        snprintf(keys[i], 32, "load-key-%d", i % 20);
    }
    run_parallel(jobs, N, bodies, keys, "/api/v1/experiments");
    int ok = 1, n201 = 0, n200 = 0;
    char *first[20] = {0};
    for (int i = 0; i < N; i++) {
        n201 += jobs[i].status == 201;
        n200 += jobs[i].status == 200;
        char *id = id_of(&jobs[i]);
        int k = i % 20;
        if (!id)
            ok = 0;
        else if (!first[k])
            first[k] = id;
        else {
            ok &= strcmp(first[k], id) == 0;
            free(id);
        }
        free(jobs[i].r.body);
    }
    int distinct = 1;
    for (int a = 0; a < 20; a++)
        for (int b = a + 1; b < 20; b++)
            distinct &= first[a] && first[b] && strcmp(first[a], first[b]) != 0;
    check(ok && n201 == 20 && n200 == 40 && distinct,
          "20 keys x 3 parallel retries: 20 x 201 and 40 x 200, each key one experiment, keys distinct (%d, %d)", n201, n200);

    /* the same keys with other bodies, in parallel: 409 each */
    for (int i = 0; i < 20; i++) {
        free(bodies[i]);
        bodies[i] = tiny(5000 + i);
    }
    run_parallel(jobs, 20, bodies, keys, "/api/v1/experiments");
    int n409 = 0;
    for (int i = 0; i < 20; i++) {
        cJSON *o = jobs[i].r.body ? cJSON_Parse(jobs[i].r.body) : NULL;
        const char *code = str_at(cJSON_GetObjectItem(o, "error"), "code");
        n409 += jobs[i].status == 409 && code && strcmp(code, "conflict") == 0;
        cJSON_Delete(o);
        free(jobs[i].r.body);
    }
    check(n409 == 20, "the same keys with other bodies in parallel: %d of 20 are 409 conflict", n409);
    for (int i = 0; i < N; i++) {
        free(bodies[i]);
        free(keys[i]);
    }
    for (int k = 0; k < 20; k++)
        free(first[k]);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_api_load PATH/TO/dmilab\n");
        return 2;
    }
    t_init(argv[1], "load");
    if (!check(start_server(NULL) == 0, "server starts"))
        return t_finish();
    test_parallel_posts();
    test_parallel_idempotency();
    resp r;
    check(get("/healthz", &r) == 200, "still healthy");
    resp_free(&r);
    int st = stop_server(SIGTERM);
    check(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "SIGTERM: exit status 0");
    return t_finish();
}
