/* API test of hostile local clients (issue 9): N connections that send their headers one byte a second (slowloris),
 * from several local addresses, and N long-polls whose clients go away. /healthz and reads must keep answering
 * quickly throughout; the server closes the slow connections at its read deadline, holds at most
 * --max-connections-per-client from one address, and ends the long-polls of clients that closed (no socket left
 * in CLOSE_WAIT). usage: test_api_flood PATH/TO/dmilab N [default]   ("default": the server's default
 * configuration, read deadline 20 s; otherwise --read-timeout 3) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_api_util.h"

#define PER_ADDRESS 100     /* connections per local source address (below the default per-client limit) */
#define PER_CLIENT_LIMIT 256

static const char *long_spec =
    "{\"name\": \"long\", \"data\": {\"source\": \"fashion-mnist\", \"resize\": 1, \"n_train\": [1000, 2000, 3000],"
    " \"n_test\": 1000}, \"models\": {\"arch\": \"fcn\"}, \"inference\": [{\"method\": \"nngp\"}, {\"method\": \"ntk\"}],"
    " \"repeats\": 10}";
static const char *very_long_spec =
    "{\"name\": \"very long\", \"data\": {\"source\": \"fashion-mnist\", \"resize\": 1, \"n_train\": [1000, 2000, 3000],"
    " \"n_test\": 1000}, \"models\": {\"arch\": \"fcn\"}, \"inference\": [{\"method\": \"nngp\"}, {\"method\": \"ntk\"}],"
    " \"repeats\": 100}";

/* A non-blocking TCP connection to the test server from 127.0.0.`host` (connect in progress or done), or -1. */
static int connect_from(int host)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (s < 0)
        return -1;
    struct sockaddr_in src = {.sin_family = AF_INET};
    src.sin_addr.s_addr = htonl(0x7f000000u | (unsigned)host);
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)t_port)};
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&src, sizeof src) != 0
        || (connect(s, (struct sockaddr *)&dst, sizeof dst) != 0 && errno != EINPROGRESS)) {
        close(s);
        return -1;
    }
    return s;
}

/* Whether the server closed (or reset) connection `s`: a readable socket that gives 0 bytes or an error. */
static int closed_by_server(int s)
{
    struct pollfd p = {.fd = s, .events = POLLIN};
    if (poll(&p, 1, 0) <= 0)
        return 0;
    char b[512];
    ssize_t k = recv(s, b, sizeof b, MSG_DONTWAIT);
    return k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* Send `text` whole on a non-blocking socket (short waits); 0 or -1. */
static int send_all(int s, const char *text)
{
    size_t off = 0, n = strlen(text);
    for (int tries = 0; off < n && tries < 200; tries++) {
        ssize_t k = send(s, text + off, n - off, MSG_NOSIGNAL);
        if (k > 0)
            off += (size_t)k;
        else if (errno == EAGAIN || errno == ENOTCONN || errno == EINPROGRESS)
            usleep(5000);
        else
            return -1;
    }
    return off == n ? 0 : -1;
}

typedef struct {
    int n, ok;
    double max, sum, v[64];
} probes;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void probe(probes *p, const char *path)
{
    resp r;
    get(path, &r);
    if (p->n < 64)
        p->v[p->n] = r.seconds;
    p->n++;
    p->ok += r.status == 200;
    p->sum += r.seconds;
    if (r.seconds > p->max)
        p->max = r.seconds;
    resp_free(&r);
}

static double median(probes *p)
{
    int n = p->n < 64 ? p->n : 64;
    qsort(p->v, (size_t)n, sizeof p->v[0], cmp_double);
    return n ? p->v[n / 2] : 0;
}

/* Sockets of the server's port in state CLOSE_WAIT (the client closed, the server did not). */
static int close_wait_count(void)
{
    FILE *f = fopen("/proc/net/tcp", "r");
    if (!f)
        return -1;
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned lport, state;
        if (sscanf(line, " %*d: %*x:%x %*x:%*x %x", &lport, &state) == 2 && (int)lport == t_port && state == 0x08)
            n++;
    }
    fclose(f);
    return n;
}

static double open_connections(void)
{
    resp r;
    get("/metrics", &r);
    const char *p = r.body ? strstr(r.body, "\ndmilab_http_connections ") : NULL;
    double v = p ? atof(p + 25) : -1;
    resp_free(&r);
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_api_flood PATH/TO/dmilab N [default]\n");
        return 2;
    }
    int n = atoi(argv[2]), defaults = argc > 3 && strcmp(argv[3], "default") == 0;
    double deadline = defaults ? 20 : 3;
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    t_init(argv[1], "flood");
    const char *fast[] = {"--read-timeout", "3", NULL};
    if (!check(start_server(defaults ? NULL : fast) == 0, "server starts (%s)", defaults ? "default configuration" : "--read-timeout 3"))
        return t_finish();
    /* A runs for minutes, B waits behind it: its long-polls stay open */
    char *a = post_spec(very_long_spec, NULL), *b = post_spec(long_spec, NULL);
    char pa[160], pwait[200];
    snprintf(pa, sizeof pa, "/api/v1/experiments/%s", a ? a : "x");
    snprintf(pwait, sizeof pwait, "GET /api/v1/experiments/%s/wait?timeout=300 HTTP/1.1\r\nHost: x\r\n\r\n", b ? b : "x");
    probes quiet = {0};
    for (int i = 0; i < 10; i++)
        probe(&quiet, "/healthz");
    printf("# /healthz before the flood: median %.2f ms, max %.2f ms\n", 1e3 * median(&quiet), 1e3 * quiet.max);

    /* ---- slow headers from n / 100 local addresses ---- */
    int *s = malloc(sizeof(int) * (size_t)(n + PER_CLIENT_LIMIT + 100));
    int opened = 0;
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        s[i] = connect_from(10 + i / PER_ADDRESS);
        opened += s[i] >= 0;
    }
    usleep(300000);
    int started = 0;
    for (int i = 0; i < n; i++)
        started += s[i] >= 0 && send_all(s[i], "GET /healthz HTTP/1.1\r\nHost: x\r\n") == 0;
    check(opened == n && started >= n * 9 / 10, "%d slow connections from %d local addresses send their first header "
                                                "(%d connected, %d started)", n, (n + PER_ADDRESS - 1) / PER_ADDRESS, opened, started);
    probes busy = {0}, reads = {0};
    int closed_early = 0;
    while (now_s() - t0 < deadline - 1) {
        for (int i = 0; i < n; i++)
            if (s[i] >= 0)
                send(s[i], "X", 1, MSG_NOSIGNAL | MSG_DONTWAIT);   /* a byte resets an idle timeout */
        probe(&busy, "/healthz");
        probe(&reads, pa);
        usleep(500000);
    }
    for (int i = 0; i < n; i++)
        closed_early += s[i] >= 0 && closed_by_server(s[i]);
    printf("# /healthz under %d slow connections: median %.2f ms, max %.2f ms (%d probes); GET experiment median %.2f ms\n",
           n, 1e3 * median(&busy), 1e3 * busy.max, busy.n, 1e3 * median(&reads));
    check(busy.ok == busy.n && busy.max < 2.0, "/healthz answers 200 under the slow connections (%d/%d, max %.0f ms)",
          busy.ok, busy.n, 1e3 * busy.max);
    check(reads.ok == reads.n && reads.max < 2.0, "reads answer 200 too (%d/%d, max %.0f ms)", reads.ok, reads.n,
          1e3 * reads.max);
    check(closed_early <= n / 20, "the slow connections stay open before the deadline (%d closed)", closed_early);

    /* more than the per-client limit from one address: the excess is refused at once */
    int extra = PER_CLIENT_LIMIT + 60, *e = s + n, refused = 0;
    for (int i = 0; i < extra; i++)
        e[i] = connect_from(5);
    usleep(1000000);
    for (int i = 0; i < extra; i++)
        refused += e[i] < 0 || closed_by_server(e[i]);
    check(refused >= extra - PER_CLIENT_LIMIT - 5 && refused <= extra - PER_CLIENT_LIMIT + 5,
          "%d connections from one address: %d refused, about the %d beyond the per-client limit", extra, refused,
          extra - PER_CLIENT_LIMIT);
    for (int i = 0; i < extra; i++)
        if (e[i] >= 0)
            close(e[i]);

    /* the read deadline */
    while (now_s() - t0 < deadline + 2.5) {
        for (int i = 0; i < n; i++)
            if (s[i] >= 0)
                send(s[i], "X", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        usleep(500000);
    }
    int reaped = 0;
    for (int i = 0; i < n; i++)
        reaped += s[i] >= 0 && closed_by_server(s[i]);
    check(reaped >= started * 95 / 100, "%.0f s after they connected the server closed %d of the %d slow connections "
                                        "(read deadline %.0f s)", now_s() - t0, reaped, started, deadline);
    for (int i = 0; i < n; i++)
        if (s[i] >= 0)
            close(s[i]);

    /* ---- long-polls whose clients go away ---- */
    int polls = 0;
    for (int i = 0; i < n; i++) {
        s[i] = connect_from(10 + i / PER_ADDRESS);
        polls += s[i] >= 0;
    }
    usleep(300000);
    int sent = 0;
    for (int i = 0; i < n; i++)
        sent += s[i] >= 0 && send_all(s[i], pwait) == 0;
    usleep(1500000);
    double conns = open_connections();
    check(sent >= n * 95 / 100 && conns >= sent * 0.9, "%d long-polls of 300 s are open (%d sent, %.0f connections on the "
                                                        "server)", n, sent, conns);
    probes lp = {0};
    for (int i = 0; i < 5; i++)
        probe(&lp, "/healthz");
    check(lp.ok == lp.n && lp.max < 2.0, "/healthz answers under them (max %.0f ms)", 1e3 * lp.max);
    for (int i = 0; i < n; i++)
        if (s[i] >= 0)
            close(s[i]);
    double t1 = now_s();
    int cw = -1;
    while (now_s() - t1 < 5 && (cw = close_wait_count()) > 5)
        usleep(100000);
    conns = open_connections();
    check(cw >= 0 && cw <= 5 && conns <= 5, "their clients closed: the server ended them within %.1f s (%d left in "
                                            "CLOSE_WAIT, %.0f connections open)", now_s() - t1, cw, conns);
    probes after = {0};
    for (int i = 0; i < 5; i++)
        probe(&after, "/healthz");
    check(after.ok == after.n, "/healthz answers afterwards");
    free(s);

    resp r;
    char p[200];
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "/api/v1/experiments/%s/cancel", i ? b : a);
        http_full("POST", p, NULL, NULL, 0, NULL, &r);
        resp_free(&r);
    }
    free(a);
    free(b);
    int st = stop_server(SIGTERM);
    check(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "SIGTERM: exit status 0");
    return t_finish();
}
