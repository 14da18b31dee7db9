/* Helpers of the API tests. See test_api_util.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "test_api_util.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *t_exe;
char t_dir[256], t_db[300], t_log[300];
int t_port;
pid_t t_server = -1;
int t_failures, t_checks;

int check(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s ", ok ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
    t_checks++;
    if (!ok)
        t_failures++;
    return ok;
}

double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

size_t t_body_append(char *p, size_t sz, size_t n, void *ud)
{
    resp *r = ud;
    char *b = realloc(r->body, r->len + sz * n + 1);
    if (!b)
        return 0;
    memcpy(b + r->len, p, sz * n);
    r->body = b;
    r->len += sz * n;
    r->body[r->len] = '\0';
    return sz * n;
}

static void header_value(const char *line, size_t n, const char *name, char *dst, size_t cap)
{
    size_t k = strlen(name);
    if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
        return;
    const char *v = line + k + 1;
    while (*v == ' ')
        v++;
    size_t m = n - (size_t)(v - line);
    while (m > 0 && (v[m - 1] == '\r' || v[m - 1] == '\n'))
        m--;
    if (m >= cap)
        m = cap - 1;
    memcpy(dst, v, m);
    dst[m] = '\0';
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    resp *r = ud;
    header_value(p, sz * n, "Content-Type", r->ctype, sizeof r->ctype);
    header_value(p, sz * n, "Allow", r->allow, sizeof r->allow);
    header_value(p, sz * n, "Location", r->location, sizeof r->location);
    header_value(p, sz * n, "Retry-After", r->retry_after, sizeof r->retry_after);
    return sz * n;
}

void resp_free(resp *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
}

long http_full(const char *method, const char *path, const char *ctype, const char *body, size_t len,
               const char *const *headers, resp *r)
{
    memset(r, 0, sizeof *r);
    CURL *c = curl_easy_init();
    char url[4096];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", t_port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, t_body_append);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    struct curl_slist *hs = NULL;
    char h[512];
    if (ctype) {
        snprintf(h, sizeof h, "Content-Type: %s", ctype);
        hs = curl_slist_append(hs, h);
    }
    for (int i = 0; headers && headers[i]; i++)
        hs = curl_slist_append(hs, headers[i]);
    hs = curl_slist_append(hs, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    double t0 = now_s();
    CURLcode rc = curl_easy_perform(c);
    r->seconds = now_s() - t0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(hs);
    curl_easy_cleanup(c);
    return r->status;
}

long get(const char *path, resp *r)
{
    return http_full("GET", path, NULL, NULL, 0, NULL, r);
}

long post_json(const char *path, const char *body, resp *r)
{
    return http_full("POST", path, "application/json", body, strlen(body), NULL, r);
}

cJSON *json_of(const resp *r)
{
    return r->body ? cJSON_ParseWithLength(r->body, r->len) : NULL;
}

const char *str_at(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

double num_at(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

int is_error(const resp *r, const char *code, const char *field)
{
    cJSON *j = json_of(r);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    const char *c = str_at(e, "code"), *f = str_at(e, "field");
    int ok = e && c && strcmp(c, code) == 0 && cJSON_HasObjectItem(e, "message") && cJSON_HasObjectItem(e, "field")
             && (!field || (f && strcmp(f, field) == 0)) && strncmp(r->ctype, "application/json", 16) == 0;
    cJSON_Delete(j);
    return ok;
}

int t_free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t n = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(s, (struct sockaddr *)&a, &n) != 0) {
        perror("free port");
        exit(1);
    }
    close(s);
    return ntohs(a.sin_port);
}

void t_init(const char *exe, const char *name)
{
    t_exe = exe;
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    snprintf(t_dir, sizeof t_dir, "%s/dmilab-%s-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", name);
    if (!mkdtemp(t_dir)) {
        perror("mkdtemp");
        exit(2);
    }
    snprintf(t_db, sizeof t_db, "%s/test.db", t_dir);
    snprintf(t_log, sizeof t_log, "%s/server.log", t_dir);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    t_port = t_free_port();
    printf("# dmilab %s on port %d, database %s\n", exe, t_port, t_db);
}

int start_server(const char *const *extra)
{
    return start_server_env(extra, NULL);
}

pid_t spawn_server(int port, const char *db, const char *log, const char *const *extra, const char *const *env)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* a test killed by its runner's timeout must not leave its server running (and computing) as an orphan */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
    }
    unsetenv("DMILAB_TOKEN");
    for (int i = 0; env && env[i]; i++)
        putenv((char *)env[i]);
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    const char *argv[64] = {"dmilab", "serve", "--bind", "127.0.0.1", "--port", p, "--db", db, "--threads", "2",
                            "--workers", "1", "--data-root", "/usr/share/datasets"};
    int n = 14;
    for (int i = 0; extra && extra[i] && n < 62; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    execv(t_exe, (char *const *)argv);
    _exit(127);
}

int wait_up(int port, pid_t pid, double seconds, int *exit_status)
{
    int saved = t_port;
    t_port = port;
    double t0 = now_s();
    int ret = -1;
    while (now_s() - t0 < seconds) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            printf("# the server ended while starting\n");
            if (exit_status)
                *exit_status = st;
            ret = -2;
            break;
        }
        resp r;
        long s = get("/healthz", &r);
        resp_free(&r);
        if (s == 200) {
            ret = 0;
            break;
        }
        usleep(20000);
    }
    t_port = saved;
    return ret;
}

int start_server_env(const char *const *extra, const char *const *env)
{
    t_server = spawn_server(t_port, t_db, t_log, extra, env);
    if (t_server < 0)
        return -1;
    int k = wait_up(t_port, t_server, 20, NULL);
    if (k == -2)
        t_server = -1;
    return k == 0 ? 0 : -1;
}

int stop_server(int sig)
{
    if (t_server <= 0)
        return -1;
    kill(t_server, sig);
    double t0 = now_s();
    int st = -1;
    while (now_s() - t0 < 30) {
        if (waitpid(t_server, &st, WNOHANG) == t_server) {
            t_server = -1;
            return st;
        }
        usleep(10000);
    }
    kill(t_server, SIGKILL);
    waitpid(t_server, &st, 0);
    t_server = -1;
    return -1;
}

int t_finish(void)
{
    if (t_server > 0) {
        kill(t_server, SIGKILL);
        waitpid(t_server, NULL, 0);
        t_server = -1;
    }
    if (t_failures) {
        printf("---- server log (%s) ----\n", t_log);
        fflush(stdout);
        char cmd[600];
        snprintf(cmd, sizeof cmd, "tail -n 60 '%s'", t_log);
        if (system(cmd) != 0)
            printf("(no log)\n");
    }
    if (getenv("DMILAB_TEST_KEEP")) {
        printf("# kept %s (DMILAB_TEST_KEEP)\n", t_dir);
    } else {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", t_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", t_dir);
    }
    printf("# %d checks, %d failed\n", t_checks, t_failures);
    curl_global_cleanup();
    return t_failures ? 1 : 0;
}

void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

char *post_spec(const char *spec, long *status)
{
    resp r;
    post_json("/api/v1/experiments", spec, &r);
    cJSON *j = json_of(&r);
    char *id = str_at(j, "id") ? strdup(str_at(j, "id")) : NULL;
    if (status)
        *status = r.status;
    cJSON_Delete(j);
    resp_free(&r);
    return id;
}

char *wait_status(const char *id, double timeout)
{
    char path[200];
    snprintf(path, sizeof path, "/api/v1/experiments/%s/wait?timeout=%g", id, timeout);
    resp r;
    get(path, &r);
    cJSON *j = json_of(&r);
    char *s = strdup(str_at(j, "status") ? str_at(j, "status") : "?");
    cJSON_Delete(j);
    resp_free(&r);
    return s;
}

char *run_capture(const char *cmd, int *status)
{
    FILE *f = popen(cmd, "r");
    if (!f) {
        *status = -1;
        return strdup("");
    }
    size_t cap = 1 << 16, n = 0, k;
    char *buf = malloc(cap);
    while ((k = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (cap - n < 4096)
            buf = realloc(buf, cap *= 2);
    }
    buf[n] = '\0';
    int st = pclose(f);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return buf;
}

int t_connect(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)t_port);
    struct timeval tv = {10, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        close(s);
        return -1;
    }
    return s;
}
