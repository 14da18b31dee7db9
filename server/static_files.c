/* dmilab server: static files. See static_files.h. */
#include "static_files.h"
#include "examples.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
    const char *ext, *type;
} types[] = {
    {"html", "text/html; charset=utf-8"}, {"htm", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"}, {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"}, {"json", "application/json; charset=utf-8"},
    {"map", "application/json; charset=utf-8"}, {"svg", "image/svg+xml"},
    {"png", "image/png"}, {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"}, {"gif", "image/gif"},
    {"ico", "image/x-icon"}, {"webp", "image/webp"}, {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"}, {"csv", "text/csv; charset=utf-8"},
    {"woff", "font/woff"}, {"woff2", "font/woff2"}, {"wasm", "application/wasm"},
    {"xml", "application/xml"}, {"pdf", "application/pdf"},
};

const char *static_content_type(const char *name)
{
    const char *slash = strrchr(name, '/'), *dot = strrchr(name, '.');
    if (dot && (!slash || dot > slash))
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcasecmp(dot + 1, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

static int inside(const char *root, const char *real)
{
    size_t n = strlen(root);
    return strncmp(real, root, n) == 0 && (real[n] == '/' || real[n] == '\0');
}

static void not_found(reply *r)
{
    reply_error(r, 404, "not_found", "no such file", NULL);
}

void static_serve(const char *web_root, const char *path, reply *r)
{
    if (examples_serve(path, r))
        return;
    if (!web_root[0] || path[0] != '/' || strstr(path, "..") || strchr(path, '\\')) {
        not_found(r);
        return;
    }
    char full[PATH_MAX], real[PATH_MAX];
    if (snprintf(full, sizeof full, "%s%s", web_root, path) >= (int)sizeof full || !realpath(full, real)
        || !inside(web_root, real)) {
        not_found(r);
        return;
    }
    struct stat sb;
    if (stat(real, &sb) != 0) {
        not_found(r);
        return;
    }
    if (S_ISDIR(sb.st_mode)) {
        if (snprintf(full, sizeof full, "%s/index.html", real) >= (int)sizeof full || !realpath(full, real)
            || !inside(web_root, real)) {
            not_found(r);
            return;
        }
    }
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        if (fd >= 0)
            close(fd);
        not_found(r);
        return;
    }
    reply_clear(r);
    r->status = 200;
    r->fd = fd;
    r->fd_size = (size_t)sb.st_size;
    r->content_type = static_content_type(real);
    r->no_store = 0;
}
