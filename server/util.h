/* dmilab server: small helpers shared by the server files (time, ids, files, hex, logging). */
#ifndef DMILAB_SERVER_UTIL_H
#define DMILAB_SERVER_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define UTIL_TIME_LEN 32   /**< room for an RFC 3339 timestamp with milliseconds */
#define UTIL_ID_LEN 24     /**< room for "exp_" + 16 hex characters */

/** Write the current UTC time as RFC 3339 with milliseconds ("2024-05-01T12:00:00.123Z") into `buf`. */
void util_now(char buf[UTIL_TIME_LEN]);

/** The current time as Unix milliseconds (CLOCK_REALTIME: comparable between the processes of a machine). */
int64_t util_now_ms(void);

/** Write Unix milliseconds `ms` as RFC 3339 UTC with milliseconds into `buf`. */
void util_format_ms(int64_t ms, char buf[UTIL_TIME_LEN]);

/** Write a new experiment id, "exp_" + 16 random hex characters from /dev/urandom. Returns 0 or -1. */
int util_new_id(char buf[UTIL_ID_LEN]);

/** Read a whole stream into a malloc'd, NUL-terminated buffer; its length (without the NUL) in *len.
 *  Returns NULL on a read error or when out of memory. */
char *util_read_stream(FILE *f, size_t *len);

/** Read a whole file (see util_read_stream). NULL when it cannot be opened or read. */
char *util_read_file(const char *path, size_t *len);

/** Lower-case hex encoding of `n` bytes into a malloc'd string. */
char *util_hex_encode(const void *data, size_t n);

/** Decode hex text into a malloc'd NUL-terminated buffer; NULL when `hex` is not valid hex. */
char *util_hex_decode(const char *hex, size_t *len);

/** Log one line to stderr, prefixed with the UTC time ("2024-...Z dmilab: ..."). Rate-limited: the same line is
 *  printed at most 5 times in 10 s, then counted and summarised ("the last line was repeated N more times"), and
 *  all lines together at most 50 a second (bursts of 200), the rest counted. Thread-safe. */
void util_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** Print the summaries of rate-limited lines whose window ended, and flush stderr (called every second). */
void util_log_flush(void);

/** "dmilab <version> (<commit>)", as experiments, provenance and `dmilab run` report it. */
const char *util_version_text(void);

/** Number of online CPUs (at least 1). */
int util_ncpu(void);

#endif
