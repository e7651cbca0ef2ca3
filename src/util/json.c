/* cppo-notify — the JSON writer (see include/cppo/json.h). */
#include "cppo/json.h"

#include "cppo/strlist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

yajl_gen json_new(void)
{
        return yajl_gen_alloc(NULL);
}

void json_free(yajl_gen g)
{
        if (g)
                yajl_gen_free(g);
}

int json_take(yajl_gen g, char **text)
{
        const unsigned char *buf;
        size_t len;

        *text = NULL;
        if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok)
                return -EIO;
        *text = strndup((const char *)buf, len);
        return *text ? 0 : -ENOMEM;
}

/* The generator's text to f: 0 or -EIO. */
static int put_text(yajl_gen g, FILE *f)
{
        const unsigned char *buf;
        size_t len;

        if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok)
                return -EIO;
        return fwrite(buf, 1, len, f) == len ? 0 : -EIO;
}

int json_print(yajl_gen g, FILE *f)
{
        int r = put_text(g, f);

        return r == 0 && fputc('\n', f) == EOF ? -EIO : r;
}

int json_print_splice(yajl_gen g, FILE *f, const char *key, const char *json, const char *after)
{
        int r = put_text(g, f);

        /* keys are the program's own names, never data: no escaping needed */
        if (r == 0 && fprintf(f, ",\"%s\":%s%s}\n", key, json, after ? after : "") < 0)
                r = -EIO;
        return r;
}

int json_str(yajl_gen g, const char *s)
{
        if (s == NULL)
                return (int)yajl_gen_null(g);
        return (int)yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

int json_string(yajl_gen g, const char *key, const char *value)
{
        int r = json_str(g, key);

        return r == yajl_gen_status_ok ? json_str(g, value) : r;
}

int json_bool(yajl_gen g, const char *key, bool value)
{
        int r = json_str(g, key);

        return r == yajl_gen_status_ok ? (int)yajl_gen_bool(g, value) : r;
}

int json_int(yajl_gen g, const char *key, int64_t value)
{
        int r = json_str(g, key);

        return r == yajl_gen_status_ok ? (int)yajl_gen_integer(g, (long long)value) : r;
}

int json_strv(yajl_gen g, const char *key, const char *const *v, size_t n)
{
        int r = key ? json_str(g, key) : yajl_gen_status_ok;

        if (r == yajl_gen_status_ok)
                r = (int)yajl_gen_array_open(g);
        for (size_t i = 0; r == yajl_gen_status_ok && i < n; i++)
                r = json_str(g, v[i]);
        return r == yajl_gen_status_ok ? (int)yajl_gen_array_close(g) : r;
}

int json_strlist(yajl_gen g, const char *key, const struct strlist *l)
{
        return l ? json_strv(g, key, (const char *const *)l->v, l->n) : json_strv(g, key, NULL, 0);
}
