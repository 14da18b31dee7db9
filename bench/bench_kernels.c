/* dmilab kernel benchmark: NNGP + NTK of one architecture on the inputs written by the PyTorch peer
 * (bench/peers/torch_kernels.py --save-inputs DIR), timed and printed in the peer's format so that
 * bench/kernels.sh can compare the two side by side (DESIGN section 7).
 *
 * Usage: bench_kernels --arch fcn|lcn|cnn-vec|cnn-gap --n1 N --n2 N --size S
 *                      [--depth 2] [--filter 3] [--padding same|valid|circular] [--threads 2]
 *                      [--inputs DIR]
 * Reads DIR/x1.f64 (n1*S*S doubles) and DIR/x2.f64 (n2*S*S doubles): raw little-endian float64,
 * row-major (n, S, S, 1). Times the dml_kernel call only (CLOCK_MONOTONIC wall time).
 * Prints: '<arch> size=S n1=.. n2=.. pairs_per_s=... seconds=... checksum=...'
 * where checksum is the sum of every NNGP and NTK entry.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dmilab/kernel.h"
#include "dmilab/model.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_kernels --arch fcn|lcn|cnn-vec|cnn-gap --n1 N --n2 N --size S\n"
            "                     [--depth 2] [--filter 3] [--padding same|valid|circular]\n"
            "                     [--threads 2] [--inputs DIR] [--kernel-precision float64|float32]\n"
            "Reads DIR/x1.f64 and DIR/x2.f64 (written by torch_kernels.py --save-inputs DIR with the\n"
            "same --n1 --n2 --size; DIR defaults to '.') and times dml_kernel on them.\n");
}

static int parse_long(const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "bench_kernels: %s: expected an integer in [%ld, %ld], got '%s'\n", opt, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* Index of `s` in names[0..n), or -1. */
static int lookup(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}

static int is_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static void bswap64(double *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t u;
        memcpy(&u, &x[i], 8);
        u = __builtin_bswap64(u);
        memcpy(&x[i], &u, 8);
    }
}

/* Read exactly `count` float64 values from DIR/name; the file must have exactly that size. */
static double *read_f64(const char *dir, const char *name, size_t count)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) {
        fprintf(stderr, "bench_kernels: path too long: %s/%s\n", dir, name);
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bench_kernels: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    double *x = malloc(count ? count * sizeof *x : 1);
    if (!x) {
        fprintf(stderr, "bench_kernels: out of memory reading %s\n", path);
        fclose(f);
        return NULL;
    }
    size_t got = fread(x, sizeof *x, count, f);
    int extra = fgetc(f);
    int rerr = ferror(f);
    fclose(f);
    if (rerr || got != count || extra != EOF) {
        fprintf(stderr, "bench_kernels: %s: expected exactly %zu float64 values (%zu bytes)%s; "
                "were the inputs saved with the same --n1/--n2/--size?\n",
                path, count, count * sizeof *x, got != count ? ", file is shorter" : ", file is longer");
        free(x);
        return NULL;
    }
    if (!is_little_endian())
        bswap64(x, count);
    return x;
}

int main(int argc, char **argv)
{
    const char *arch_s = NULL, *padding_s = "same", *dir = ".", *prec_s = "float64";
    long n1 = -1, n2 = -1, size = -1, depth = 2, filter = 3, threads = 2;

    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            usage(stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "bench_kernels: %s needs a value (or is unknown)\n", o);
            usage(stderr);
            return 2;
        }
        const char *v = argv[++i];
        int rc = 0;
        if (!strcmp(o, "--arch")) arch_s = v;
        else if (!strcmp(o, "--padding")) padding_s = v;
        else if (!strcmp(o, "--inputs")) dir = v;
        else if (!strcmp(o, "--kernel-precision")) prec_s = v;
        else if (!strcmp(o, "--n1")) rc = parse_long(o, v, 1, 1L << 30, &n1);
        else if (!strcmp(o, "--n2")) rc = parse_long(o, v, 1, 1L << 30, &n2);
        else if (!strcmp(o, "--size")) rc = parse_long(o, v, 1, 1 << 16, &size);
        else if (!strcmp(o, "--depth")) rc = parse_long(o, v, 1, DML_MAX_LAYERS, &depth);
        else if (!strcmp(o, "--filter")) rc = parse_long(o, v, 1, 1 << 16, &filter);
        else if (!strcmp(o, "--threads")) rc = parse_long(o, v, 1, 1024, &threads);
        else {
            fprintf(stderr, "bench_kernels: unknown option %s\n", o);
            usage(stderr);
            return 2;
        }
        if (rc)
            return 2;
    }
    if (!arch_s || n1 < 0 || n2 < 0 || size < 0) {
        fprintf(stderr, "bench_kernels: --arch, --n1, --n2 and --size are required\n");
        usage(stderr);
        return 2;
    }

    dml_model m;
    dml_model_defaults(&m);
    int arch = lookup(arch_s, dml_arch_names, DML_NARCHS), pad = lookup(padding_s, dml_padding_names, DML_NPADDINGS);
    if (arch < 0) {
        fprintf(stderr, "bench_kernels: --arch must be fcn, lcn, cnn-vec or cnn-gap, got '%s'\n", arch_s);
        return 2;
    }
    if (pad < 0) {
        fprintf(stderr, "bench_kernels: --padding must be same, valid or circular, got '%s'\n", padding_s);
        return 2;
    }
    int prec = lookup(prec_s, dml_kernel_precision_names, DML_NKERNEL_PRECISIONS);
    if (prec < 0) {
        fprintf(stderr, "bench_kernels: --kernel-precision must be float64 or float32, got '%s'\n", prec_s);
        return 2;
    }
    m.kernel_precision = (dml_kernel_precision)prec;
    m.arch = (dml_arch)arch;
    m.padding = (dml_padding)pad;
    m.depth = (int)depth;
    m.filter[0] = m.filter[1] = (int)filter;
    m.nfilter = 1;

    dml_shape shape = {.nd = 2, .size = {(int)size, (int)size}, .channels = 1};
    size_t numel = dml_shape_numel(&shape);

    double *x1 = read_f64(dir, "x1.f64", (size_t)n1 * numel);
    double *x2 = x1 ? read_f64(dir, "x2.f64", (size_t)n2 * numel) : NULL;
    size_t pairs = (size_t)n1 * (size_t)n2;
    double *nngp = malloc(pairs * sizeof *nngp);
    double *ntk = malloc(pairs * sizeof *ntk);
    if (!x1 || !x2 || !nngp || !ntk) {
        if (x1 && x2)
            fprintf(stderr, "bench_kernels: out of memory for %zu x %zu outputs\n", (size_t)n1, (size_t)n2);
        free(x1), free(x2), free(nngp), free(ntk);
        return 1;
    }

    dml_error err;
    dml_error_clear(&err);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = dml_kernel(&m, &shape, x1, (size_t)n1, x2, (size_t)n2, nngp, ntk, (int)threads, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc) {
        fprintf(stderr, "bench_kernels: dml_kernel failed: %s%s%s%s\n", dml_code_name(err.code),
                err.field[0] ? " (" : "", err.field, err.field[0] ? ")" : "");
        fprintf(stderr, "bench_kernels: %s\n", err.message);
        free(x1), free(x2), free(nngp), free(ntk);
        return 1;
    }
    double dt = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);

    /* Sum NNGP then NTK, like the peer's float(nngp.sum() + ntk.sum()); long double limits the
     * summation-order difference against torch's pairwise sum to far below the 1e-9 comparison. */
    long double sk = 0.0L, st = 0.0L;
    for (size_t i = 0; i < pairs; i++) {
        sk += nngp[i];
        st += ntk[i];
    }
    double checksum = (double)(sk + st);

    printf("%s size=%ld n1=%ld n2=%ld pairs_per_s=%.1f seconds=%.2f checksum=%.10e\n",
           dml_arch_name(m.arch), size, n1, n2, dt > 0 ? (double)pairs / dt : 0.0, dt, checksum);

    free(x1), free(x2), free(nngp), free(ntk);
    return 0;
}
