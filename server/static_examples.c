/* dmilab server: GET /examples/ and /examples/NAME.json, the embedded example specs. See examples.h. */
#include "examples.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int under_examples(const char *path)
{
    return strncmp(path, "/examples", 9) == 0 && (path[9] == '\0' || path[9] == '/');
}

static void index_reply(reply *r)
{
    cJSON *o = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(o, "examples");
    for (int i = 0; list && i < examples_count; i++) {
        cJSON *e = cJSON_CreateObject(), *spec = cJSON_Parse(examples[i].text);
        size_t n = strlen(examples[i].name) + sizeof "examples/.json";
        char *file = malloc(n);
        if (!e || !file) {
            cJSON_Delete(e);
            cJSON_Delete(spec);
            free(file);
            cJSON_Delete(o);
            reply_error(r, 500, "internal", "out of memory", NULL);
            return;
        }
        snprintf(file, n, "examples/%s.json", examples[i].name);
        cJSON_AddStringToObject(e, "file", file);
        free(file);
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(spec, "name");
        if (cJSON_IsString(name))
            cJSON_AddStringToObject(e, "name", name->valuestring);
        else
            cJSON_AddNullToObject(e, "name");
        cJSON_Delete(spec);
        cJSON_AddItemToArray(list, e);
    }
    reply_json(r, 200, o);
    r->no_store = 0;
}

int examples_serve(const char *path, reply *r)
{
    if (!under_examples(path))
        return 0;
    if (path[9] == '\0' || strcmp(path + 9, "/") == 0) {
        index_reply(r);
        return 1;
    }
    const char *file = path + 10;
    size_t n = strlen(file);
    if (n > 5 && strcmp(file + n - 5, ".json") == 0) {
        for (int i = 0; i < examples_count; i++) {
            if (strlen(examples[i].name) == n - 5 && strncmp(file, examples[i].name, n - 5) == 0) {
                char *text = strdup(examples[i].text);
                reply_text(r, 200, CT_JSON, text);
                r->no_store = 0;
                return 1;
            }
        }
    }
    reply_error(r, 404, "not_found", "no such example", NULL);
    return 1;
}
