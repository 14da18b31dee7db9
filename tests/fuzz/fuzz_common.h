/* A small self-contained mutation fuzzer (no libFuzzer needed): a corpus of seeds, byte-level and token-level
 * mutations, splicing, and a fixed-seed xorshift generator so a run is reproducible (FUZZ_SEED). */
#ifndef DMILAB_FUZZ_COMMON_H
#define DMILAB_FUZZ_COMMON_H

#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    char *data;
    size_t len;
} fz_input;

typedef struct {
    fz_input *v;
    size_t n, cap;
} fz_corpus;

static uint64_t fz_state = 0x9e3779b97f4a7c15ull;

/* The input under test, written to fz_crash_file by fz_save when it crashes or breaks an invariant. */
__attribute__((unused)) static const char *fz_current;
__attribute__((unused)) static size_t fz_current_len;
__attribute__((unused)) static const char *fz_prog = "fuzz", *fz_crash_file = "fuzz-crash";

static inline void fz_save(const char *why)
{
    FILE *f = fopen(fz_crash_file, "wb");
    if (f) {
        fwrite(fz_current, 1, fz_current_len, f);
        fclose(f);
    }
    fprintf(stderr, "%s: %s; input saved to %s (%zu bytes)\n", fz_prog, why, fz_crash_file, fz_current_len);
}

static inline void fz_on_signal(int sig)
{
    (void)sig;
    fz_save("crash");
    _exit(1);
}

/* Name the fuzzer and its crash file, and save the current input on SIGSEGV, SIGABRT, SIGBUS, SIGFPE. */
static inline void fz_watch(const char *prog, const char *crash_file)
{
    fz_prog = prog;
    fz_crash_file = crash_file;
    signal(SIGSEGV, fz_on_signal);
    signal(SIGABRT, fz_on_signal);
    signal(SIGBUS, fz_on_signal);
    signal(SIGFPE, fz_on_signal);
}

static uint64_t fz_rand(void)
{
    uint64_t x = fz_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return fz_state = x;
}

static size_t fz_below(size_t n)
{
    return n ? (size_t)(fz_rand() % n) : 0;
}

static double fz_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void fz_add(fz_corpus *c, const char *data, size_t len)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->v = realloc(c->v, c->cap * sizeof *c->v);
    }
    c->v[c->n].data = malloc(len + 1);
    memcpy(c->v[c->n].data, data, len);
    c->v[c->n].data[len] = '\0';
    c->v[c->n].len = len;
    c->n++;
}

/* Add every file of a directory whose name ends with `ext` (e.g. ".json"). Returns the number added. */
static int fz_add_dir_ext(fz_corpus *c, const char *dir, const char *ext)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        size_t k = strlen(e->d_name), ke = strlen(ext);
        if (k <= ke || strcmp(e->d_name + k - ke, ext) != 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        char *buf = malloc(1 << 20);
        size_t len = fread(buf, 1, (1 << 20) - 1, f);
        fclose(f);
        fz_add(c, buf, len);
        free(buf);
        n++;
    }
    closedir(d);
    return n;
}

/* Add every *.json file of a directory. Returns the number added. */
static inline int fz_add_dir(fz_corpus *c, const char *dir)
{
    return fz_add_dir_ext(c, dir, ".json");
}

/* Interesting fragments for JSON specs and HTTP requests. */
static const char *const fz_tokens[] = {
    "{", "}", "[", "]", ",", ":", "\"", "\\", "\\u0000", "\\ud800", "null", "true", "false", "0", "-0", "1", "-1", "1e400",
    "-1e400", "1e-400", "NaN", "Infinity", "4294967296", "18446744073709551616", "9007199254740993", "0.5", "1e15",
    "\"\"", "\"fashion-mnist\"", "\"mnist\"", "\"fcn\"", "\"cnn-gap\"", "\"cnn-vec\"", "\"lcn\"", "\"ntk\"", "\"nngp\"",
    "\"name\"", "\"data\"", "\"models\"", "\"inference\"", "\"repeats\"", "\"seed\"", "\"checks\"", "\"audit\"",
    "\"n_train\"", "\"n_test\"", "\"resize\"", "\"path\"", "\"transform\"", "\"filter\"", "\"stride\"", "\"padding\"",
    "\"depth\"", "\"width\"", "\"arm\"", "\"metric\"", "\"op\"", "\"value\"", "\"than_arm\"", "\"tolerance\"",
    "\"/etc\"", "\"../..\"", "\"/usr/share/datasets/../..\"", "[1,2,3]", "[[[[[[[[", "]]]]]]]]", "{\"a\":{\"a\":",
    "\xff", "\xc0\x80", "\x00", "\r\n", "%00", "%2e%2e", "/..", "?", "&", "=", "#",
};
#define FZ_NTOKENS (sizeof fz_tokens / sizeof fz_tokens[0])

/* Mutate `in` into a malloc'd buffer (*out, *outlen), using other corpus entries for splicing. */
static void fz_mutate(const fz_corpus *c, const fz_input *in, char **out, size_t *outlen, size_t maxlen)
{
    size_t cap = in->len + 4096, len = in->len;
    char *b = malloc(cap);
    memcpy(b, in->data, in->len);
    int rounds = 1 + (int)fz_below(6);
    for (int r = 0; r < rounds; r++) {
        switch (fz_below(8)) {
        case 0: /* flip a bit */
            if (len)
                b[fz_below(len)] ^= (char)(1u << fz_below(8));
            break;
        case 1: /* random byte */
            if (len)
                b[fz_below(len)] = (char)fz_rand();
            break;
        case 2: { /* delete a range */
            if (!len)
                break;
            size_t at = fz_below(len), k = 1 + fz_below(len - at < 32 ? len - at : 32);
            memmove(b + at, b + at + k, len - at - k);
            len -= k;
            break;
        }
        case 3:
        case 4: { /* insert a token */
            const char *t = fz_tokens[fz_below(FZ_NTOKENS)];
            size_t k = strlen(t) ? strlen(t) : 1, at = fz_below(len + 1);
            if (len + k >= cap)
                break;
            memmove(b + at + k, b + at, len - at);
            memcpy(b + at, t, k);
            len += k;
            break;
        }
        case 5: { /* replace a number-like run with a token */
            size_t at = fz_below(len + 1);
            while (at < len && !(b[at] >= '0' && b[at] <= '9'))
                at++;
            size_t e = at;
            while (e < len && ((b[e] >= '0' && b[e] <= '9') || b[e] == '.' || b[e] == 'e' || b[e] == '-'))
                e++;
            const char *t = fz_tokens[fz_below(FZ_NTOKENS)];
            size_t k = strlen(t);
            if (at >= len || len - (e - at) + k >= cap)
                break;
            memmove(b + at + k, b + e, len - e);
            memcpy(b + at, t, k);
            len = len - (e - at) + k;
            break;
        }
        case 6: { /* splice a chunk of another input */
            const fz_input *o = &c->v[fz_below(c->n)];
            if (!o->len)
                break;
            size_t from = fz_below(o->len), k = 1 + fz_below(o->len - from), at = fz_below(len + 1);
            if (len + k >= cap)
                break;
            memmove(b + at + k, b + at, len - at);
            memcpy(b + at, o->data + from, k);
            len += k;
            break;
        }
        default: { /* duplicate a range */
            if (!len)
                break;
            size_t at = fz_below(len), k = 1 + fz_below(len - at < 64 ? len - at : 64);
            if (len + k >= cap)
                break;
            memmove(b + at + k, b + at, len - at);
            len += k;
            break;
        }
        }
    }
    if (len > maxlen)
        len = maxlen;
    b[len < cap ? len : cap - 1] = '\0';
    *out = b;
    *outlen = len;
}

/* The input of run `run`, malloc'd into *buf and *len: the first `seeds` runs take the seeds in order, later
 * runs a mutation of a random corpus entry. Returns 1 for a mutation, 0 for a seed. */
static inline int fz_next(const fz_corpus *c, long run, size_t seeds, char **buf, size_t *len, size_t maxlen)
{
    if (run < (long)seeds) {
        const fz_input *in = &c->v[run];
        *buf = malloc(in->len + 1);
        memcpy(*buf, in->data, in->len + 1);
        *len = in->len;
        return 0;
    }
    fz_mutate(c, &c->v[fz_below(c->n)], buf, len, maxlen);
    return 1;
}

#endif
