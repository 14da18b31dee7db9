/* erf kernels at input scales 1e-3 .. 1e8 against a high-precision reference (tests/data/erf_golden.json,
 * from tests/gen_erf_golden.py: mpmath at 60 digits, DESIGN 2.1 as written). Large inputs are where the erf
 * dual cancels: (1 + 2 k11)(1 + 2 k22) - 4 k12^2 of a self pair is 1 + 4 k11 computed as the difference of two
 * numbers of size 4 k11^2 (issue 9). Every entry of the Gram matrix (self pairs included) and of the cross
 * block, NNGP and NTK, must agree to 1e-12 relative, on the build of the duals this CPU runs and on the
 * scalar one (DMILAB_SIMD=scalar in a second run of this test, see tests/meson.build). */
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "dmilab/kernel.h"
#include "check.h"

#define TOL 1e-12

/* worst relative error per scale (index: log10(scale) + 3) */
static double worst[12];

static void compare(const char *name, int scale_index, const char *what, const cJSON *got, const cJSON *want)
{
    const cJSON *gd = cJSON_GetObjectItem(got, "data");
    CHECK(cJSON_GetArraySize(gd) == cJSON_GetArraySize(want), "%s %s: %d entries, want %d", name, what,
          cJSON_GetArraySize(gd), cJSON_GetArraySize(want));
    int i = 0, bad = 0;
    for (const cJSON *g = gd->child, *w = want->child; g && w; g = g->next, w = w->next, i++) {
        double a = g->valuedouble, b = w->valuedouble, rel = fabs(a - b) / fabs(b);
        if (!(rel <= worst[scale_index])) worst[scale_index] = isnan(rel) ? INFINITY : rel;
        if (!(rel <= TOL) && !bad) {
            bad = 1;
            fprintf(stderr, "  %s %s[%d]: got %.17g want %.17g (rel %.3g)\n", name, what, i, a, b, rel);
        }
    }
    CHECK(!bad, "%s %s within %g", name, what, TOL);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "tests/data/erf_golden.json";
    char *text = slurp(path);
    CHECK(text != NULL, "read %s", path);
    if (!text) return check_summary("kernel_erf");
    cJSON *root = cJSON_Parse(text);
    int ncase = 0;
    for (const cJSON *c = cJSON_GetObjectItem(root, "cases")->child; c; c = c->next, ncase++) {
        const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
        int si = (int)lround(log10(cJSON_GetObjectItem(c, "scale")->valuedouble)) + 3;
        if (si < 0 || si > 11) si = 0;
        for (int gram = 0; gram < 2; gram++) {
            cJSON *req = cJSON_CreateObject();
            cJSON_AddItemToObject(req, "model", cJSON_Duplicate(cJSON_GetObjectItem(c, "model"), 1));
            cJSON_AddItemToObject(req, "x1", cJSON_Duplicate(cJSON_GetObjectItem(c, "x1"), 1));
            if (!gram) cJSON_AddItemToObject(req, "x2", cJSON_Duplicate(cJSON_GetObjectItem(c, "x2"), 1));
            dml_error err = {0};
            cJSON *resp = dml_kernel_request(req, NULL, 2, &err);
            CHECK(resp != NULL, "%s %s: %s (%s)", name, gram ? "Gram" : "cross", err.message, err.field);
            if (resp) {
                compare(name, si, gram ? "nngp_11" : "nngp_12", cJSON_GetObjectItem(resp, "nngp"),
                        cJSON_GetObjectItem(c, gram ? "nngp_11" : "nngp_12"));
                compare(name, si, gram ? "ntk_11" : "ntk_12", cJSON_GetObjectItem(resp, "ntk"),
                        cJSON_GetObjectItem(c, gram ? "ntk_11" : "ntk_12"));
            } else {
                worst[si] = INFINITY;
            }
            cJSON_Delete(resp);
            cJSON_Delete(req);
        }
    }
    printf("erf kernels against mpmath (%s duals), worst relative error per input scale:\n",
           getenv("DMILAB_SIMD") ? getenv("DMILAB_SIMD") : "default");
    for (int s = 0; s < 12; s++) printf("  1e%-3d %.3g\n", s - 3, worst[s]);
    CHECK(ncase == 36, "expected 36 cases (3 models x 12 scales), found %d", ncase);
    cJSON_Delete(root);
    free(text);
    return check_summary("kernel_erf");
}
