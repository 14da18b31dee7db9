/* API test with hostile input: every request gets its documented 4xx and the server keeps serving.
 * Not JSON, trailing bytes, NUL bytes, deep nesting, 1e400, NaN, negative and huge sizes, wrong types, unknown
 * fields, data paths outside the data root, '..' in static URLs, oversized and chunked bodies, malformed
 * requests on a raw socket. usage: test_api_hostile PATH/TO/dmilab */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_api_util.h"

/* A valid spec with one part replaced: P("data", X) etc. are built by snprintf on this template. */
#define DATA_OK "{\"source\": \"fashion-mnist\", \"resize\": 4, \"n_train\": [10], \"n_test\": 10}"
#define MODEL_OK "{\"arch\": \"fcn\"}"
#define INF_OK "{\"method\": \"ntk\"}"

static void spec_with(char *out, size_t cap, const char *data, const char *model, const char *inf, const char *extra)
{
    snprintf(out, cap, "{\"data\": %s, \"models\": %s, \"inference\": %s%s}", data, model, inf, extra);
}

static int healthy(void)
{
    resp r;
    long s = get("/healthz", &r);
    resp_free(&r);
    return s == 200;
}

/* POST the body as JSON; check the status and error code (and field prefix when not NULL). */
static void expect(const char *what, const char *body, size_t len, long status, const char *code, const char *field)
{
    resp r;
    http_full("POST", "/api/v1/experiments", "application/json", body, len, NULL, &r);
    cJSON *j = json_of(&r);
    const char *f = str_at(cJSON_GetObjectItem(j, "error"), "field");
    int ok = r.status == status && is_error(&r, code, NULL) && (!field || (f && strncmp(f, field, strlen(field)) == 0));
    check(ok && healthy(), "%s: %ld %s%s%s (got %ld %.160s)", what, status, code, field ? " naming " : "", field ? field : "",
          r.status, r.body ? r.body : "");
    cJSON_Delete(j);
    resp_free(&r);
}

static void expect_spec(const char *what, const char *data, const char *model, const char *inf, const char *extra,
                        long status, const char *code, const char *field)
{
    char body[4096];
    spec_with(body, sizeof body, data, model, inf, extra);
    expect(what, body, strlen(body), status, code, field);
}

/* Send raw bytes on a new connection; return the status of the first reply line (0 when none). */
static long raw(const char *data, size_t len, char *out, size_t cap)
{
    int s = t_connect();
    if (s < 0)
        return 0;
    size_t off = 0;
    while (off < len) {
        ssize_t k = send(s, data + off, len - off, MSG_NOSIGNAL);
        if (k <= 0)
            break;
        off += (size_t)k;
    }
    shutdown(s, SHUT_WR);
    size_t n = 0;
    ssize_t k;
    while (n + 1 < cap && (k = recv(s, out + n, cap - n - 1, 0)) > 0)
        n += (size_t)k;
    out[n] = '\0';
    close(s);
    long status = 0;
    if (sscanf(out, "HTTP/1.%*d %ld", &status) != 1)
        status = 0;
    return status;
}

static void test_json(void)
{
    expect("not JSON", "hello", 5, 400, "invalid_json", NULL);
    expect("empty body", "", 0, 400, "invalid_json", NULL);
    expect("two JSON values", "{} {}", 5, 400, "invalid_json", NULL);
    expect("trailing garbage", "{\"data\": 1} xyz", 15, 400, "invalid_json", NULL);
    static const char nul[] = "{\"name\": \"a\0b\"}";
    expect("a NUL byte in the body", nul, sizeof nul - 1, 400, "invalid_json", NULL);
    expect("NaN literal", "{\"seed\": NaN}", 13, 400, "invalid_json", NULL);
    expect("JSON array instead of an object", "[1, 2]", 6, 400, "invalid_spec", NULL);
    expect("JSON string", "\"spec\"", 6, 400, "invalid_spec", NULL);

    size_t depth = 100000;
    char *deep = malloc(2 * depth + 1);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = '\0';
    expect("100000 nested arrays", deep, 2 * depth, 400, "invalid_json", NULL);
    free(deep);
    /* nesting inside a field the parser does look at */
    char obj[12000];
    int k = snprintf(obj, sizeof obj, "{\"data\": ");
    for (int i = 0; i < 2000; i++)
        k += snprintf(obj + k, sizeof obj - (size_t)k, "{\"a\":");
    k += snprintf(obj + k, sizeof obj - (size_t)k, "1");
    for (int i = 0; i < 2000; i++)
        obj[k++] = '}';
    snprintf(obj + k, sizeof obj - (size_t)k, "}");
    expect("2000 nested objects in data", obj, strlen(obj), 400, "invalid_json", NULL);
    char nest[400];
    snprintf(nest, sizeof nest, "{\"data\": {\"source\": {\"x\": {\"y\": [[[1]]]}}, \"n_train\": [10], \"n_test\": 10},"
                                " \"models\": " MODEL_OK ", \"inference\": " INF_OK "}");
    expect("an object where a string belongs", nest, strlen(nest), 400, "invalid_spec", "data.source");
}

static void test_numbers_types(void)
{
    expect_spec("seed 1e400", DATA_OK, MODEL_OK, INF_OK, ", \"seed\": 1e400", 400, "invalid_spec", "seed");
    expect_spec("n_train [1e400]", "{\"source\": \"fashion-mnist\", \"n_train\": [1e400], \"n_test\": 10}", MODEL_OK, INF_OK,
                "", 400, "invalid_spec", "data.n_train");
    expect_spec("ridge 1e400", DATA_OK, MODEL_OK, "{\"method\": \"ntk\", \"ridge\": 1e400}", "", 400, "invalid_spec", "inference.ridge");
    expect_spec("ridge -1e-400 (rounds to -0)", DATA_OK, MODEL_OK, "{\"method\": \"ntk\", \"ridge\": -1}", "", 400, "invalid_spec",
                "inference.ridge");
    expect_spec("negative n_train", "{\"source\": \"fashion-mnist\", \"n_train\": [-5], \"n_test\": 10}", MODEL_OK, INF_OK, "", 400,
                "invalid_spec", "data.n_train");
    expect_spec("negative n_test", "{\"source\": \"fashion-mnist\", \"n_train\": [5], \"n_test\": -10}", MODEL_OK, INF_OK, "", 400,
                "invalid_spec", "data.n_test");
    expect_spec("fractional n_train", "{\"source\": \"fashion-mnist\", \"n_train\": [10.5], \"n_test\": 10}", MODEL_OK, INF_OK, "",
                400, "invalid_spec", "data.n_train");
    expect_spec("n_train 1e15", "{\"source\": \"fashion-mnist\", \"n_train\": [1e15], \"n_test\": 10}", MODEL_OK, INF_OK, "", 400,
                "limit_exceeded", "data.n_train");
    expect_spec("repeats 1e12", DATA_OK, MODEL_OK, INF_OK, ", \"repeats\": 1e12", 400, "limit_exceeded", "repeats");
    expect_spec("repeats 0", DATA_OK, MODEL_OK, INF_OK, ", \"repeats\": 0", 400, "invalid_spec", "repeats");
    expect_spec("depth -1", DATA_OK, "{\"arch\": \"fcn\", \"depth\": -1}", INF_OK, "", 400, "invalid_spec", "models.depth");
    expect_spec("width 1e9", DATA_OK, "{\"arch\": \"fcn\", \"width\": 1e9}", INF_OK, "", 400, "limit_exceeded", "models.width");
    expect_spec("resize 0", "{\"source\": \"fashion-mnist\", \"resize\": 0, \"n_train\": [5], \"n_test\": 10}", MODEL_OK, INF_OK, "",
                400, "invalid_spec", "data.resize");
    expect_spec("data is a string", "\"fashion-mnist\"", MODEL_OK, INF_OK, "", 400, "invalid_spec", "data");
    expect_spec("models is a number", DATA_OK, "5", INF_OK, "", 400, "invalid_spec", "models");
    expect_spec("n_train is a string", "{\"source\": \"fashion-mnist\", \"n_train\": \"100\", \"n_test\": 10}", MODEL_OK, INF_OK, "",
                400, "invalid_spec", "data.n_train");
    expect_spec("name is a number", DATA_OK, MODEL_OK, INF_OK, ", \"name\": 7", 400, "invalid_spec", "name");
    expect_spec("seed is true", DATA_OK, MODEL_OK, INF_OK, ", \"seed\": true", 400, "invalid_spec", "seed");
    expect_spec("empty data list", "[]", MODEL_OK, INF_OK, "", 400, "invalid_spec", "data");
    expect_spec("unknown top-level field", DATA_OK, MODEL_OK, INF_OK, ", \"colour\": 1", 400, "invalid_spec", "colour");
    expect_spec("unknown data field", "{\"source\": \"fashion-mnist\", \"n_train\": [5], \"n_test\": 10, \"shuffle\": true}", MODEL_OK,
                INF_OK, "", 400, "invalid_spec", "data.shuffle");
    expect_spec("unknown model field", DATA_OK, "{\"arch\": \"fcn\", \"heads\": 8}", INF_OK, "", 400, "invalid_spec", "models.heads");
    expect_spec("unknown inference field", DATA_OK, MODEL_OK, "{\"method\": \"ntk\", \"momentum\": 0.9}", "", 400, "invalid_spec",
                "inference.momentum");
    char extra[400] = ", \"name\": \"";
    memset(extra + strlen(extra), 'n', 300);
    strcat(extra, "\"");
    expect_spec("a 300-character name", DATA_OK, MODEL_OK, INF_OK, extra, 400, "invalid_spec", "name");
}

static void test_paths(void)
{
    static const char *const outside[] = {"/etc", "/usr/share/datasets/../../../etc", "/usr/share", "../../etc",
                                          "/usr/share/datasets/fashion-mnist/../../../../tmp", "/proc/self"};
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
        char data[600], what[200];
        snprintf(data, sizeof data, "{\"source\": \"fashion-mnist\", \"path\": \"%s\", \"n_train\": [5], \"n_test\": 10}", outside[i]);
        snprintf(what, sizeof what, "data path %s", outside[i]);
        expect_spec(what, data, MODEL_OK, INF_OK, "", 400, "invalid_spec", "data.path");
    }
    static const char *const evil[] = {"/../etc/passwd", "/%2e%2e/etc/passwd", "/..%2f..%2fetc%2fpasswd", "/a/../../etc/passwd",
                                       "/%2e%2e%2f%2e%2e%2fetc/passwd", "/..\\..\\etc\\passwd", "/....//....//etc/passwd",
                                       "/%252e%252e/etc/passwd"};
    for (size_t i = 0; i < sizeof evil / sizeof evil[0]; i++) {
        resp r;
        get(evil[i], &r);
        check((r.status == 404 || r.status == 400) && !(r.body && strstr(r.body, "root:")) && healthy(),
              "GET %s: %ld, nothing served", evil[i], r.status);
        resp_free(&r);
    }
}

static void test_bodies(void)
{
    resp r;
    /* Content-Length above --max-body (1 MiB here: 2 MiB) */
    size_t n = 2u << 20;
    char *big = malloc(n);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    http_full("POST", "/api/v1/experiments", "application/json", big, n, NULL, &r);
    check(r.status == 413 && is_error(&r, "payload_too_large", NULL) && healthy(), "2 MiB body: 413 payload_too_large (got %ld)", (long)r.status);
    resp_free(&r);
    /* chunked body above the limit: no Content-Length, the server counts the bytes */
    const char *chunked[] = {"Transfer-Encoding: chunked", NULL};
    http_full("POST", "/api/v1/experiments", "application/json", big, n, chunked, &r);
    check(r.status == 413 && is_error(&r, "payload_too_large", NULL) && healthy(), "2 MiB chunked body: 413 payload_too_large (got %ld)", (long)r.status);
    resp_free(&r);
    free(big);
    char spec[600];
    spec_with(spec, sizeof spec, DATA_OK, MODEL_OK, INF_OK, "");
    http_full("POST", "/api/v1/experiments?dry_run=true", "application/json", spec, strlen(spec), chunked, &r);
    check(r.status == 200, "a small chunked body is read whole: 200 (dry run)");
    resp_free(&r);
    /* raw chunked request with a lying chunk size */
    char out[8192];
    const char *lie = "POST /api/v1/experiments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      "Transfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\n{}\r\n0\r\n\r\n";
    long s = raw(lie, strlen(lie), out, sizeof out);
    check((s == 0 || (s >= 400 && s < 500)) && healthy(), "chunk size 0xfffffffffffffff: %ld, still healthy", s);
    const char *bad_ct[] = {NULL, "text/plain", "application/jsonx", "multipart/form-data"};
    for (size_t i = 0; i < sizeof bad_ct / sizeof bad_ct[0]; i++) {
        http_full("POST", "/api/v1/experiments", bad_ct[i], spec, strlen(spec), NULL, &r);
        check(r.status == 415 && is_error(&r, "unsupported_media_type", NULL), "Content-Type %s: 415",
              bad_ct[i] ? bad_ct[i] : "(none)");
        resp_free(&r);
    }
    http_full("POST", "/api/v1/experiments?dry_run=true", "Application/JSON; charset=utf-8", spec, strlen(spec), NULL, &r);
    check(r.status == 200, "Content-Type Application/JSON; charset=utf-8 is JSON: 200");
    resp_free(&r);
}

static void test_requests(void)
{
    resp r;
    http_full("PUT", "/api/v1/experiments", "application/json", "{}", 2, NULL, &r);
    check(r.status == 405 && strstr(r.allow, "GET") && strstr(r.allow, "POST") && is_error(&r, "not_found", NULL),
          "PUT /api/v1/experiments: 405, Allow: %s", r.allow);
    resp_free(&r);
    http_full("PATCH", "/api/v1/experiments/exp_0000000000000000", NULL, NULL, 0, NULL, &r);
    check(r.status == 405 && strstr(r.allow, "DELETE"), "PATCH an experiment: 405, Allow: %s", r.allow);
    resp_free(&r);
    http_full("GET", "/api/v1/experiments/exp_0000000000000000/cancel", NULL, NULL, 0, NULL, &r);
    check(r.status == 405 && strstr(r.allow, "POST"), "GET .../cancel: 405, Allow: %s", r.allow);
    resp_free(&r);
    char longid[300] = "/api/v1/experiments/";
    memset(longid + strlen(longid), 'a', 200);
    get(longid, &r);
    check(r.status == 404 && is_error(&r, "not_found", NULL), "a 200-character id: 404");
    resp_free(&r);
    get("/api/v1/experiments/exp_%00abc", &r);
    check(r.status == 404 || r.status == 400, "an id with %%00: %ld", r.status);
    resp_free(&r);
    get("/api/v1/experiments/'%20OR%201=1--", &r);
    check(r.status == 404 && healthy(), "an id with SQL: 404");
    resp_free(&r);
    get("/api/v1/experiments?limit=-1", &r);
    check(r.status == 400 && is_error(&r, "invalid_spec", "limit"), "limit=-1: 400 naming limit");
    resp_free(&r);
    get("/api/v1/experiments?limit=99999999999999999999", &r);
    check(r.status == 400 && is_error(&r, "invalid_spec", "limit"), "limit=1e20: 400 naming limit");
    resp_free(&r);
    get("/api/v1/experiments?cursor=zz", &r);
    check(r.status == 400 && is_error(&r, "invalid_spec", "cursor"), "cursor=zz: 400 naming cursor");
    resp_free(&r);
    get("/api/v1/experiments?cursor=41", &r);
    check(r.status == 400 && is_error(&r, "invalid_spec", "cursor"), "a cursor without a separator: 400 naming cursor");
    resp_free(&r);
    /* a 200 KB URL and 200 KB of headers: rejected by the HTTP layer, the server goes on */
    size_t n = 200000;
    char *url = malloc(n + 64);
    strcpy(url, "/api/v1/experiments?x=");
    memset(url + strlen(url), 'a', n);
    url[n + 20] = '\0';
    get(url, &r);
    check(((r.status >= 400 && r.status < 500) || r.status == 200) && healthy(),
          "a 200 KB URL: %ld (an unknown query parameter is a 400)", r.status);
    resp_free(&r);
    free(url);
    char *hdr = malloc(n + 32);
    strcpy(hdr, "X-Big: ");
    memset(hdr + 7, 'b', n);
    hdr[n + 7] = '\0';
    const char *hs[] = {hdr, NULL};
    http_full("GET", "/healthz", NULL, NULL, 0, hs, &r);
    check(r.status >= 400 && r.status < 500 && healthy(), "a 200 KB header: %ld", r.status);
    resp_free(&r);
    free(hdr);
    char out[8192];
    static const char *const junk[] = {"GARBAGE\r\n\r\n", "GET\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "\x01\x02\x03\r\n\r\n",
                                       "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                                       "POST /api/v1/experiments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                       "Content-Length: 100\r\n\r\n{\"short\": 1}"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        long s = raw(junk[i], strlen(junk[i]), out, sizeof out);
        check((s == 0 || (s >= 400 && s < 600)) && healthy(), "raw request %zu: %ld, still healthy", i, s);
    }
    post_json("/api/v1/kernels", "{\"model\": {\"arch\": \"fcn\"}, \"x1\": {\"shape\": [-2, 2], \"data\": [1, 2, 3, 4]}}", &r);
    check(r.status == 400 && is_error(&r, "invalid_spec", NULL), "kernel request with a negative shape: 400");
    resp_free(&r);
    post_json("/api/v1/kernels", "{\"model\": {\"arch\": \"fcn\"}, \"x1\": {\"shape\": [1e400, 2], \"data\": []}}", &r);
    check(r.status == 400 || r.status == 413, "kernel request with shape 1e400: %ld", r.status);
    resp_free(&r);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_api_hostile PATH/TO/dmilab\n");
        return 2;
    }
    t_init(argv[1], "hostile");
    const char *flags[] = {"--max-body", "1048576", NULL};
    if (!check(start_server(flags) == 0, "server starts"))
        return t_finish();
    test_json();
    test_numbers_types();
    test_paths();
    test_bodies();
    test_requests();
    check(healthy(), "the server still serves after every hostile request");
    int st = stop_server(SIGTERM);
    check(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "SIGTERM: exit status 0");
    return t_finish();
}
