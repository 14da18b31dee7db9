/* dmilab server: computing one shard. See shard_exec.h. */
#include "shard_exec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmilab/experiment.h"
#include "dmilab/spec.h"
#include "spectra.h"

typedef struct {
    const shard_job *job;
    const dml_spec *spec;
    int d, m, i, rep;    /* the unit (i = -1: every kernel method) */
    size_t n_train;      /* "train": the one size */
    int kind;            /* K_KERNEL, ... */
    size_t ngram;        /* "tile": Gram tiles of the unit's tiling (tile numbers count them first) */
    size_t found;        /* "tile": tiles found in tile_dir (a cache), not skipped */
    int tile_stop;       /* "tile": reporting a tile failed: stop */
    char key[DML_SHA256_HEX];
    const char *cache;   /* the unit's kernel_cache as the runner found it */
    size_t unit_tiles, unit_stored;
    int (*stop)(void *ctx);
    void (*on_tiles)(void *ctx, double fraction, double eta_seconds);
    void *ctx;
    size_t tiles, tiles_seen;   /* of the kernel unit in flight */
    double pairs, pairs_seen;   /* "tile": kernel entries of its range, and of its tiles done (its fraction) */
    point_list *out;
    spectrum_list *spectra;
    audit_list *audits;
    cJSON *files;
    int store_failed;
} exec_ctx;

enum { K_KERNEL, K_TILE, K_SOLVE, K_TRAIN, K_AUDIT };

static int unit_int(const cJSON *u, const char *k, int lo, int hi)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(u, k);
    return cJSON_IsNumber(v) && v->valuedouble >= lo && v->valuedouble < hi ? (int)v->valuedouble : -1;
}

/* Whether (arm, n_train, repeat) belongs to this shard. */
static int in_shard(const exec_ctx *c, const char *arm, size_t n_train, int repeat)
{
    if (repeat != c->rep || c->kind == K_AUDIT)
        return 0;
    const dml_spec *s = c->spec;
    for (int i = 0; i < s->ninference; i++) {
        if (c->i >= 0 ? i != c->i : !dml_method_is_kernel(s->inference[i].method))
            continue;
        char name[DML_ARM_MAX];
        snprintf(name, sizeof name, "%s/%s/%s", s->data[c->d].name, s->models[c->m].name, s->inference[i].name);
        if (strcmp(name, arm) == 0)
            return c->i < 0 || n_train == c->n_train;
    }
    return 0;
}

static int hook_have(void *p, const char *arm, size_t n_train, int repeat)
{
    return !in_shard(p, arm, n_train, repeat);   /* every other point counts as stored: the runner skips it */
}

/* The spectral readout (docs/spectrum.md) is computed by the runner in the kernel unit of repeat 0: a kernel shard
 * computes it for its own arms, every other shard skips it. */
static int hook_have_spectrum(void *p, const char *arm)
{
    exec_ctx *c = p;
    return (c->kind != K_KERNEL && c->kind != K_SOLVE) || !in_shard(c, arm, 0, c->rep);
}

static int hook_spectrum(void *p, const dml_arm_spectrum *a)
{
    exec_ctx *c = p;
    if (spectrum_list_add(c->spectra, a, spectrum_arm_index(c->spec, a), 1) != 0) {
        c->store_failed = 1;
        return 1;
    }
    return 0;
}

/* The audit (docs/audit.md): an audit shard measures the cells of its one arm (data, model, inference) on repeat 0's
 * data, under every group (the cells of an arm share its fits: dml_audit_arm); every other shard skips them. */
static int hook_have_audit(void *p, const char *arm, const char *group)
{
    (void)group;
    exec_ctx *c = p;
    if (c->kind != K_AUDIT)
        return 1;
    char name[DML_ARM_MAX];
    const dml_spec *s = c->spec;
    snprintf(name, sizeof name, "%s/%s/%s", s->data[c->d].name, s->models[c->m].name, s->inference[c->i].name);
    return strcmp(name, arm) != 0;
}

static int hook_audit(void *p, const dml_audit_entry *e)
{
    exec_ctx *c = p;
    dml_point q;
    memset(&q, 0, sizeof q);
    snprintf(q.data, sizeof q.data, "%s", e->data);
    snprintf(q.model, sizeof q.model, "%s", e->model);
    snprintf(q.inference, sizeof q.inference, "%s", e->inference);
    if (audit_list_add(c->audits, e, points_arm_index(c->spec, &q)) != 0) {
        c->store_failed = 1;
        return 1;
    }
    return 0;
}

static int hook_cancelled(void *p)
{
    exec_ctx *c = p;
    return c->tile_stop || (c->stop && c->stop(c->ctx));
}

static int hook_point(void *p, const dml_point *pt)
{
    exec_ctx *c = p;
    if (point_list_add(c->out, pt, points_arm_index(c->spec, pt)) != 0) {
        c->store_failed = 1;
        return 1;
    }
    return 0;
}

/* `path` as the server names it: under the server's data root when this worker read it under its own. */
static void server_path(const exec_ctx *c, const char *path, char *out, size_t cap)
{
    const char *root = c->job->server_data_root, *mine = c->spec->data_root;
    size_t ml = strlen(mine);
    if (root && *root && strncmp(path, mine, ml) == 0 && (path[ml] == '/' || !path[ml]))
        snprintf(out, cap, "%s%s", root, path + ml);
    else
        snprintf(out, cap, "%s", path);
}

/* The data files read: checked against the experiment's provenance (a file of the same path with another hash fails
 * the shard: a worker on another machine must compute on the bytes the other shards came from). Paths are compared,
 * and reported, as the server names them. */
static int hook_data(void *p, const dml_data_file *files, int n, dml_error *err)
{
    exec_ctx *c = p;
    char sp[2 * DML_PATH_MAX];
    for (int i = 0; i < n; i++) {
        server_path(c, files[i].path, sp, sizeof sp);
        for (const cJSON *f = c->job->data_files ? c->job->data_files->child : NULL; f; f = f->next) {
            const cJSON *path = cJSON_GetObjectItemCaseSensitive(f, "path"), *sha = cJSON_GetObjectItemCaseSensitive(f, "sha256");
            if (cJSON_IsString(path) && cJSON_IsString(sha) && strcmp(path->valuestring, sp) == 0 &&
                strcmp(sha->valuestring, files[i].sha256) != 0)
                return dml_fail(err, DML_ERR_IO, NULL,
                                "the data file %s changed since this experiment's other shards read it (SHA-256 "
                                "%.16s... then, %.16s... here and now): computing on would mix two data sets (a "
                                "worker on another machine: its data root holds other data)",
                                files[i].path, sha->valuestring, files[i].sha256);
        }
    }
    cJSON_Delete(c->files);
    c->files = cJSON_CreateArray();
    for (int i = 0; c->files && i < n; i++) {
        cJSON *f = cJSON_CreateObject();
        server_path(c, files[i].path, sp, sizeof sp);
        cJSON_AddStringToObject(f, "path", sp);
        cJSON_AddStringToObject(f, "sha256", files[i].sha256);
        cJSON_AddItemToArray(c->files, f);
    }
    return 0;
}

/* Data paths of the spec under the server's data root are read under this worker's root (a shared file system may
 * be mounted elsewhere on another machine). */
static void rebase_paths(cJSON *v, const char *from, const char *to)
{
    size_t fl = strlen(from);
    for (cJSON *c = v ? v->child : NULL; c; c = c->next) {
        if (cJSON_IsString(c) && strncmp(c->valuestring, from, fl) == 0 && (c->valuestring[fl] == '/' || !c->valuestring[fl])) {
            size_t n = strlen(to) + strlen(c->valuestring + fl) + 1;
            char *s = malloc(n);
            if (s) {
                snprintf(s, n, "%s%s", to, c->valuestring + fl);
                cJSON_SetValuestring(c, s);
                free(s);
            }
        } else if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
            rebase_paths(c, from, to);
        }
    }
}

/* A kernel unit begins its tiles; each tile done (computed or found stored) moves the shard's fraction. */
static void hook_kernel(void *p, const dml_kernel_info *k)
{
    exec_ctx *c = p;
    if (c->kind != K_TILE)
        c->tiles = k->tiles;   /* a tile shard's fraction is of its own range */
    c->tiles_seen = 0;
    c->pairs_seen = 0;
    snprintf(c->key, sizeof c->key, "%s", k->key);
    c->cache = k->cache;
    c->unit_tiles = k->tiles;
    c->unit_stored = k->stored;
    shard_tiles *st = c->job->tiles;
    if (c->kind == K_TILE && st && st->on_key && st->on_key(st->ctx, c->key))
        c->tile_stop = 1;
}

static long tile_number(const exec_ctx *c, const dml_tile *t)
{
    return (long)(t->kind == DML_TILE_GRAM ? t->index : c->ngram + t->index);
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* A tile the server holds already (the claim answer's tiles): a tile shard neither computes nor reports it. */
static int hook_have_tile(void *p, const char *key, const dml_tile *t)
{
    exec_ctx *c = p;
    const shard_tiles *st = c->job->tiles;
    if (!st || !st->key || strcmp(st->key, key) != 0 || !st->nstored)
        return 0;
    long n = tile_number(c, t);
    return bsearch(&n, st->stored, st->nstored, sizeof n, cmp_long) != NULL;
}

static void hook_tile(void *p, const dml_tile *t, int computed, double eta_seconds)
{
    exec_ctx *c = p;
    shard_tiles *st = c->job->tiles;
    c->tiles_seen++;
    if (st && computed)
        st->computed++;
    if (c->kind == K_TILE && !computed && hook_have_tile(c, c->key, t))
        ;   /* the server has it */
    else if (c->kind == K_TILE) {
        c->found += !computed;
        if (st && st->on_tile && st->on_tile(st->ctx, c->key, t, tile_number(c, t), computed))
            c->tile_stop = 1;
    }
    /* a tile shard's fraction is by pairs, as its ETA and its weight in the plan are (Gram tiles grow with their
     * row), so that the server can extend the ETA over the kernel's other shards (store_shard_renew) */
    c->pairs_seen += (double)(t->r1 - t->r0) * (double)t->ncols;
    double fraction = c->pairs > 0 ? c->pairs_seen / c->pairs : (double)c->tiles_seen / (double)c->tiles;
    /* a solve finds its kernel's tiles stored: reading them is not its work done (its progress is its report) */
    if (c->on_tiles && c->tiles && c->kind != K_SOLVE) c->on_tiles(c->ctx, fraction > 1 ? 1 : fraction, eta_seconds);
}

/* The kernel record of a kernel or tile shard (provenance.kernels): a tile shard's counts are those of its range. */
static cJSON *kernel_record(const exec_ctx *c)
{
    if (!c->key[0] || (c->kind != K_KERNEL && c->kind != K_TILE))
        return NULL;
    size_t tiles = c->unit_tiles, stored = c->unit_stored;
    const char *cache = c->cache;
    if (c->kind == K_TILE) {
        tiles = c->tiles;
        stored = c->found + (c->job->tiles ? c->job->tiles->found : 0);
        cache = stored == tiles ? "hit" : stored ? "partial" : "miss";
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "data", c->spec->data[c->d].name);
    cJSON_AddStringToObject(o, "model", c->spec->models[c->m].name);
    cJSON_AddNumberToObject(o, "repeat", c->rep);
    cJSON_AddStringToObject(o, "key", c->key);
    cJSON_AddStringToObject(o, "kernel_cache", cache);
    cJSON_AddNumberToObject(o, "tiles", (double)tiles);
    cJSON_AddNumberToObject(o, "stored", (double)stored);
    cJSON_AddNumberToObject(o, "computed", c->job->tiles ? (double)c->job->tiles->computed : 0);
    return o;
}

int shard_exec(const shard_job *job, const char *data_root, const char *tile_dir, double cache_bytes, int threads,
               int (*stop)(void *ctx), void (*on_tiles)(void *ctx, double fraction, double eta_seconds), void *ctx,
               point_list *out, spectrum_list *spectra, audit_list *audits, cJSON **files, dml_error *err)
{
    *files = NULL;
    dml_error_clear(err);
    cJSON *tree = cJSON_Parse(job->spec ? job->spec : "");
    if (!tree)
        return dml_fail(err, DML_ERR_INVALID_SPEC, NULL, "the experiment's stored spec is not JSON");
    if (job->server_data_root && *job->server_data_root && strcmp(job->server_data_root, data_root) != 0)
        rebase_paths(cJSON_GetObjectItemCaseSensitive(tree, "data"), job->server_data_root, data_root);
    char *text = cJSON_PrintUnformatted(tree);
    cJSON_Delete(tree);
    dml_spec spec;
    memset(&spec, 0, sizeof spec);
    int rc = text ? dml_spec_parse(text, strlen(text), data_root, &spec, err) : dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
    free(text);
    if (rc) {
        char msg[sizeof err->message];
        snprintf(msg, sizeof msg, "cannot load the stored spec on this worker: %.400s", err->message);
        snprintf(err->message, sizeof err->message, "%s", msg);
        return -1;
    }
    exec_ctx c = {.job = job, .spec = &spec, .stop = stop, .on_tiles = on_tiles, .ctx = ctx, .out = out, .spectra = spectra,
                  .audits = audits, .i = -1};
    const cJSON *u = job->unit;
    c.d = unit_int(u, "data", 0, spec.ndata);
    c.m = unit_int(u, "model", 0, spec.nmodels);
    c.rep = unit_int(u, "repeat", 0, (int)(spec.repeats < 1000000 ? spec.repeats : 1000000));
    const char *kinds[] = {"kernel", "tile", "solve", "train", "audit"};
    c.kind = -1;
    for (int k = 0; k < 5; k++)
        if (job->kind && strcmp(job->kind, kinds[k]) == 0)
            c.kind = k;
    int rows = 0, first = 0, end = 0;
    if (c.kind == K_TRAIN) {
        c.i = unit_int(u, "inference", 0, spec.ninference);
        int j = c.d >= 0 ? unit_int(u, "n_train", 0, spec.data[c.d].nn_train) : -1;
        c.n_train = j >= 0 ? spec.data[c.d].n_train[j] : 0;
        if (c.i < 0 || j < 0 || dml_method_is_kernel(spec.inference[c.i].method))
            c.d = -1;
    } else if (c.kind == K_AUDIT) {
        c.i = unit_int(u, "inference", 0, spec.ninference);
        if (c.i < 0 || c.rep != 0 || spec.audit.ngroups == 0)
            c.d = -1;
    } else if (c.kind == K_TILE || c.kind == K_SOLVE) {
        /* the tiling of the plan: every shard of the unit computes and reads the same tiles */
        rows = unit_int(u, "rows", 1, 1 << 30);
        int n = unit_int(u, "n", 1, 1 << 30);
        c.ngram = rows > 0 && n > 0 ? ((size_t)n + (size_t)rows - 1) / (size_t)rows : 0;
        first = unit_int(u, "first", 0, 1 << 30);
        end = unit_int(u, "end", 1, 1 << 30);
        if (rows < 1 || n < 1 || (c.kind == K_TILE && (first < 0 || end <= first)) ||
            (c.d >= 0 && (size_t)n != spec.data[c.d].n_train[spec.data[c.d].nn_train - 1]))
            c.d = -1;
        if (c.kind == K_TILE && c.d >= 0) {
            c.tiles = (size_t)(end - first);
            dml_tiling tg;
            dml_tiling_init(&tg, (size_t)n, spec.data[c.d].n_test, (size_t)rows);
            c.pairs = dml_tiling_pairs(&tg, (size_t)first, (size_t)end);
        }
    } else if (c.kind != K_KERNEL) {
        c.d = -1;
    }
    if (c.d < 0 || c.m < 0 || c.rep < 0) {
        dml_spec_free(&spec);
        return dml_fail(err, DML_ERR_INVALID_SPEC, NULL, "the shard (kind %s) does not name a unit of this experiment",
                        job->kind ? job->kind : "none");
    }
    dml_run_hooks h = {
        .ctx = &c,
        .cancelled = hook_cancelled,
        .have_point = hook_have,
        .on_point = hook_point,
        .have_spectrum = hook_have_spectrum,
        .on_spectrum = hook_spectrum,
        .have_audit = hook_have_audit,
        .on_audit = hook_audit,
        .on_data = hook_data,
        .threads = threads,
        .on_kernel = hook_kernel,
        .on_tile = hook_tile,
        .tile_dir = tile_dir,
        .cache_bytes = cache_bytes,
        .tile_rows = (size_t)(rows > 0 ? rows : 0),
        .tile_first = (size_t)first,
        .tile_end = c.kind == K_TILE ? (size_t)end : 0,
        .have_tile = hook_have_tile,
    };
    rc = dml_experiment_run(&spec, &h, err);
    if (rc == 0 && c.tile_stop)   /* a tile that could not be reported: the shard is given back */
        rc = dml_fail(err, DML_ERR_CANCELLED, NULL, "a tile of the shard could not be reported");
    if (rc == 0 && job->tiles)
        job->tiles->kernel = kernel_record(&c);
    dml_spec_free(&spec);
    if (rc == 0 && c.store_failed)
        rc = dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory for the shard's points");
    if (rc) {
        cJSON_Delete(c.files);
        return -1;
    }
    *files = c.files ? c.files : cJSON_CreateArray();
    return 0;
}
