/* The data root as a boundary (DESIGN section 3): every data path a spec names, and every file the core
 * opens for it, must resolve inside the configured root. See dml_data_resolve and dml_data_open in data.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dmilab/data.h"

/* Whether the canonical path p lies in the canonical directory root. */
static int inside(const char *root, const char *p)
{
    size_t n = strlen(root);
    if (strcmp(root, "/") == 0) return p[0] == '/';
    return strncmp(p, root, n) == 0 && (p[n] == '/' || p[n] == 0);
}

/* The one message for every path the server will not show: outside the root, or not resolvable there. It must
 * read the same whether or not the path exists, so that no file outside the root can be probed. */
static int not_inside(dml_error *err, const char *field, const char *path, const char *root)
{
    return dml_fail(err, DML_ERR_INVALID_SPEC, field, "%s is not a readable path inside the data root %s", path, root);
}

/* The canonical root, or -1 with err. */
static int canonical_root(const char *root, char rroot[PATH_MAX], dml_error *err)
{
    if (!root || !root[0] || !realpath(root, rroot))
        return dml_fail(err, DML_ERR_INVALID_SPEC, NULL, "the data root %s does not exist", root ? root : "(none)");
    return 0;
}

int dml_data_resolve(const char *root, const char *path, dml_path_kind kind, const char *field, char *out,
                     size_t out_size, dml_error *err)
{
    char rroot[PATH_MAX], abs[PATH_MAX], rp[PATH_MAX];
    if (canonical_root(root, rroot, err)) return -1;
    if (!path || !path[0]) return dml_fail(err, DML_ERR_INVALID_SPEC, field, "the path is empty");
    /* relative paths are relative to the root */
    int w = path[0] == '/' ? snprintf(abs, sizeof abs, "%s", path) : snprintf(abs, sizeof abs, "%s/%s", rroot, path);
    if (w < 0 || (size_t)w >= sizeof abs) return dml_fail(err, DML_ERR_INVALID_SPEC, field, "the path is too long");
    if (!realpath(abs, rp)) {
        if (errno != ENOENT && errno != ENOTDIR) return not_inside(err, field, path, root);
        /* it does not exist: say so only when its deepest existing ancestor is inside the root and the
         * missing component is not a (dangling) link, whose target could be anywhere */
        char anc[PATH_MAX], ranc[PATH_MAX];
        snprintf(anc, sizeof anc, "%s", abs);
        for (;;) {
            char *slash = strrchr(anc, '/');
            if (!slash) return not_inside(err, field, path, root);
            char missing[PATH_MAX];
            snprintf(missing, sizeof missing, "%s", anc);
            if (slash == anc) slash[1] = 0;
            else *slash = 0;
            if (realpath(anc, ranc)) {
                struct stat st;
                if (!inside(rroot, ranc) || lstat(missing, &st) == 0) return not_inside(err, field, path, root);
                return dml_fail(err, DML_ERR_INVALID_SPEC, field, "%s does not exist", path);
            }
            if (errno != ENOENT && errno != ENOTDIR) return not_inside(err, field, path, root);
            if (strcmp(anc, "/") == 0) return not_inside(err, field, path, root);
        }
    }
    if (!inside(rroot, rp)) return not_inside(err, field, path, root);
    struct stat st;
    if (stat(rp, &st) != 0) return not_inside(err, field, path, root);
    if (kind == DML_PATH_DIR && !S_ISDIR(st.st_mode))
        return dml_fail(err, DML_ERR_INVALID_SPEC, field, "%s is not a directory", path);
    if (kind == DML_PATH_FILE && !S_ISREG(st.st_mode))
        return dml_fail(err, DML_ERR_INVALID_SPEC, field, "%s is not a regular file", path);
    if (strlen(rp) >= out_size) return dml_fail(err, DML_ERR_INVALID_SPEC, field, "the path is too long");
    memcpy(out, rp, strlen(rp) + 1);
    return 0;
}

int dml_data_open(const char *root, const char *path, const char *field, char *resolved, size_t resolved_size,
                  dml_error *err)
{
    char rp[PATH_MAX], rroot[PATH_MAX];
    if (dml_data_resolve(root, path, DML_PATH_FILE, field, rp, sizeof rp, err)) return -1;
    if (canonical_root(root, rroot, err)) return -1;
    /* O_NONBLOCK: a FIFO swapped in after the check must not stall the caller */
    int fd = open(rp, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return dml_fail(err, DML_ERR_INVALID_SPEC, field, "%s cannot be opened: %s", path, strerror(errno));
    /* check the file that was opened, not the name: a link swapped in between cannot leave the root */
    char link[64], real[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, real, sizeof real - 1);
    struct stat st, st2;
    int ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    if (ok && n > 0) {
        real[n] = 0;
        ok = inside(rroot, real);
    } else if (ok) {   /* no /proc: the opened file must be the one that was resolved */
        ok = stat(rp, &st2) == 0 && st2.st_dev == st.st_dev && st2.st_ino == st.st_ino;
    }
    int fl = ok ? fcntl(fd, F_GETFL) : -1;
    if (!ok || fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
        close(fd);
        return not_inside(err, field, path, root);
    }
    if (resolved) {
        if (strlen(rp) >= resolved_size) {
            close(fd);
            return dml_fail(err, DML_ERR_INVALID_SPEC, field, "the path is too long");
        }
        memcpy(resolved, rp, strlen(rp) + 1);
    }
    return fd;
}
