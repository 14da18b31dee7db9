/* The dry-run cost estimate against the measured time of the same experiment: for each spec, the estimate of
 * POST /api/v1/experiments?dry_run=true (dml_spec_cost_json: estimated_seconds, memory_bytes) and, with --run,
 * the wall and CPU time of running it (dml_experiment_run, as `dmilab run` does, nothing stored) and the peak
 * resident size of this process. bench/estimate.sh runs it on the examples and checks the ratios.
 *
 * Usage: bench_estimate [--threads N] [--data-root DIR] [--run] SPEC.json...   (DIR: DMILAB_DATA_ROOT, else
 * /usr/share/datasets, as `dmilab serve`)
 * Prints one line per spec: 'SPEC estimated_s=... memory_bytes=... [wall_s=... cpu_s=... ratio=... maxrss_bytes=...]'
 * with ratio = wall / estimated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "dmilab/admission.h"
#include "dmilab/cost.h"
#include "dmilab/experiment.h"
#include "dmilab/spec.h"

static double wall(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double cpu(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + 1e-6 * u.ru_utime.tv_usec + (double)u.ru_stime.tv_sec + 1e-6 * u.ru_stime.tv_usec;
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    *n = b ? fread(b, 1, (size_t)len, f) : 0;
    if (b) b[*n] = 0;
    fclose(f);
    return b;
}

int main(int argc, char **argv)
{
    int threads = 2, run = 0, rc = 0;
    const char *root = getenv("DMILAB_DATA_ROOT");
    if (!root || !root[0]) root = "/usr/share/datasets";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--data-root") == 0 && i + 1 < argc) {
            root = argv[++i];
            continue;
        }
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            threads = atoi(argv[++i]);
            continue;
        }
        if (strcmp(argv[i], "--run") == 0) {
            run = 1;
            continue;
        }
        size_t n;
        char *text = slurp(argv[i], &n);
        if (!text) {
            fprintf(stderr, "bench_estimate: cannot read %s\n", argv[i]);
            return 2;
        }
        dml_spec s;
        dml_error err = {0};
        if (dml_spec_parse(text, n, root, &s, &err) || dml_spec_admit(&s, NULL, &err)) {
            fprintf(stderr, "bench_estimate: %s: %s (%s)\n", argv[i], err.message, err.field);
            free(text);
            return 2;
        }
        cJSON *cost = dml_spec_cost_json(&s, threads);
        double est = cJSON_GetObjectItem(cost, "estimated_seconds")->valuedouble;
        double mem = cJSON_GetObjectItem(cost, "memory_bytes")->valuedouble;
        printf("%s estimated_s=%.2f memory_bytes=%.0f", argv[i], est, mem);
        if (run) {
            dml_run_hooks h = {.threads = threads};
            double w0 = wall(), c0 = cpu();
            if (dml_experiment_run(&s, &h, &err)) {
                fprintf(stderr, "\nbench_estimate: %s: %s\n", argv[i], err.message);
                rc = 2;
            }
            double w = wall() - w0, c = cpu() - c0;
            struct rusage u;
            getrusage(RUSAGE_SELF, &u);
            printf(" wall_s=%.2f cpu_s=%.2f ratio=%.3f maxrss_bytes=%.0f", w, c, w / est, 1024.0 * u.ru_maxrss);
        }
        printf("\n");
        fflush(stdout);
        cJSON_Delete(cost);
        dml_spec_free(&s);
        free(text);
    }
    return rc;
}
