/* dmilab: failing checks, one line each. See checks_report.h. */
#include "checks_report.h"

#include "dmilab/results.h"

static void num_text(char *buf, size_t cap, const cJSON *v)
{
    if (cJSON_IsNumber(v))
        dml_format_double(buf, cap, v->valuedouble);
    else
        snprintf(buf, cap, "none");
}

int checks_report(FILE *f, const char *prog, const cJSON *checks)
{
    int n = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(checks, "checks"))
    {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "passed")))
            continue;
        const cJSON *au = cJSON_GetObjectItemCaseSensitive(c, "audit");
        if (cJSON_IsObject(au)) {
            const cJSON *arm = cJSON_GetObjectItemCaseSensitive(au, "arm"), *g = cJSON_GetObjectItemCaseSensitive(au, "group");
            const cJSON *act = cJSON_GetObjectItemCaseSensitive(c, "actual");
            fprintf(f, "%s: check failed: %s invariant under %s: actual %s, expected %s\n", prog,
                    cJSON_IsString(arm) ? arm->valuestring : "?", cJSON_IsString(g) ? g->valuestring : "?",
                    cJSON_IsBool(act) ? (cJSON_IsTrue(act) ? "true" : "false") : "not measured",
                    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "value")) ? "true" : "false");
            n++;
            continue;
        }
        const cJSON *arm = cJSON_GetObjectItemCaseSensitive(c, "arm"), *metric = cJSON_GetObjectItemCaseSensitive(c, "metric");
        const cJSON *op = cJSON_GetObjectItemCaseSensitive(c, "op"), *than = cJSON_GetObjectItemCaseSensitive(c, "than_arm");
        const cJSON *nt = cJSON_GetObjectItemCaseSensitive(c, "n_train"), *tol = cJSON_GetObjectItemCaseSensitive(c, "tolerance");
        char actual[40], value[40], tolerance[40];
        num_text(actual, sizeof actual, cJSON_GetObjectItemCaseSensitive(c, "actual"));
        num_text(value, sizeof value, cJSON_GetObjectItemCaseSensitive(c, "value"));
        num_text(tolerance, sizeof tolerance, tol);
        fprintf(f, "%s: check failed: %s %s at n_train %.0f: actual %s, expected %s %s%s%s%s%s%s%s\n", prog,
                cJSON_IsString(arm) ? arm->valuestring : "?", cJSON_IsString(metric) ? metric->valuestring : "?",
                cJSON_IsNumber(nt) ? nt->valuedouble : 0.0, actual, cJSON_IsString(op) ? op->valuestring : "?", value,
                cJSON_IsString(than) ? " (" : "", cJSON_IsString(than) ? than->valuestring : "", cJSON_IsString(than) ? ")" : "",
                tol ? " (tolerance " : "", tol ? tolerance : "", tol ? ")" : "");
        n++;
    }
    return n;
}
