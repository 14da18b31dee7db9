/* dmilab server: small helpers (time, ids, files, hex, logging). */
#include "util.h"

#include "dmilab_version.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void util_format_ms(int64_t ms, char buf[UTIL_TIME_LEN])
{
    struct tm tm;
    time_t sec = (time_t)(ms / 1000);
    gmtime_r(&sec, &tm);
    snprintf(buf, UTIL_TIME_LEN, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", (unsigned)(tm.tm_year + 1900) % 10000u,
             (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u,
             (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u, (unsigned)(ms % 1000) % 1000u);
}

int64_t util_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void util_now(char buf[UTIL_TIME_LEN])
{
    util_format_ms(util_now_ms(), buf);
}

int util_new_id(char buf[UTIL_ID_LEN])
{
    unsigned char r[8];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t got = 0;
    while (got < sizeof r) {
        ssize_t k = read(fd, r + got, sizeof r - got);
        if (k <= 0) {
            close(fd);
            return -1;
        }
        got += (size_t)k;
    }
    close(fd);
    static const char hex[] = "0123456789abcdef";
    memcpy(buf, "exp_", 4);
    for (int i = 0; i < 8; i++) {
        buf[4 + 2 * i] = hex[r[i] >> 4];
        buf[5 + 2 * i] = hex[r[i] & 15];
    }
    buf[20] = '\0';
    return 0;
}

char *util_read_stream(FILE *f, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    for (;;) {
        if (cap - n < 4096) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        size_t k = fread(buf + n, 1, cap - n - 1, f);
        n += k;
        if (k == 0) {
            if (ferror(f)) {
                free(buf);
                return NULL;
            }
            break;
        }
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

char *util_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *s = util_read_stream(f, len);
    fclose(f);
    return s;
}

char *util_hex_encode(const void *data, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = data;
    char *s = malloc(2 * n + 1);
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = hex[p[i] >> 4];
        s[2 * i + 1] = hex[p[i] & 15];
    }
    s[2 * n] = '\0';
    return s;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *util_hex_decode(const char *hex, size_t *len)
{
    size_t n = strlen(hex);
    if (n % 2)
        return NULL;
    char *s = malloc(n / 2 + 1);
    if (!s)
        return NULL;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(s);
            return NULL;
        }
        s[i] = (char)(hi << 4 | lo);
    }
    s[n / 2] = '\0';
    if (len)
        *len = n / 2;
    return s;
}

/* Rate limits of the log (a client sending malformed requests in a loop must not fill the disk): a line repeated
 * within a window is printed LOG_REPEAT_SHOWN times, then counted and summarised when the window ends; and all lines
 * together are capped by a token bucket of LOG_RATE lines a second with bursts of LOG_BURST, the rest counted. */
#define LOG_SLOTS 128
#define LOG_WINDOW_SECONDS 10.0
#define LOG_REPEAT_SHOWN 5
#define LOG_RATE 50.0
#define LOG_BURST 200.0

typedef struct {
    uint64_t hash;
    double window_start;
    long seen, suppressed;
    char text[160];
} log_slot;

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static log_slot log_slots[LOG_SLOTS];
static double log_tokens = LOG_BURST, log_refilled;
static long log_dropped;

static double log_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void log_write(const char *line)
{
    char t[UTIL_TIME_LEN];
    util_now(t);
    fprintf(stderr, "%s dmilab: %s\n", t, line);
}

/* Print the summary of a slot whose window holds suppressed lines, and empty it (under log_mu). */
static void log_summarise(log_slot *sl)
{
    if (sl->suppressed > 0) {
        char line[320];
        snprintf(line, sizeof line, "(the last line was repeated %ld more times in %.0f s: %s)", sl->suppressed,
                 LOG_WINDOW_SECONDS, sl->text);
        log_write(line);
    }
    memset(sl, 0, sizeof *sl);
}

/* Say how many lines the rate cap dropped since the last note (under log_mu). */
static void log_dropped_note(void)
{
    if (log_dropped > 0) {
        char note[96];
        snprintf(note, sizeof note, "(%ld log lines dropped: more than %.0f a second)", log_dropped, LOG_RATE);
        log_write(note);
        log_dropped = 0;
    }
}

void util_log(const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)line; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    h |= 1;   /* 0 marks an empty slot */
    pthread_mutex_lock(&log_mu);
    double now = log_clock();
    log_tokens += (now - log_refilled) * LOG_RATE;
    if (log_tokens > LOG_BURST)
        log_tokens = LOG_BURST;
    log_refilled = now;
    log_slot *sl = &log_slots[h % LOG_SLOTS];
    if (sl->hash && (sl->hash != h || now - sl->window_start > LOG_WINDOW_SECONDS))
        log_summarise(sl);   /* another line takes the slot, or the window ended */
    if (!sl->hash) {
        sl->hash = h;
        sl->window_start = now;
        snprintf(sl->text, sizeof sl->text, "%.159s", line);
    }
    if (++sl->seen > LOG_REPEAT_SHOWN) {
        sl->suppressed++;
    } else if (log_tokens < 1) {
        log_dropped++;
    } else {
        log_tokens -= 1;
        log_dropped_note();
        log_write(line);
    }
    pthread_mutex_unlock(&log_mu);
}

void util_log_flush(void)
{
    pthread_mutex_lock(&log_mu);
    double now = log_clock();
    for (int i = 0; i < LOG_SLOTS; i++)
        if (log_slots[i].hash && now - log_slots[i].window_start > LOG_WINDOW_SECONDS)
            log_summarise(&log_slots[i]);
    log_dropped_note();
    fflush(stderr);
    pthread_mutex_unlock(&log_mu);
}

int util_ncpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n >= 1 ? (int)n : 1;
}

const char *util_version_text(void)
{
    return "dmilab " DMILAB_VERSION " (" DMILAB_COMMIT ")";
}
