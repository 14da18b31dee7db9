/* Fuzzer of the spec parser (dml_spec_parse, with the Debian data root) and what the server does with a parsed
 * spec: admission with the default limits, the resolved spec, the grid size, the dry-run cost and the checks
 * with no points. Built with AddressSanitizer and UBSan over the core sources (tests/meson.build). Seeds: the
 * .json files of the seed directories plus built-in specs. Invariants: a failure names a code and a message (and
 * a limit error its limit); an accepted spec's resolved JSON parses again to the same resolved JSON.
 * usage: fuzz_spec SECONDS [SEED_DIR...]   (FUZZ_SEED=N changes the random sequence)
 * A crash or a broken invariant writes the input to fuzz-spec-crash.json in the working directory. */

#include "dmilab/admission.h"
#include "dmilab/checks.h"
#include "dmilab/cost.h"
#include "dmilab/json.h"
#include "dmilab/spec.h"
#include "fuzz_common.h"

static const char *const builtin[] = {
    "{\"data\": {\"source\": \"fashion-mnist\", \"n_train\": [10, 20], \"n_test\": 10}, \"models\": {\"arch\": \"fcn\"},"
    " \"inference\": {\"method\": \"ntk\"}}",
    "{\"name\": \"x\", \"seed\": 3, \"repeats\": 2, \"data\": [{\"name\": \"a\", \"source\": \"fashion-mnist\", \"resize\": 7,"
    " \"n_train\": [5], \"n_test\": 5, \"subset\": \"head\", \"classes\": 3, \"transform\": [{\"kind\": \"permutation\", \"seed\": 7}]}],"
    " \"models\": [{\"arch\": \"cnn-gap\", \"filter\": [3, 3], \"padding\": \"circular\", \"stride\": 1, \"depth\": 1},"
    " {\"arch\": \"lcn\", \"filter\": 2}, {\"arch\": \"cnn-vec\", \"activation\": \"erf\"}],"
    " \"inference\": [{\"method\": \"nngp\", \"ridge\": 0.01}, {\"name\": \"k\", \"method\": \"ntk\"}],"
    " \"checks\": [{\"arm\": \"a/cnn-gap/ntk\", \"metric\": \"test_accuracy\", \"op\": \">=\", \"value\": 0.5},"
    " {\"arm\": \"a/lcn/nngp\", \"metric\": \"test_mse\", \"op\": \"==\", \"value\": 1, \"tolerance\": 0.1, \"n_train\": 5},"
    " {\"arm\": \"a/lcn/nngp\", \"metric\": \"train_mse\", \"op\": \"<\", \"than_arm\": \"a/cnn-gap/ntk\"}]}",
    /* \u0000 in a string (rejected naming the field) and an escaped backslash before u0000 (accepted) */
    "{\"name\": \"nul\\u0000byte\", \"data\": {\"source\": \"fashion-mnist\", \"n_train\": 10, \"n_test\": 10},"
    " \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}",
    "{\"name\": \"not nul \\\\u0000\", \"tags\": [\"ci\", \"v1.2\"], \"data\": {\"source\": \"fashion-mnist\","
    " \"n_train\": 10, \"n_test\": 10}, \"models\": [{\"arch\": \"fcn\"}, {\"arch\": \"fcn\", \"parameterization\": \"standard\"}],"
    " \"inference\": [{\"method\": \"sgd\"}, {\"method\": \"adam\", \"lr\": {\"ntk\": 0.01}}]}",
    "{\"data\": {\"source\": \"fashion-mnist\", \"path\": \"/usr/share/datasets/fashion-mnist\\u0000/../../../etc\","
    " \"n_train\": 10, \"n_test\": 10}, \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}",
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: fuzz_spec SECONDS [SEED_DIR...]\n");
        return 2;
    }
    double seconds = atof(argv[1]);
    if (getenv("FUZZ_SEED"))
        fz_state = strtoull(getenv("FUZZ_SEED"), NULL, 10) * 0x9e3779b97f4a7c15ull + 1;
    fz_watch("fuzz_spec", "fuzz-spec-crash.json");
    fz_corpus c = {0};
    for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
        fz_add(&c, builtin[i], strlen(builtin[i]));
    int from_dirs = 0;
    for (int i = 2; i < argc; i++)
        from_dirs += fz_add_dir(&c, argv[i]);
    /* the limits of a default server (server/config.c), on 2 threads */
    const dml_limits lim = {.max_points = 10000, .max_n_train = 60000, .max_n_test = 10000, .max_repeats = 100,
                            .max_depth = 30, .max_width = 16384, .max_memory_bytes = (size_t)16 << 30,
                            .max_experiment_seconds = 7 * 24 * 3600, .threads = 2};
    const char *root = "/usr/share/datasets";
    double t0 = fz_now();
    long runs = 0, accepted = 0, codes[16] = {0};
    size_t seeds = c.n;
    while (fz_now() - t0 < seconds) {
        for (int inner = 0; inner < 64; inner++) {
            char *buf;
            size_t len;
            fz_next(&c, runs, seeds, &buf, &len, 1 << 16);
            fz_current = buf;
            fz_current_len = len;
            dml_spec s;
            dml_error err;
            dml_error_clear(&err);
            int rc = dml_spec_parse(buf, len, root, &s, &err);
            if (rc == 0 && (rc = dml_spec_admit(&s, &lim, &err)) != 0)
                dml_spec_free(&s);
            runs++;
            if (rc != 0) {
                if (err.code == DML_OK || !err.message[0]) {
                    fz_save("a rejected spec without an error code or message");
                    return 1;
                }
                if ((err.code == DML_ERR_LIMIT) != (err.limit != 0)) {
                    fz_save("a limit error without its limit id, or a limit id on another error");
                    return 1;
                }
                codes[err.code & 15]++;
            } else {
                accepted++;
                cJSON *res = dml_spec_resolved_json(&s);
                char *text = res ? dml_json_print(res) : NULL;
                (void)dml_spec_points(&s);
                cJSON *cost = dml_spec_cost_json(&s, 2);
                int passed;
                cJSON *ck = dml_checks_json("fuzz", &s, NULL, 0, NULL, 0, (dml_checks_state)(accepted % 4), &passed);
                char *junit = dml_checks_junit("fuzz", &s, NULL, 0, NULL, 0, (dml_checks_state)(accepted % 4),
                                               "an <error> & \"message\"\n");
                dml_spec s2;
                dml_error e2;
                dml_error_clear(&e2);
                int rc2 = text ? dml_spec_parse(text, strlen(text), root, &s2, &e2) : -1;
                if (rc2 != 0) {
                    fz_save("the resolved spec of an accepted spec does not parse again");
                    fprintf(stderr, "resolved: %s\nerror: %s at %s\n", text ? text : "(null)", e2.message, e2.field);
                    return 1;
                }
                cJSON *res2 = dml_spec_resolved_json(&s2);
                char *text2 = res2 ? dml_json_print(res2) : NULL;
                if (!text2 || strcmp(text, text2) != 0) {
                    fz_save("resolving the resolved spec changes it");
                    fprintf(stderr, "first:  %s\nsecond: %s\n", text, text2 ? text2 : "(null)");
                    return 1;
                }
                /* an accepted input that differs from every seed joins the corpus (coverage-blind growth) */
                if (c.n < 4096 && fz_below(8) == 0)
                    fz_add(&c, buf, len);
                free(text2);
                cJSON_Delete(res2);
                dml_spec_free(&s2);
                free(junit);
                cJSON_Delete(ck);
                cJSON_Delete(cost);
                free(text);
                cJSON_Delete(res);
                dml_spec_free(&s);
            }
            free(buf);
        }
    }
    printf("fuzz_spec: %ld inputs in %.1f s (%zu seeds, %d from files), %ld accepted; rejected: %ld invalid_json, "
           "%ld invalid_spec, %ld limit_exceeded; corpus %zu\n",
           runs, fz_now() - t0, seeds, from_dirs, accepted, codes[DML_ERR_INVALID_JSON], codes[DML_ERR_INVALID_SPEC],
           codes[DML_ERR_LIMIT], c.n);
    fflush(stdout);
    for (size_t i = 0; i < c.n; i++)
        free(c.v[i].data);
    free(c.v);
    return 0;
}
