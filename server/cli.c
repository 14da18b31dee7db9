/* dmilab: `dmilab kernel` and `dmilab run`, the learning core from the command line. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "dmilab/admission.h"
#include "dmilab/checks.h"
#include "dmilab/data.h"
#include "dmilab/experiment.h"
#include "dmilab/json.h"
#include "dmilab/kernel.h"
#include "dmilab/results.h"
#include "dmilab/spec.h"
#include "api_error.h"
#include "checks_report.h"
#include "points.h"
#include "provenance.h"
#include "reply.h"
#include "spectra.h"
#include "config.h"
#include "util.h"

/* {"error": {"code", "message", "field"}} on stderr. */
static void print_error(const char *code, const char *message, const char *field)
{
    char *text = error_text(code, message, field);
    fprintf(stderr, "%s\n", text ? text : "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}");
    free(text);
}

/* A failed run, as a failed experiment's error_detail has it: the core's code, message and field. */
static void print_dml_error(const dml_error *err)
{
    print_error(dml_code_name(err->code), err->message, err->field);
}

/* A failed kernel request, as POST /api/v1/kernels answers it (api_error_of). */
static void print_api_error(const dml_error *err)
{
    print_error(api_error_of(err->code).code, err->message, err->field);
}

/* Parse "--threads N" / "--data-root DIR" style options; positional arguments are left in pos[]. */
static int parse_opts(int argc, char **argv, int *threads, char *data_root, size_t dr_len, char **pos, int *npos,
                      int maxpos, const char *cmd)
{
    *npos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--threads") == 0 && i + 1 < argc) {
            *threads = atoi(argv[++i]);
            if (*threads < 1) {
                fprintf(stderr, "dmilab %s: --threads needs a positive integer\n", cmd);
                return -1;
            }
        } else if (data_root && strcmp(a, "--data-root") == 0 && i + 1 < argc) {
            snprintf(data_root, dr_len, "%s", argv[++i]);
        } else if (strncmp(a, "--", 2) == 0 || *npos >= maxpos) {
            fprintf(stderr, "dmilab %s: unexpected argument '%s'\n", cmd, a);
            return -1;
        } else {
            pos[(*npos)++] = argv[i];
        }
    }
    return 0;
}

/* Read a positive integer option value; -1 when malformed. */
static long positive(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    return (*s && !*end && v > 0 && v <= 1000000) ? v : -1;
}

int cmd_kernel(int argc, char **argv)
{
    int threads = util_ncpu(), npos;
    char *pos[1];
    /* --empirical [--width W] [--samples S] [--outputs K] [--seed N]: Monte Carlo kernels of finite networks */
    dml_empirical_opts emp = DML_EMPIRICAL_DEFAULTS;
    int empirical = 0;
    char *rest[64];
    int nrest = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        long *dst = NULL, v;
        if (strcmp(a, "--empirical") == 0) {
            empirical = 1;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("usage: dmilab kernel [--threads N] [--empirical [--width W] [--samples S] [--outputs K] [--seed N]] "
                   "< REQUEST.json\n\n"
                   "Reads {\"model\": {...}, \"x1\": {\"shape\": [n1, ...spatial, C], \"data\": [...]}, \"x2\": {...}} (x2\n"
                   "optional: the Gram matrix of x1) on standard input and prints {\"nngp\": {\"shape\": [n1, n2],\n"
                   "\"data\": [...]}, \"ntk\": {...}} with 17 significant digits: the infinite-width kernels (Neural\n"
                   "Tangents conventions, parameterization ntk). With --empirical: the Monte Carlo NNGP and the\n"
                   "empirical NTK of S random finite networks of width W (default 512, 8 samples, 1 output, seed 0),\n"
                   "each matrix with its Monte Carlo \"standard_error\" beside \"data\" (S >= 2).\n"
                   "Errors go to standard error as {\"error\": {...}} with exit status 2. See docs/kernels.md.\n");
            return 0;
        }
        if ((strcmp(a, "--width") == 0 || strcmp(a, "--samples") == 0 || strcmp(a, "--outputs") == 0 ||
             strcmp(a, "--seed") == 0)) {
            if (i + 1 >= argc || (v = positive(argv[i + 1])) < 0) {
                if (!(strcmp(a, "--seed") == 0 && i + 1 < argc && strcmp(argv[i + 1], "0") == 0)) {
                    fprintf(stderr, "dmilab kernel: %s needs a positive integer\n", a);
                    return 2;
                }
                v = 0;
            }
            i++;
            if (strcmp(a, "--width") == 0) emp.width = (int)v;
            else if (strcmp(a, "--samples") == 0) emp.samples = (int)v;
            else if (strcmp(a, "--outputs") == 0) emp.outputs = (int)v;
            else emp.seed = (uint64_t)v;
            (void)dst;
            continue;
        }
        if (nrest < 64) rest[nrest++] = argv[i];
    }
    if (parse_opts(nrest, rest, &threads, NULL, 0, pos, &npos, 0, "kernel") != 0)
        return 2;
    size_t len;
    char *text = util_read_stream(stdin, &len);
    if (!text) {
        print_error("internal", "cannot read standard input", NULL);
        return 2;
    }
    dml_error err;
    dml_error_clear(&err);
    cJSON *req = NULL;
    int bad = dml_json_parse(text, len, &req, &err);
    free(text);
    if (bad) {
        print_api_error(&err);
        return 2;
    }
    char *out = dml_kernel_request_text(req, NULL, threads, empirical ? &emp : NULL, &err);
    cJSON_Delete(req);
    if (!out) {
        print_api_error(&err);
        return 2;
    }
    size_t n = strlen(out);
    int ok = fputs(out, stdout) >= 0 && (n > 0 && out[n - 1] == '\n' ? 1 : putchar('\n') != EOF) && fflush(stdout) == 0;
    free(out);
    return ok ? 0 : 2;
}

typedef struct {
    const dml_spec *spec;
    point_list points;
    spectrum_list spectra;   /* the kernel arms' spectral readouts, when the spec asks for them */
    int show_progress;
    /* the data files read (copies: the runner's strings live during on_data only), for the provenance */
    char (*file_path)[DML_DATA_PATH_MAX], (*file_sha)[DML_DATA_SHA256_HEX];
    int nfiles;
    dml_audit_entry *audit;   /* the audit cells measured, in the order measured (the grid's) */
    size_t naudit, audit_cap;
    kernel_list kernels;      /* each unit's kernel and whether the kernel cache held it */
} run_ctx;

static void run_on_kernel(void *p, const dml_kernel_info *k)
{
    kernel_list_add(&((run_ctx *)p)->kernels, k);
}

static int run_on_audit(void *p, const dml_audit_entry *e)
{
    run_ctx *c = p;
    if (c->naudit == c->audit_cap) {
        size_t cap = c->audit_cap ? 2 * c->audit_cap : 16;
        dml_audit_entry *v = realloc(c->audit, cap * sizeof *v);
        if (!v)
            return -1;
        c->audit = v;
        c->audit_cap = cap;
    }
    c->audit[c->naudit++] = *e;
    return 0;
}

static int run_on_data(void *p, const dml_data_file *files, int n, dml_error *err)
{
    run_ctx *c = p;
    free(c->file_path);
    free(c->file_sha);
    c->nfiles = 0;
    c->file_path = calloc((size_t)n + 1, sizeof *c->file_path);
    c->file_sha = calloc((size_t)n + 1, sizeof *c->file_sha);
    if (!c->file_path || !c->file_sha)
        return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
    for (int i = 0; i < n; i++) {
        snprintf(c->file_path[i], sizeof c->file_path[i], "%s", files[i].path);
        snprintf(c->file_sha[i], sizeof c->file_sha[i], "%s", files[i].sha256);
    }
    c->nfiles = n;
    return 0;
}

static int run_on_point(void *p, const dml_point *pt)
{
    run_ctx *c = p;
    return point_list_add(&c->points, pt, points_arm_index(c->spec, pt));
}

static int run_on_spectrum(void *p, const dml_arm_spectrum *a)
{
    run_ctx *c = p;
    return spectrum_list_add(&c->spectra, a, spectrum_arm_index(c->spec, a), 1);
}

static void run_on_progress(void *p, double fraction)
{
    run_ctx *c = p;
    if (c->show_progress)
        fprintf(stderr, "\rdmilab run: %5.1f%%", 100 * fraction);
}

#define RUN_USAGE "dmilab run [--data-root DIR] [--threads N] [--tile-dir DIR] [--cache-bytes N] [--max-* N] SPEC.json   (- reads " \
                  "standard input)"

/* mkdir -p: 0 when `dir` is a directory now. */
static int make_dirs(const char *dir)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s", dir);
    for (char *c = p + 1; *c; c++)
        if (*c == '/') {
            *c = 0;
            if (mkdir(p, 0755) && errno != EEXIST) return -1;
            *c = '/';
        }
    struct stat sb;
    return (mkdir(p, 0755) == 0 || errno == EEXIST) && stat(p, &sb) == 0 && S_ISDIR(sb.st_mode) ? 0 : -1;
}

/* The kernel cache of `dmilab run`: $XDG_CACHE_HOME/dmilab/tiles, else $HOME/.cache/dmilab/tiles (the XDG base
 * directory default); "" when neither names an absolute directory (the run then uses a temporary one). */
static void default_tile_dir(char *out, size_t cap)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && xdg[0] == '/')
        snprintf(out, cap, "%s/dmilab/tiles", xdg);
    else if (home && home[0] == '/')
        snprintf(out, cap, "%s/.cache/dmilab/tiles", home);
    else
        out[0] = 0;
}

int cmd_run(int argc, char **argv)
{
    int threads = util_ncpu(), npos;
    char *pos[1], *rest[64], tile_dir[PATH_MAX];
    int nrest = 0;
    serve_config defaults;   /* the limits of a default `dmilab serve`, then DMILAB_MAX_* and --max-* */
    config_defaults(&defaults);
    double cache_bytes = (double)defaults.cache_bytes;
    default_tile_dir(tile_dir, sizeof tile_dir);
    char **args = malloc(sizeof *args * (size_t)(argc > 0 ? argc : 1));
    int nargs = 0;
    if (!args || config_parse_limits(&defaults, argc, argv, args, &nargs, "run") != 0) {
        free(args);
        return 2;
    }
    if (nargs > 64) {
        fprintf(stderr, "dmilab run: too many arguments (see --help)\n");
        free(args);
        return 2;
    }
    argc = nargs;
    memcpy(rest, args, sizeof *args * (size_t)argc);
    free(args);
    argv = rest;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--tile-dir") == 0) {
            if (i + 1 >= argc || !argv[i + 1][0]) {
                fprintf(stderr, "dmilab run: --tile-dir needs a directory\n");
                return 2;
            }
            snprintf(tile_dir, sizeof tile_dir, "%s", argv[++i]);
        } else if (strcmp(argv[i], "--cache-bytes") == 0) {
            char *end = NULL;
            errno = 0;
            long long b = i + 1 < argc ? strtoll(argv[i + 1], &end, 10) : -1;
            if (i + 1 >= argc || errno || end == argv[i + 1] || *end || b < 0 || b > (1LL << 50)) {
                fprintf(stderr, "dmilab run: --cache-bytes needs an integer number of bytes in [0, 2^50]\n");
                return 2;
            }
            cache_bytes = (double)b;
            i++;
        } else {
            rest[nrest++] = argv[i];   /* in place: nrest <= i */
        }
    }
    argc = nrest;
    argv = rest;
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: %s\n\n"
                   "Runs one experiment spec (docs/spec.md) in this process, without a server or database, with a\n"
                   "progress line on standard error, and prints its results JSON (points, curves, audit, checks,\n"
                   "resolved_spec, version, provenance, and with a spectrum its \"spectra\" as GET .../spectrum serves\n"
                   "them) on standard output; each failing check is also named on\n"
                   "standard error. Exit status: 0 when every check passes (or there are none), 1 when a check\n"
                   "fails, 2 when the spec is invalid or the experiment fails (the error as JSON on standard error).\n\n"
                   "Kernels are computed in tiles kept in the kernel cache (docs/tiles.md): a later run that needs the\n"
                   "same kernel (another ridge, other checks, another kernel method) reads them and runs only its\n"
                   "solves, and a run killed midway resumes from its finished tiles. The provenance says, per kernel,\n"
                   "whether the cache held it (\"kernel_cache\": hit, partial or miss).\n"
                   "  --tile-dir DIR      the cache's directory (default $XDG_CACHE_HOME/dmilab/tiles, or\n"
                   "                      ~/.cache/dmilab/tiles; created; shared safely by runs and servers at once)\n"
                   "  --cache-bytes N     bytes of finished kernels kept there, least recently used evicted first\n"
                   "                      (default 2147483648, as dmilab serve; 0 keeps none after their run)\n"
                   "  --max-memory N, --max-n-train N, ... every limit of `dmilab serve --help` (--max-*), with its\n"
                   "                      DMILAB_* variable and default: a spec above one is refused (exit status 2)\n",
                   RUN_USAGE);
            return 0;
        }
    if (parse_opts(argc, argv, &threads, defaults.data_root, sizeof defaults.data_root, pos, &npos, 1, "run") != 0)
        return 2;
    defaults.limits.threads = threads;
    if (npos != 1) {
        fprintf(stderr, "usage: %s\n", RUN_USAGE);
        return 2;
    }
    size_t len;
    char *text = strcmp(pos[0], "-") == 0 ? util_read_stream(stdin, &len) : util_read_file(pos[0], &len);
    if (!text) {
        char msg[1200];
        snprintf(msg, sizeof msg, "cannot read %s", pos[0]);
        print_error("invalid_spec", msg, NULL);
        return 2;
    }
    dml_spec spec;
    dml_error err;
    memset(&spec, 0, sizeof spec);
    dml_error_clear(&err);
    int rc = dml_spec_parse(text, len, defaults.data_root, &spec, &err);
    free(text);
    if (rc == 0 && (rc = dml_spec_admit(&spec, &defaults.limits, &err)) != 0)
        dml_spec_free(&spec);
    if (rc != 0) {
        char hint[160];
        config_limit_hint(&defaults, err.limit, hint, sizeof hint);
        if (hint[0] && strlen(err.message) + strlen(hint) < sizeof err.message) strcat(err.message, hint);
        print_dml_error(&err);
        return 2;
    }
    if (tile_dir[0] && make_dirs(tile_dir)) {
        char msg[PATH_MAX + 100];
        snprintf(msg, sizeof msg, "cannot create the kernel cache directory %s: %s", tile_dir, strerror(errno));
        dml_spec_free(&spec);
        print_error("io_error", msg, NULL);
        return 2;
    }
    run_ctx ctx = {.spec = &spec, .points = {0}, .show_progress = isatty(STDERR_FILENO)};
    dml_run_hooks h = {.ctx = &ctx, .on_point = run_on_point, .on_spectrum = run_on_spectrum, .on_audit = run_on_audit,
                       .on_data = run_on_data, .on_progress = run_on_progress, .on_kernel = run_on_kernel,
                       .threads = threads, .tile_dir = tile_dir[0] ? tile_dir : NULL, .cache_bytes = cache_bytes};
    rc = dml_experiment_run(&spec, &h, &err);
    if (ctx.show_progress)
        fputc('\n', stderr);
    if (rc != 0) {
        dml_spec_free(&spec);
        free(ctx.audit);
        point_list_free(&ctx.points);
        spectrum_list_free(&ctx.spectra);
        free(ctx.file_path);
        free(ctx.file_sha);
        kernel_list_free(&ctx.kernels);
        print_dml_error(&err);
        return 2;
    }
    point_list_sort(&ctx.points);
    dml_point dummy, *arr = point_list_array(&ctx.points);
    size_t n = ctx.points.n;
    /* what the API's experiment and results carry: results, checks, resolved_spec, version, provenance */
    cJSON *res = dml_results_json("run", arr ? arr : &dummy, n);
    /* the spectral readout, as GET .../spectrum serves it, and its predicted curves beside the measured ones */
    cJSON *spectra = NULL;
    if (spec.spectrum_n) {
        spectrum_list_sort(&ctx.spectra);
        dml_arm_spectrum sdummy, *sa = spectrum_list_array(&ctx.spectra);
        spectra = dml_spectra_json(sa ? sa : &sdummy, ctx.spectra.n, SPECTRUM_POINTS);
        if (sa && res)
            dml_curves_add_predicted(cJSON_GetObjectItemCaseSensitive(res, "curves"), sa, ctx.spectra.n);
        free(sa);
    }
    spectrum_list_free(&ctx.spectra);
    int passed = 0;
    cJSON *checks = dml_checks_json("run", &spec, arr ? arr : &dummy, n, ctx.audit, ctx.naudit, DML_CHECKS_FINAL,
                                    &passed);
    cJSON *audit = dml_audit_json("run", ctx.audit, ctx.naudit);
    free(ctx.audit);
    cJSON *resolved = dml_spec_resolved_json(&spec);
    dml_data_file *files = calloc((size_t)ctx.nfiles + 1, sizeof *files);
    for (int i = 0; files && i < ctx.nfiles; i++)
        files[i] = (dml_data_file){ctx.file_path[i], ctx.file_sha[i]};
    cJSON *prov = files ? provenance_json(threads, 1, util_version_text(), files, ctx.nfiles) : NULL;
    if (prov && provenance_add_kernels(prov, &ctx.kernels)) {
        cJSON_Delete(prov);
        prov = NULL;
    }
    kernel_list_free(&ctx.kernels);
    free(files);
    free(ctx.file_path);
    free(ctx.file_sha);
    free(arr);
    point_list_free(&ctx.points);   /* after use: the array borrows the list's training curves */
    dml_spec_free(&spec);
    char *out = NULL;
    if (res && checks && resolved && prov && audit) {
        cJSON_AddItemToObject(res, "audit", cJSON_DetachItemFromObjectCaseSensitive(audit, "audit"));
        cJSON_Delete(audit);
        if (spectra)
            cJSON_AddItemToObject(res, "spectra", spectra);
        cJSON_AddItemToObject(res, "checks", checks);
        cJSON_AddItemToObject(res, "resolved_spec", resolved);
        cJSON_AddStringToObject(res, "version", util_version_text());
        cJSON_AddItemToObject(res, "provenance", prov);
        checks_report(stderr, "dmilab run", checks);
        out = dml_json_print(res);
    } else {
        cJSON_Delete(audit);
        cJSON_Delete(spectra);
        cJSON_Delete(checks);
        cJSON_Delete(resolved);
        cJSON_Delete(prov);
    }
    cJSON_Delete(res);
    if (!out) {
        print_error("internal", "out of memory", NULL);
        return 2;
    }
    int ok = puts(out) >= 0 && fflush(stdout) == 0;
    free(out);
    if (!ok)
        return 2;
    return passed ? 0 : 1;   /* 1: a check failed */
}
