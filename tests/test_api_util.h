/* Helpers of the API tests (test_api_*.c): checks, HTTP with libcurl, a `dmilab serve` child process
 * on a free port with a temporary database. */
#ifndef DMILAB_TEST_API_UTIL_H
#define DMILAB_TEST_API_UTIL_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <sys/types.h>

extern const char *t_exe;               /* the dmilab executable */
extern char t_dir[256], t_db[300], t_log[300];
extern int t_port;
extern pid_t t_server;
extern int t_failures, t_checks;

/** Print "ok   ..." or "FAIL ..." and count it; returns ok. */
int check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
double now_s(void);

typedef struct {
    long status;
    char *body;
    size_t len;
    char ctype[128], allow[128], location[256], retry_after[32];
    double seconds;
} resp;

/** One request to the test server; `headers` is a NULL-terminated list of "Name: value" (may be NULL),
 *  `ctype` and `body` may be NULL. Returns the status (0 when the connection failed). */
long http_full(const char *method, const char *path, const char *ctype, const char *body, size_t len,
               const char *const *headers, resp *r);
long get(const char *path, resp *r);
long post_json(const char *path, const char *body, resp *r);
void resp_free(resp *r);
/** libcurl write callback appending to the body of the resp `ud` (NUL-terminated). */
size_t t_body_append(char *p, size_t sz, size_t n, void *ud);
/** A TCP connection to the test server (10 s receive timeout), or -1. */
int t_connect(void);
cJSON *json_of(const resp *r);
const char *str_at(const cJSON *o, const char *k);
double num_at(const cJSON *o, const char *k);   /* NAN when missing */
/** Whether the reply is the error shape with this code (and field when not NULL). */
int is_error(const resp *r, const char *code, const char *field);

/** A TCP port of 127.0.0.1 free at the time of the call. */
int t_free_port(void);
/** Set up t_dir (mkdtemp), t_db, t_log, t_port, curl; `name` goes into the directory name. */
void t_init(const char *exe, const char *name);
/** Start `dmilab serve` with --threads 2 --workers 1 and the extra flags (NULL-terminated, may be NULL).
 *  Waits for /healthz. Returns 0 or -1. */
int start_server(const char *const *extra);
/** start_server, and the child also puts the "NAME=value" strings of `env` (NULL-terminated, may be NULL)
 *  into its environment after clearing DMILAB_TOKEN. */
int start_server_env(const char *const *extra, const char *const *env);
/** Fork and exec `dmilab serve` on `port` with database `db`, output appended to `log`, the flags of start_server and
 *  `extra`, and `env` as start_server_env. Returns the child's pid (or -1). */
pid_t spawn_server(int port, const char *db, const char *log, const char *const *extra, const char *const *env);
/** Wait until the server `pid` answers /healthz on `port` (up to `seconds`): 0, -1 on timeout, -2 when it ended
 *  (then its wait status goes to *exit_status when not NULL). */
int wait_up(int port, pid_t pid, double seconds, int *exit_status);
/** Send `sig` and wait up to 30 s; the wait status, or -1. */
int stop_server(int sig);
/** Kill the server, print the log tail on failures, remove t_dir; returns the exit status of the test. */
int t_finish(void);

void write_file(const char *path, const char *text);
/** POST a spec; returns its id (malloc'd) or NULL; *status gets the HTTP status when not NULL. */
char *post_spec(const char *spec, long *status);
/** GET .../wait?timeout=S once; returns the status string (malloc'd). */
char *wait_status(const char *id, double timeout);
/** Run a shell command, capture its standard output (malloc'd) and exit status. */
char *run_capture(const char *cmd, int *status);

#endif
