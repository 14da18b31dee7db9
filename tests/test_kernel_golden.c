/* Every case of the golden kernels (tests/data/kernels.json, from an independent implementation checked
 * against Monte Carlo): cross entries K(x1, x2) and Gram entries K(x1, x1), self pairs included, through
 * the `dmilab kernel` request path, at 1e-10 relative (DESIGN 2.1). */
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "dmilab/kernel.h"
#include "check.h"

static double worst;

static void compare(const char *name, const char *what, const cJSON *got, const cJSON *want)
{
    const cJSON *gd = cJSON_GetObjectItem(got, "data"), *wd = cJSON_GetObjectItem(want, "data");
    CHECK(cJSON_GetArraySize(gd) == cJSON_GetArraySize(wd), "%s %s: %d entries, want %d", name, what,
          cJSON_GetArraySize(gd), cJSON_GetArraySize(wd));
    const cJSON *g = gd->child, *w = wd->child;
    int i = 0, bad = 0;
    for (; g && w; g = g->next, w = w->next, i++) {
        double a = g->valuedouble, b = w->valuedouble;
        double rel = fabs(a - b) / (fabs(b) > 1e-300 ? fabs(b) : 1e-300);
        if (rel > worst) worst = rel;
        if (!close_rel(a, b, 1e-10) && !bad) {
            bad = 1;
            fprintf(stderr, "  %s %s[%d]: got %.17g want %.17g (rel %.3g)\n", name, what, i, a, b, rel);
        }
    }
    CHECK(!bad, "%s %s within 1e-10", name, what);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "tests/data/kernels.json";
    char *text = slurp(path);
    CHECK(text != NULL, "read %s", path);
    if (!text) return check_summary("kernel_golden");
    cJSON *root = cJSON_Parse(text);
    const cJSON *cases = cJSON_GetObjectItem(root, "cases");
    int ncase = 0;
    for (const cJSON *c = cases->child; c; c = c->next, ncase++) {
        const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
        for (int gram = 0; gram < 2; gram++) {
            cJSON *req = cJSON_CreateObject();
            cJSON_AddItemToObject(req, "model", cJSON_Duplicate(cJSON_GetObjectItem(c, "model"), 1));
            cJSON_AddItemToObject(req, "x1", cJSON_Duplicate(cJSON_GetObjectItem(c, "x1"), 1));
            if (!gram) cJSON_AddItemToObject(req, "x2", cJSON_Duplicate(cJSON_GetObjectItem(c, "x2"), 1));
            dml_error err = {0};
            cJSON *resp = dml_kernel_request(req, NULL, 2, &err);
            CHECK(resp != NULL, "%s: %s (%s)", name, err.message, err.field);
            if (resp) {
                compare(name, gram ? "nngp_11" : "nngp_12", cJSON_GetObjectItem(resp, "nngp"),
                        cJSON_GetObjectItem(c, gram ? "nngp_11" : "nngp_12"));
                compare(name, gram ? "ntk_11" : "ntk_12", cJSON_GetObjectItem(resp, "ntk"),
                        cJSON_GetObjectItem(c, gram ? "ntk_11" : "ntk_12"));
            }
            cJSON_Delete(resp);
            cJSON_Delete(req);
        }
    }
    printf("golden kernels: %d cases, worst relative error %.3g\n", ncase, worst);
    CHECK(ncase >= 9, "expected at least 9 golden cases, found %d", ncase);
    cJSON_Delete(root);
    free(text);
    return check_summary("kernel_golden");
}
