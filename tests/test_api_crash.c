/* Crash test: kill -9 the server several times while an experiment runs, start it again each time; the
 * experiment resumes, finishes with exactly one row per point, and its numbers equal those of an uninterrupted
 * `dmilab run` of the same spec. usage: test_api_crash PATH/TO/dmilab [slow | audit]
 * (slow: a bigger experiment and more kills, for the slow suite; audit: kills while an audit is measured, which
 * resumes with exactly one row per cell). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_api_util.h"

static const char *quick_spec =
    "{\"name\": \"crash\", \"data\": {\"source\": \"fashion-mnist\", \"resize\": 2, \"n_train\": [200, 400, 600], \"n_test\": 300},"
    " \"models\": [{\"arch\": \"fcn\"}, {\"name\": \"deep\", \"arch\": \"fcn\", \"depth\": 3}],"
    " \"inference\": [{\"method\": \"nngp\"}, {\"method\": \"ntk\"}], \"repeats\": 8}";
static const int quick_points = 3 * 2 * 2 * 8;
static const char *slow_spec =
    "{\"name\": \"crash slow\", \"data\": {\"source\": \"fashion-mnist\", \"resize\": 1, \"n_train\": [1000, 2000, 3000],"
    " \"n_test\": 1000}, \"models\": [{\"arch\": \"fcn\"}, {\"name\": \"deep\", \"arch\": \"fcn\", \"depth\": 5,"
    " \"activation\": \"erf\"}], \"inference\": [{\"method\": \"nngp\"}, {\"method\": \"ntk\"}], \"repeats\": 4}";
static const int slow_points = 3 * 2 * 2 * 4;

static const char *audit_spec =
    "{\"name\": \"crash audit\", \"data\": {\"name\": \"fm\", \"source\": \"fashion-mnist\", \"resize\": 2, \"n_train\": [200],"
    " \"n_test\": 200}, \"models\": [{\"arch\": \"fcn\", \"width\": 32}, {\"arch\": \"lcn\", \"width\": 8, \"depth\": 1,"
    " \"padding\": \"circular\"}], \"inference\": [{\"method\": \"ntk\"}, {\"method\": \"sgd\", \"epochs\": 4}],"
    " \"audit\": {\"groups\": [\"orthogonal\", \"permutation\", \"local-orthogonal\", \"channel-orthogonal\", \"translation\","
    " \"signed-permutation\"], \"seeds\": 2}}";
static const int audit_cells = 2 * 2 * 6;

/* GET /api/v1/experiments/ID/WHAT as JSON (caller frees), NULL on error. */
static cJSON *get_of(const char *id, const char *what)
{
    char p[160];
    snprintf(p, sizeof p, "/api/v1/experiments/%s/%s", id, what);
    resp r;
    get(p, &r);
    cJSON *j = r.status == 200 ? json_of(&r) : NULL;
    resp_free(&r);
    return j;
}

static cJSON *points_of(const char *id) { return get_of(id, "results"); }
static cJSON *audit_of(const char *id) { return get_of(id, "audit"); }

static int npoints(const char *id)
{
    cJSON *j = points_of(id);
    int n = j ? cJSON_GetArraySize(cJSON_GetObjectItem(j, "points")) : -1;
    cJSON_Delete(j);
    return n;
}

static int ncells(const char *id)
{
    cJSON *j = audit_of(id);
    int n = j ? cJSON_GetArraySize(cJSON_GetObjectItem(j, "audit")) : -1;
    cJSON_Delete(j);
    return n;
}

static const cJSON *find_point(const cJSON *pts, const cJSON *like)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, pts)
    {
        if (strcmp(str_at(p, "arm"), str_at(like, "arm")) == 0 && num_at(p, "n_train") == num_at(like, "n_train")
            && num_at(p, "repeat") == num_at(like, "repeat"))
            return p;
    }
    return NULL;
}

static int close_enough(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    return fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b)) + 1e-300;
}

/* After the kills: one row per audit cell, with the verdicts and gaps of an uninterrupted dmilab run (gaps at
 * rounding level differ with the threads' summation order: both must then be below the threshold). */
static void check_audit(const char *id)
{
    cJSON *served = audit_of(id);
    const cJSON *cells = cJSON_GetObjectItem(served, "audit"), *c;
    int n = cJSON_GetArraySize(cells), unique = 1, i = 0;
    cJSON_ArrayForEach(c, cells)
    {
        int j = 0;
        const cJSON *q;
        cJSON_ArrayForEach(q, cells)
        {
            if (j++ > i && strcmp(str_at(c, "arm"), str_at(q, "arm")) == 0 && strcmp(str_at(c, "group"), str_at(q, "group")) == 0)
                unique = 0;
        }
        i++;
    }
    check(n == audit_cells && unique, "exactly one row per audit cell: %d rows for %d cells", n, audit_cells);
    char path[400], cmd[1200];
    snprintf(path, sizeof path, "%s/spec.json", t_dir);
    write_file(path, audit_spec);
    snprintf(cmd, sizeof cmd, "'%s' run --threads 2 '%s' 2>/dev/null", t_exe, path);
    int st;
    char *out = run_capture(cmd, &st);
    cJSON *local = cJSON_Parse(out);
    free(out);
    const cJSON *lc = cJSON_GetObjectItem(local, "audit"), *p;
    int same = st == 0 && cJSON_GetArraySize(lc) == audit_cells, compared = 0;
    cJSON_ArrayForEach(p, lc)
    {
        const cJSON *q = NULL;
        cJSON_ArrayForEach(q, cells)
        {
            if (strcmp(str_at(p, "arm"), str_at(q, "arm")) == 0 && strcmp(str_at(p, "group"), str_at(q, "group")) == 0) break;
        }
        if (!q) {
            same = 0;
            continue;
        }
        compared++;
        double a = num_at(p, "gap"), b = num_at(q, "gap"), t = num_at(p, "threshold");
        same &= strcmp(str_at(p, "method"), str_at(q, "method")) == 0 &&
                cJSON_IsTrue(cJSON_GetObjectItem(p, "invariant")) == cJSON_IsTrue(cJSON_GetObjectItem(q, "invariant")) &&
                (strcmp(str_at(p, "method"), "distributional") != 0 && a <= t ? b <= t : fabs(a - b) <= 1e-6 * fabs(a));
    }
    check(same && compared == audit_cells, "methods, verdicts and gaps of all %d cells equal an uninterrupted dmilab run",
          compared);
    cJSON_Delete(local);
    cJSON_Delete(served);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_api_crash PATH/TO/dmilab [slow]\n");
        return 2;
    }
    int slow = argc > 2 && strcmp(argv[2], "slow") == 0, audit = argc > 2 && strcmp(argv[2], "audit") == 0;
    const char *spec = slow ? slow_spec : audit ? audit_spec : quick_spec;
    int expected = slow ? slow_points : audit ? audit_cells : quick_points, kills = slow ? 6 : 3;
    int (*count)(const char *) = audit ? ncells : npoints;
    t_init(argv[1], "crash");
    if (!check(start_server(NULL) == 0, "server starts"))
        return t_finish();
    long status;
    char *id = post_spec(spec, &status);
    if (!check(status == 201 && id, "POST the experiment (%d points)", expected))
        return t_finish();

    int killed_mid_run = 0, last = 0;
    for (int k = 0; k < kills; k++) {
        double t0 = now_s();
        int n = 0;
        while (now_s() - t0 < 120 && (n = count(id)) <= last && n < expected)
            usleep(2000);
        if (n >= expected)
            break;
        int st = stop_server(SIGKILL);

        killed_mid_run += st >= 0 && WIFSIGNALED(st) && n < expected;
        check(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "kill -9 %d with %d of %d points stored", k + 1, n,
              expected);
        if (!check(start_server(NULL) == 0, "server starts again"))
            return t_finish();
        last = count(id);
    }
    check(killed_mid_run >= 1, "killed %d time(s) while it was running", killed_mid_run);

    char *final = NULL;
    double t1 = now_s();
    do {   /* long-polls of 60 s (below the client's timeout) until it ends */
        free(final);
        final = wait_status(id, 60);
    } while (now_s() - t1 < 600 && (strcmp(final, "queued") == 0 || strcmp(final, "running") == 0));
    check(strcmp(final, "succeeded") == 0, "the experiment resumed and %s", final);
    free(final);
    if (audit) {
        check_audit(id);
        free(id);
        int st = stop_server(SIGTERM);
        check(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "SIGTERM: exit status 0");
        return t_finish();
    }

    cJSON *served = points_of(id);
    const cJSON *pts = cJSON_GetObjectItem(served, "points");
    int n = cJSON_GetArraySize(pts), unique = 1, i = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, pts)
    {
        int j = 0;
        const cJSON *q;
        cJSON_ArrayForEach(q, pts)
        {
            if (j++ > i && strcmp(str_at(p, "arm"), str_at(q, "arm")) == 0 && num_at(p, "n_train") == num_at(q, "n_train")
                && num_at(p, "repeat") == num_at(q, "repeat"))
                unique = 0;
        }
        i++;
    }
    check(n == expected && unique, "exactly one row per point: %d rows for %d points, no duplicates", n, expected);

    /* the same numbers as an uninterrupted run */
    char path[400], cmd[1200];
    snprintf(path, sizeof path, "%s/spec.json", t_dir);
    write_file(path, spec);
    snprintf(cmd, sizeof cmd, "'%s' run --threads 2 '%s' 2>/dev/null", t_exe, path);
    int st;
    char *out = run_capture(cmd, &st);
    cJSON *local = cJSON_Parse(out);
    free(out);
    const cJSON *lp = cJSON_GetObjectItem(local, "points");
    int same = st == 0 && cJSON_GetArraySize(lp) == expected, compared = 0;
    cJSON_ArrayForEach(p, lp)
    {
        const cJSON *q = find_point(pts, p);
        if (!q) {
            same = 0;
            continue;
        }
        compared++;
        same &= close_enough(num_at(p, "test_mse"), num_at(q, "test_mse"))
                && close_enough(num_at(p, "test_accuracy"), num_at(q, "test_accuracy"))
                && close_enough(num_at(p, "train_mse"), num_at(q, "train_mse"));
    }
    check(same && compared == expected, "test_mse, test_accuracy and train_mse of all %d points equal an uninterrupted dmilab run",
          compared);
    cJSON_Delete(local);
    cJSON_Delete(served);
    free(id);
    st = stop_server(SIGTERM);
    check(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "SIGTERM: exit status 0");
    return t_finish();
}
