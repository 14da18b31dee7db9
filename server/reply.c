/* dmilab server: HTTP replies. See reply.h. */
#include "reply.h"
#include "dmilab/json.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void reply_init(reply *r)
{
    memset(r, 0, sizeof *r);
    r->status = 200;
    r->fd = -1;
    r->no_store = 1;
}

void reply_clear(reply *r)
{
    free(r->body);
    if (r->fd >= 0)
        close(r->fd);
    reply_init(r);
}

void reply_text(reply *r, unsigned status, const char *content_type, char *text)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
    if (!text) {
        reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    r->status = status;
    r->content_type = content_type;
    r->body = text;
    r->len = strlen(text);
}

void reply_json_text(reply *r, unsigned status, char *text)
{
    reply_text(r, status, CT_JSON, text);
}

void reply_json(reply *r, unsigned status, cJSON *obj)
{
    char *text = obj ? dml_json_print(obj) : NULL;
    cJSON_Delete(obj);
    reply_json_text(r, status, text);
}

char *error_text(const char *code, const char *message, const char *field)
{
    cJSON *root = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(root, "error");
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", message ? message : "");
    if (field && *field)
        cJSON_AddStringToObject(e, "field", field);
    else
        cJSON_AddNullToObject(e, "field");
    char *text = dml_json_print(root);
    cJSON_Delete(root);
    return text;
}

void reply_error(reply *r, unsigned status, const char *code, const char *message, const char *field)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
    char *text = error_text(code, message, field);
    static const char fallback[] = "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\",\"field\":null}}";
    if (!text) {
        text = strdup(fallback);
        status = 500;
    }
    r->status = status;
    r->content_type = CT_JSON;
    r->body = text;
    r->len = text ? strlen(text) : 0;
}
