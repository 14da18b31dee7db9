/* One kernel whichever build runs: the NNGP and NTK of ReLU models are the same bits under DMILAB_SIMD=avx512,
 * avx2 and scalar (those this CPU has). The float64 ReLU dual runs the same operations in every build
 * (core/layers/relu_angle.h), the window rows and sums take each entry's additions in the same order in every
 * build, and the row-streamed engine's first Conv straight from the inputs equals the input covariance's
 * window. Each build runs in a child process (the build is chosen once per process): this program with --emit
 * writes every kernel entry of 120 seeded random ReLU models (tests/random_model.h; 1D and 2D, one and two
 * channels) to stdout, and the parent compares the builds' bytes. (erf duals use SLEEF's atan2, whose builds
 * are not promised to agree in the last bit; float32 likewise.) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "dmilab/kernel.h"
#include "dmilab/rng.h"
#include "random_model.h"

static int emit(void)
{
    dml_rng r;
    uint64_t key = 4711;
    dml_rng_seed(&r, &key, 1);
    for (int k = 0; k < 120; k++) {
        dml_model m;
        random_model(&r, &m, 1);
        dml_shape sh = {.nd = 1 + (int)dml_rng_below(&r, 2), .channels = 1 + (int)dml_rng_below(&r, 2)};
        for (int a = 0; a < sh.nd; a++) sh.size[a] = 2 + (int)dml_rng_below(&r, sh.nd == 1 ? 30 : 9);
        size_t D = dml_shape_numel(&sh), n1 = 3, n2 = 2;
        double x[5 * 2 * 81], K[16], T[16];   /* (n1 + n2) D, D <= 9 x 9 x 2 */
        for (size_t i = 0; i < (n1 + n2) * D; i++) x[i] = dml_rng_normal(&r);
        dml_error err;
        if (dml_kernel(&m, &sh, x, n1, NULL, 0, K, T, 2, &err) == 0) {
            fwrite(K, sizeof *K, n1 * n1, stdout);
            fwrite(T, sizeof *T, n1 * n1, stdout);
        }
        if (dml_kernel(&m, &sh, x, n1, x + n1 * D, n2, K, T, 1, &err) == 0) {
            fwrite(K, sizeof *K, n1 * n2, stdout);
            fwrite(T, sizeof *T, n1 * n2, stdout);
        }
    }
    return 0;
}

/* the bytes the child writes under DMILAB_SIMD=isa, or NULL */
static unsigned char *run(const char *isa, size_t *len)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "DMILAB_SIMD=%s /proc/%ld/exe --emit", isa, (long)getpid());
    FILE *p = popen(cmd, "r");
    if (!p) return NULL;
    size_t cap = 1 << 16, n = 0;
    unsigned char *b = malloc(cap);
    size_t got;
    while ((got = fread(b + n, 1, cap - n, p)) > 0) {
        n += got;
        if (n == cap) b = realloc(b, cap *= 2);
    }
    int rc = pclose(p);
    if (rc != 0) {
        free(b);
        return NULL;
    }
    *len = n;
    return b;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--emit") == 0) return emit();
    __builtin_cpu_init();
    size_t n0 = 0;
    unsigned char *ref = run("scalar", &n0);
    CHECK(ref && n0 > 120 * 8 * 8, "the scalar build's child gave %zu bytes", n0);
    const char *isa[] = {"avx2", "avx512"};
    int has[] = {__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"), __builtin_cpu_supports("avx512f")};
    for (int i = 0; i < 2 && ref; i++) {
        if (!has[i]) {
            printf("kernel builds: %s not on this CPU\n", isa[i]);
            continue;
        }
        size_t n = 0;
        unsigned char *b = run(isa[i], &n);
        CHECK(b && n == n0 && memcmp(b, ref, n0) == 0, "DMILAB_SIMD=%s: the kernels differ from the scalar build's",
              isa[i]);
        if (b) printf("kernel builds: %s and scalar, %zu kernel entries, %s\n", isa[i], n / 8,
                      n == n0 && memcmp(b, ref, n0) == 0 ? "the same bits" : "DIFFERENT");
        free(b);
    }
    free(ref);
    return check_summary("kernel_simd");
}
