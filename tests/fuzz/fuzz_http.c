/* Fuzzer of the request router and the HTTP handling of `dmilab serve`: mutated raw requests (method, path,
 * query, headers, bodies seeded from the .json files of the seed directories) sent on fresh connections to a real server.
 * Fails when the server dies, answers 500, or stops answering /healthz. usage: fuzz_http PATH/TO/dmilab SECONDS
 * [SEED_DIR...]   (FUZZ_SEED=N changes the random sequence; the failing request is saved to fuzz-http-crash.txt). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz_common.h"

static int port;
static pid_t server;
static char dir[256];

static long send_raw(const char *data, size_t len, double timeout)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    struct timeval tv = {(time_t)timeout, (suseconds_t)((timeout - (time_t)timeout) * 1e6)};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        close(s);
        return -1;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t k = send(s, data + off, len - off, MSG_NOSIGNAL);
        if (k <= 0)
            break;
        off += (size_t)k;
    }
    shutdown(s, SHUT_WR);
    char out[512];
    ssize_t k = recv(s, out, sizeof out - 1, 0);
    long status = 0;
    if (k > 0) {
        out[k] = '\0';
        if (sscanf(out, "HTTP/1.%*d %ld", &status) != 1)
            status = 0;
        char sink[4096];
        while (recv(s, sink, sizeof sink, 0) > 0) {
        }
    }
    close(s);
    return status;
}

static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t n = sizeof a;
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(s, (struct sockaddr *)&a, &n) != 0)
        exit(2);
    close(s);
    return ntohs(a.sin_port);
}

static void cleanup(void)
{
    if (server > 0) {
        kill(server, SIGKILL);
        waitpid(server, NULL, 0);
    }
    if (dir[0] && !getenv("DMILAB_TEST_KEEP")) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", dir);
    }
}

static void save(const char *why, const char *data, size_t len)
{
    FILE *f = fopen("fuzz-http-crash.txt", "wb");
    if (f) {
        fwrite(data, 1, len, f);
        fclose(f);
    }
    fprintf(stderr, "fuzz_http: %s; request saved to fuzz-http-crash.txt (%zu bytes); server log: %s/server.log\n", why,
            len, dir);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "tail -n 20 '%s/server.log' >&2", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "(no log)\n");
}

static void add_request(fz_corpus *c, const char *method, const char *path, const char *headers, const char *body)
{
    char *buf = malloc(strlen(path) + strlen(headers) + (body ? strlen(body) : 0) + 256);
    int n = sprintf(buf, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s", method, path, headers);
    if (body)
        n += sprintf(buf + n, "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body);
    else
        n += sprintf(buf + n, "\r\n");
    fz_add(c, buf, (size_t)n);
    free(buf);
}

/* Make Content-Length (if any) match the body after a mutation, most of the time, so the request is complete. */
static size_t fix_length(char *b, size_t len, size_t cap)
{
    char *sep = memmem(b, len, "\r\n\r\n", 4);
    char *cl = sep ? memmem(b, (size_t)(sep - b), "Content-Length: ", 16) : NULL;
    if (!cl)
        return len;
    char *eol = memmem(cl, (size_t)(sep + 2 - cl), "\r\n", 2);
    if (!eol)
        return len;
    size_t body = len - (size_t)(sep + 4 - b);
    char num[32];
    int k = snprintf(num, sizeof num, "%zu", body);
    size_t old = (size_t)(eol - (cl + 16));
    if (len - old + (size_t)k >= cap)
        return len;
    memmove(cl + 16 + k, eol, len - (size_t)(eol - b));
    memcpy(cl + 16, num, (size_t)k);
    return len - old + (size_t)k;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: fuzz_http PATH/TO/dmilab SECONDS [SEED_DIR...]\n");
        return 2;
    }
    double seconds = atof(argv[2]);
    if (getenv("FUZZ_SEED"))
        fz_state = strtoull(getenv("FUZZ_SEED"), NULL, 10) * 0x9e3779b97f4a7c15ull + 1;
    signal(SIGPIPE, SIG_IGN);
    snprintf(dir, sizeof dir, "%s/dmilab-fuzz-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir))
        return 2;
    atexit(cleanup);
    char web[300], db[300], logp[300], p[400];
    snprintf(web, sizeof web, "%s/web", dir);
    snprintf(db, sizeof db, "%s/fuzz.db", dir);
    snprintf(logp, sizeof logp, "%s/server.log", dir);
    mkdir(web, 0755);
    snprintf(p, sizeof p, "%s/index.html", web);
    FILE *f = fopen(p, "w");
    fputs("<!doctype html><title>fuzz</title>\n", f);
    fclose(f);
    port = free_port();
    server = fork();
    if (server == 0) {
        int fd = open(logp, O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        char ps[16];
        snprintf(ps, sizeof ps, "%d", port);
        execl(argv[1], "dmilab", "serve", "--port", ps, "--db", db, "--web-root", web, "--threads", "1", "--workers", "1",
              "--max-n-train", "100", "--max-n-test", "100", "--max-points", "8", "--max-body", "65536",
              "--max-kernel-numbers", "10000", (char *)NULL);
        _exit(127);
    }
    const char *health = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    double t0 = fz_now();
    while (send_raw(health, strlen(health), 1) != 200) {
        if (fz_now() - t0 > 20) {
            fprintf(stderr, "fuzz_http: the server did not start\n");
            return 1;
        }
        usleep(20000);
    }
    /* one real experiment for the {id} routes */
    const char *tiny = "{\"data\": {\"source\": \"fashion-mnist\", \"resize\": 4, \"n_train\": [10], \"n_test\": 10},"
                       " \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}";
    fz_corpus c = {0};
    add_request(&c, "POST", "/api/v1/experiments", "Idempotency-Key: fuzz-1\r\n", tiny);
    if (send_raw(c.v[0].data, c.v[0].len, 5) != 201) {
        fprintf(stderr, "fuzz_http: cannot create the seed experiment\n");
        return 1;
    }
    /* its id: list the experiments */
    char id[64] = "exp_0000000000000000";
    {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(s, (struct sockaddr *)&a, sizeof a) == 0) {
            const char *rq = "GET /api/v1/experiments?limit=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
            if (send(s, rq, strlen(rq), 0) > 0) {
                char out[8192];
                size_t n = 0;
                ssize_t k;
                while (n + 1 < sizeof out && (k = recv(s, out + n, sizeof out - n - 1, 0)) > 0)
                    n += (size_t)k;
                out[n] = '\0';
                char *e = strstr(out, "\"id\":\"");
                if (e)
                    sscanf(e + 6, "%63[^\"]", id);
            }
        }
        close(s);
    }
    char path[200];
    const char *suffixes[] = {"", "/results", "/results?format=csv", "/checks", "/checks?format=junit", "/audit",
                              "/wait?timeout=0.01"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(path, sizeof path, "/api/v1/experiments/%s%s", id, suffixes[i]);
        add_request(&c, "GET", path, "", NULL);
    }
    snprintf(path, sizeof path, "/api/v1/experiments/%s/cancel", id);
    add_request(&c, "POST", path, "", NULL);
    snprintf(path, sizeof path, "/api/v1/experiments/%s", id);
    add_request(&c, "DELETE", path, "", NULL);
    add_request(&c, "GET", "/api/v1/experiments?status=succeeded&limit=2&cursor=", "", NULL);
    add_request(&c, "GET", "/metrics", "", NULL);
    add_request(&c, "GET", "/api/v1/openapi.json", "", NULL);
    add_request(&c, "GET", "/", "", NULL);
    add_request(&c, "HEAD", "/index.html", "", NULL);
    add_request(&c, "GET", "/../../etc/passwd", "", NULL);
    add_request(&c, "PUT", "/api/v1/experiments", "", "{}");
    add_request(&c, "POST", "/api/v1/kernels", "",
                "{\"model\": {\"arch\": \"fcn\", \"depth\": 1}, \"x1\": {\"shape\": [2, 2], \"data\": [1, 0, 0, 1]}}");
    add_request(&c, "POST", "/api/v1/experiments?dry_run=true", "", tiny);
    add_request(&c, "POST", "/api/v1/experiments", "Transfer-Encoding: chunked\r\n", NULL);
    fz_corpus specs = {0};
    int from_dirs = 0;
    for (int i = 3; i < argc; i++)
        from_dirs += fz_add_dir(&specs, argv[i]);
    for (size_t i = 0; i < specs.n; i++) {
        add_request(&c, "POST", "/api/v1/experiments?dry_run=true", "", specs.v[i].data);
        add_request(&c, "POST", "/api/v1/experiments", "Idempotency-Key: fuzz-2\r\n", specs.v[i].data);
    }
    size_t seeds = c.n;

    long runs = 0, by_class[6] = {0}, five[100] = {0};
    t0 = fz_now();
    while (fz_now() - t0 < seconds) {
        char *buf;
        size_t len;
        if (runs < (long)seeds) {
            buf = malloc(c.v[runs].len + 1);
            memcpy(buf, c.v[runs].data, c.v[runs].len);
            len = c.v[runs].len;
        } else {
            fz_mutate(&c, &c.v[fz_below(c.n)], &buf, &len, 1 << 17);
            if (fz_below(4) != 0) {
                char *nb = realloc(buf, len + 64);
                buf = nb;
                len = fix_length(buf, len, len + 64);
            }
        }
        long st = send_raw(buf, len, 2);
        runs++;
        by_class[st > 0 && st < 600 ? st / 100 : 0]++;
        if (st >= 500 && st < 600)
            five[st - 500]++;
        int wst;
        if (waitpid(server, &wst, WNOHANG) == server) {
            server = -1;
            save("the server died", buf, len);
            return 1;
        }
        if (st == 500) {
            save("the server answered 500", buf, len);
            return 1;
        }
        if (runs % 256 == 0 && send_raw(health, strlen(health), 10) != 200) {
            save("the server stopped answering /healthz after this request", buf, len);
            return 1;
        }
        free(buf);
    }
    int healthy = send_raw(health, strlen(health), 10) == 200;
    printf("fuzz_http: %ld requests in %.1f s (%zu seeds, %d spec files): no answer %ld, 2xx %ld, 3xx %ld, 4xx %ld, "
           "5xx %ld; healthy %s\n",
           runs, fz_now() - t0, seeds, from_dirs, by_class[0], by_class[2], by_class[3], by_class[4], by_class[5],
           healthy ? "yes" : "NO");
    for (int k = 0; k < 100; k++)
        if (five[k])
            printf("fuzz_http: %ld x %d\n", five[k], 500 + k);
    kill(server, SIGTERM);
    int wst;
    waitpid(server, &wst, 0);
    server = -1;
    int clean = WIFEXITED(wst) && WEXITSTATUS(wst) == 0;
    printf("fuzz_http: SIGTERM: %s\n", clean ? "exit 0" : "NOT a clean exit");
    /* The log is rate-limited: malformed requests in a loop must not fill the disk (it grew by 320 KB a second). */
    struct stat sb;
    double limit = 32768 + 4096 * (fz_now() - t0);
    int small = stat(logp, &sb) == 0 && (double)sb.st_size < limit;
    printf("fuzz_http: server log %lld bytes (limit %.0f)%s\n", (long long)sb.st_size, limit, small ? "" : ": NOT rate-limited");
    return healthy && clean && small ? 0 : 1;
}
