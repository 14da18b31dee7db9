/* Every golden case through the `dmilab kernel` command (stdin -> stdout, %.17g), cross and Gram,
 * at 1e-10 relative; a malformed request exits 2 with a JSON error naming the field; --empirical gives
 * Monte Carlo kernels with their standard errors. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "check.h"

static double num_or(const cJSON *v) { return cJSON_IsNumber(v) ? v->valuedouble : NAN; }

static char *slurp_stream(FILE *f)
{
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    size_t r;
    while ((r = fread(b + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n < 2) b = realloc(b, cap *= 2);
    }
    b[n] = 0;
    return b;
}

/* Run `bin kernel` on `req`, return stdout (malloc'd) and the exit status. */
static char *run_kernel_args(const char *bin, const char *args, const char *req, int *status);

static char *run_kernel(const char *bin, const char *req, int *status) { return run_kernel_args(bin, "", req, status); }

static char *run_kernel_args(const char *bin, const char *args, const char *req, int *status)
{
    char path[] = "/tmp/dmilab-kreq-XXXXXX";
    int fd = mkstemp(path);
    if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) *status = -1;
    close(fd);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "'%s' kernel %s < %s 2>/dev/null", bin, args, path);
    FILE *p = popen(cmd, "r");
    char *out = slurp_stream(p);
    int st = pclose(p);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    unlink(path);
    return out;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_kernel_cli DMILAB_BINARY GOLDEN_JSON\n");
        return 2;
    }
    FILE *f = fopen(argv[2], "rb");
    CHECK(f != NULL, "open %s", argv[2]);
    if (!f) return check_summary("kernel_cli");
    char *text = slurp_stream(f);
    fclose(f);
    cJSON *root = cJSON_Parse(text);
    double worst = 0;
    for (const cJSON *c = cJSON_GetObjectItem(root, "cases")->child; c; c = c->next) {
        const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
        for (int gram = 0; gram < 2; gram++) {
            cJSON *req = cJSON_CreateObject();
            cJSON_AddItemToObject(req, "model", cJSON_Duplicate(cJSON_GetObjectItem(c, "model"), 1));
            cJSON_AddItemToObject(req, "x1", cJSON_Duplicate(cJSON_GetObjectItem(c, "x1"), 1));
            if (!gram) cJSON_AddItemToObject(req, "x2", cJSON_Duplicate(cJSON_GetObjectItem(c, "x2"), 1));
            char *rs = cJSON_PrintUnformatted(req);
            int status;
            char *out = run_kernel(argv[1], rs, &status);
            cJSON *resp = cJSON_Parse(out);
            CHECK(status == 0 && resp, "%s: dmilab kernel exit %d", name, status);
            const char *keys[2] = {"nngp", "ntk"};
            for (int k = 0; resp && k < 2; k++) {
                char want[16];
                snprintf(want, sizeof want, "%s_%s", keys[k], gram ? "11" : "12");
                const cJSON *g = cJSON_GetObjectItem(cJSON_GetObjectItem(resp, keys[k]), "data")->child;
                const cJSON *w = cJSON_GetObjectItem(cJSON_GetObjectItem(c, want), "data")->child;
                int ok = 1, count = 0;
                for (; g && w; g = g->next, w = w->next, count++) {
                    double rel = fabs(g->valuedouble - w->valuedouble) / fmax(fabs(w->valuedouble), 1e-300);
                    worst = fmax(worst, rel);
                    ok &= close_rel(g->valuedouble, w->valuedouble, 1e-10);
                }
                CHECK(ok && !g && !w, "%s %s within 1e-10 (%d entries)", name, want, count);
            }
            cJSON_Delete(resp);
            free(out);
            free(rs);
            cJSON_Delete(req);
        }
    }
    printf("dmilab kernel: worst relative error against the golden values %.3g\n", worst);
    int status;
    char *out = run_kernel(argv[1], "{\"model\": {\"arch\": \"cnn-gap\", \"filter\": [3, 3]}, \"x1\": {\"shape\": [1, 4, 1], \"data\": [1, 2, 3, 4]}}", &status);
    CHECK(status == 2, "bad request exits 2 (got %d)", status);
    free(out);
    /* --empirical: Monte Carlo kernels of wide random networks, seeded, near the exact ones (the NTK's
     * relative sampling error at width 1024 with 16 networks is a few percent; 15% is a loose bound) */
    const char *req = "{\"model\": {\"arch\": \"cnn-gap\", \"filter\": [3]}, \"x1\": {\"shape\": [2, 6, 1], \"data\": [1, 2, 3, 4, 5, 6, 4, 3, 2, 1, 0, -1]}}";
    char *exact = run_kernel(argv[1], req, &status);
    char *emp = run_kernel_args(argv[1], "--empirical --width 1024 --samples 16 --outputs 4 --seed 3", req, &status);
    CHECK(status == 0, "--empirical exits 0");
    cJSON *je = cJSON_Parse(exact), *jm = cJSON_Parse(emp);
    if (je && jm) {
        const cJSON *a = cJSON_GetObjectItem(cJSON_GetObjectItem(je, "ntk"), "data")->child;
        const cJSON *b = cJSON_GetObjectItem(cJSON_GetObjectItem(jm, "ntk"), "data")->child;
        for (; a && b; a = a->next, b = b->next)
            CHECK(fabs(a->valuedouble - b->valuedouble) <= 0.15 * fabs(a->valuedouble), "empirical NTK %g vs %g",
                  b->valuedouble, a->valuedouble);
    }
    /* every entry has its Monte Carlo standard error beside it, and the exact kernel lies within a few of them
     * plus the O(1/width) finite-width bias (2/W of sqrt(K_aa K_bb), as test_nn_kernel.c); one network has none */
    for (int k = 0; je && jm && k < 2; k++) {
        const char *name = k ? "ntk" : "nngp";
        const cJSON *mm = cJSON_GetObjectItem(jm, name), *me = cJSON_GetObjectItem(je, name);
        const cJSON *se = cJSON_GetObjectItem(mm, "standard_error"), *d = cJSON_GetObjectItem(mm, "data");
        const cJSON *ex = cJSON_GetObjectItem(me, "data");
        CHECK(cJSON_GetArraySize(se) == 4 && cJSON_GetArraySize(d) == 4, "%s: 4 standard errors beside 4 entries", name);
        double diag[2] = {cJSON_GetArrayItem(ex, 0)->valuedouble, cJSON_GetArrayItem(ex, 3)->valuedouble};
        for (int e = 0; e < 4 && cJSON_GetArraySize(se) == 4; e++) {
            double s = cJSON_GetArrayItem(se, e)->valuedouble, v = cJSON_GetArrayItem(d, e)->valuedouble;
            double x = cJSON_GetArrayItem(ex, e)->valuedouble, sc = sqrt(diag[e / 2] * diag[e % 2]);
            CHECK(s > 0 && fabs(v - x) <= 5 * s + 2.0 / 1024 * sc, "%s[%d]: empirical %g exact %g, standard error %g",
                  name, e, v, x, s);
        }
    }
    CHECK(jm && cJSON_GetObjectItem(jm, "empirical") &&
              num_or(cJSON_GetObjectItem(cJSON_GetObjectItem(jm, "empirical"), "samples")) == 16,
          "the response records the Monte Carlo settings");
    char *one = run_kernel_args(argv[1], "--empirical --width 64 --samples 1", req, &status);
    cJSON *j1 = cJSON_Parse(one);
    CHECK(status == 0 && j1 && !cJSON_GetObjectItem(cJSON_GetObjectItem(j1, "nngp"), "standard_error"),
          "one network: no standard error");
    cJSON_Delete(j1);
    free(one);
    cJSON_Delete(je);
    cJSON_Delete(jm);
    free(exact);
    free(emp);
    cJSON_Delete(root);
    free(text);
    return check_summary("kernel_cli");
}
