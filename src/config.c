/* cppo-notify — YAML configuration (see include/cppo/config.h). */
#include "cppo/config.h"

#include "cppo/buf.h"
#include "cppo/error.h"
#include "cppo/model.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define CONFIG_MAX_BYTES (1u << 20)
#define CONFIG_MAX_KEYS 16

enum ctype { C_STRING, C_INT, C_BOOL, C_DURATION, C_LIST, C_MAP, C_SECTION, C_SYNC, C_LEVEL };

struct ckey {
        const char *key;
        enum ctype type;
        size_t offset;       /* into struct config */
        size_t count_offset; /* C_LIST / C_MAP: the size_t count */
        int64_t min, max;    /* C_INT, C_DURATION */
        bool required;
        const struct ckey *section; /* C_SECTION: its table */
};

#define AT(field) offsetof(struct config, field)

static const struct ckey kafka_keys[] = {
        { "brokers", C_STRING, AT(kafka.brokers), 0, 0, 0, true, NULL },
        { "topics", C_LIST, AT(kafka.topics), AT(kafka.n_topics), 1, 100, true, NULL },
        { "group", C_STRING, AT(kafka.group), 0, 0, 0, false, NULL },
        { "properties", C_MAP, AT(kafka.properties), AT(kafka.n_properties), 0, 0, false, NULL },
        { "dead_letter_topic", C_STRING, AT(kafka.dead_letter_topic), 0, 0, 0, false, NULL },
        { "max_message_bytes", C_INT, AT(kafka.max_message_bytes), 0, 1024, 16777216, false, NULL },
        { NULL, 0, 0, 0, 0, 0, false, NULL },
};

static const struct ckey store_keys[] = {
        { "path", C_STRING, AT(store_path), 0, 0, 0, false, NULL },
        { "synchronous", C_SYNC, AT(store_synchronous_normal), 0, 0, 0, false, NULL },
        { NULL, 0, 0, 0, 0, 0, false, NULL },
};

static const struct ckey holds_keys[] = {
        { "offer_link_timeout", C_DURATION, AT(offer_link_timeout), 0, 60, 365 * 86400, false, NULL },
        { NULL, 0, 0, 0, 0, 0, false, NULL },
};

static const struct ckey http_keys[] = {
        { "listen", C_STRING, AT(http_listen), 0, 0, 0, false, NULL },
        { NULL, 0, 0, 0, 0, 0, false, NULL },
};

static const struct ckey root_keys[] = {
        { "kafka", C_SECTION, 0, 0, 0, 0, true, kafka_keys },
        { "store", C_SECTION, 0, 0, 0, 0, false, store_keys },
        { "holds", C_SECTION, 0, 0, 0, 0, false, holds_keys },
        { "http", C_SECTION, 0, 0, 0, 0, false, http_keys },
        { "notify_extended_after_acceptance", C_BOOL, AT(notify_extended_after_acceptance), 0, 0, 0, false, NULL },
        { "notify_direct_deals", C_BOOL, AT(notify_direct_deals), 0, 0, 0, false, NULL },
        { "log_level", C_LEVEL, AT(log_level), 0, 0, 0, false, NULL },
        { NULL, 0, 0, 0, 0, 0, false, NULL },
};

struct loader {
        const char *path;
        char *text;          /* the file, for source lines */
        yaml_document_t doc;
        struct config *cfg;
        struct config_errors *errs;
};

/* ---- errors ---- */

static char *source_line(const char *text, int line)
{
        const char *p = text;
        size_t len;

        for (int i = 1; i < line && p; i++)
                if ((p = strchr(p, '\n')) != NULL)
                        p++;
        if (p == NULL)
                return NULL;
        len = strcspn(p, "\r\n");
        return strndup(p, len);
}

static void add_error(struct loader *L, yaml_mark_t mark, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_error(struct loader *L, yaml_mark_t mark, const char *fmt, ...)
{
        struct config_error *v = realloc(L->errs->v, (L->errs->n + 1) * sizeof *v);
        struct buf msg = BUF_INIT(1024);
        va_list ap;

        if (v == NULL)
                return; /* out of memory: the earlier errors still stand */
        L->errs->v = v;
        va_start(ap, fmt);
        buf_vprintf(&msg, fmt, ap);
        va_end(ap);
        v += L->errs->n++;
        v->file = strdup(L->path);
        v->line = (int)mark.line + 1;
        v->col = (int)mark.column + 1;
        v->message = buf_steal(&msg);
        v->source_line = L->text ? source_line(L->text, v->line) : NULL;
}

void config_errors_clear(struct config_errors *errs)
{
        for (size_t i = 0; i < errs->n; i++) {
                free(errs->v[i].file);
                free(errs->v[i].message);
                free(errs->v[i].source_line);
        }
        free(errs->v);
        errs->v = NULL;
        errs->n = 0;
}

void config_errors_print(const struct config_errors *errs, FILE *out)
{
        for (size_t i = 0; i < errs->n; i++) {
                const struct config_error *e = &errs->v[i];
                fprintf(out, "%s:%d:%d: %s\n", e->file ? e->file : "?", e->line, e->col,
                        e->message ? e->message : "out of memory");
                if (e->source_line)
                        fprintf(out, "    %s\n    %*s^\n", e->source_line, e->col - 1, "");
        }
}

/* ---- values ---- */

int config_parse_duration(const char *s, int64_t *out)
{
        static const struct {
                char unit;
                int64_t secs;
        } units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };
        char *end;
        long long v;

        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno || end == s || v < 0 || end[0] == '\0' || end[1] != '\0')
                return -EINVAL;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
                if (*end == units[i].unit) {
                        if (v > INT64_MAX / units[i].secs)
                                return -EINVAL;
                        *out = v * units[i].secs;
                        return 0;
                }
        }
        return -EINVAL;
}

/* The scalar's text with ${NAME} expanded; NULL after reporting an error. */
static char *expand(struct loader *L, yaml_node_t *n)
{
        const char *s = (const char *)n->data.scalar.value;
        struct buf out = BUF_INIT(CONFIG_MAX_BYTES);

        while (*s) {
                if (s[0] == '$' && s[1] == '$') {
                        buf_putc(&out, '$');
                        s += 2;
                } else if (s[0] == '$' && s[1] == '{') {
                        const char *close = strchr(s + 2, '}');
                        char name[128];
                        const char *value;
                        if (close == NULL || close == s + 2 || (size_t)(close - s - 2) >= sizeof name) {
                                add_error(L, n->start_mark, "unterminated or empty ${...} in \"%s\"",
                                          (const char *)n->data.scalar.value);
                                buf_deinit(&out);
                                return NULL;
                        }
                        memcpy(name, s + 2, (size_t)(close - s - 2));
                        name[close - s - 2] = '\0';
                        if ((value = getenv(name)) == NULL) {
                                add_error(L, n->start_mark, "environment variable \"%s\" is not set",
                                          name);
                                buf_deinit(&out);
                                return NULL;
                        }
                        buf_puts(&out, value);
                        s = close + 1;
                } else {
                        buf_putc(&out, *s++);
                }
        }
        if (out.data == NULL)
                return strdup("");
        return buf_steal(&out);
}

static void *slot(struct loader *L, size_t offset)
{
        return (char *)L->cfg + offset;
}

static bool want_scalar(struct loader *L, yaml_node_t *n, const char *what)
{
        if (n->type == YAML_SCALAR_NODE)
                return true;
        add_error(L, n->start_mark, "expected %s", what);
        return false;
}

static void set_string(struct loader *L, const struct ckey *k, yaml_node_t *n)
{
        char **dst = slot(L, k->offset), *v;

        if (!want_scalar(L, n, "a string") || (v = expand(L, n)) == NULL)
                return;
        free(*dst);
        *dst = v;
}

static void set_number(struct loader *L, const struct ckey *k, yaml_node_t *n)
{
        int64_t *dst = slot(L, k->offset), v = 0;
        char *text, *end;
        int bad;

        if (!want_scalar(L, n, k->type == C_INT ? "a number" : "a duration") ||
            (text = expand(L, n)) == NULL)
                return;
        errno = 0;
        if (k->type == C_INT) {
                v = strtoll(text, &end, 10);
                bad = errno || end == text || *end;
        } else {
                bad = config_parse_duration(text, &v) < 0;
        }
        if (bad)
                add_error(L, n->start_mark, "expected %s, got \"%s\"",
                          k->type == C_INT ? "a whole number" : "a duration like 90s, 30m, 72h or 3d",
                          text);
        else if (v < k->min || v > k->max)
                add_error(L, n->start_mark, "%s must be between %lld and %lld%s, got \"%s\"", k->key,
                          (long long)k->min, (long long)k->max,
                          k->type == C_DURATION ? " seconds" : "", text);
        else
                *dst = v;
        free(text);
}

static void set_choice(struct loader *L, const struct ckey *k, yaml_node_t *n)
{
        static const char *const levels[] = { "error", "warning", "notice", "info", "debug" };
        char *text;

        if (!want_scalar(L, n, "a string") || (text = expand(L, n)) == NULL)
                return;
        if (k->type == C_BOOL && (strcmp(text, "true") == 0 || strcmp(text, "false") == 0)) {
                *(bool *)slot(L, k->offset) = text[0] == 't';
        } else if (k->type == C_SYNC && (strcmp(text, "full") == 0 || strcmp(text, "normal") == 0)) {
                *(bool *)slot(L, k->offset) = text[0] == 'n';
        } else if (k->type == C_LEVEL) {
                size_t i = 0;
                while (i < 5 && strcmp(text, levels[i]) != 0)
                        i++;
                if (i == 5)
                        add_error(L, n->start_mark, "log_level must be one of error, warning, "
                                  "notice, info, debug, got \"%s\"", text);
                else
                        set_string(L, k, n);
        } else {
                add_error(L, n->start_mark, "expected %s, got \"%s\"",
                          k->type == C_BOOL ? "a boolean (true/false)" : "full or normal", text);
        }
        free(text);
}

/* Appends v to a (char **, size_t) pair; takes ownership. */
static void list_push(struct loader *L, const struct ckey *k, char *v)
{
        char ***list = slot(L, k->offset);
        size_t *n = slot(L, k->count_offset);
        char **grown = realloc(*list, (*n + 1) * sizeof *grown);

        if (grown == NULL) {
                free(v);
                return;
        }
        grown[(*n)++] = v;
        *list = grown;
}

static void set_list(struct loader *L, const struct ckey *k, yaml_node_t *n)
{
        size_t count = 0;

        if (n->type != YAML_SEQUENCE_NODE) {
                add_error(L, n->start_mark, "%s must be a list", k->key);
                return;
        }
        for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top;
             i++) {
                yaml_node_t *item = yaml_document_get_node(&L->doc, *i);
                char *v;
                if (item && want_scalar(L, item, "a string") && (v = expand(L, item)) != NULL) {
                        list_push(L, k, v);
                        count++;
                }
        }
        if ((int64_t)count < k->min)
                add_error(L, n->start_mark, "%s needs at least %lld entr%s", k->key,
                          (long long)k->min, k->min == 1 ? "y" : "ies");
}

static void set_map(struct loader *L, const struct ckey *k, yaml_node_t *n)
{
        if (n->type != YAML_MAPPING_NODE) {
                add_error(L, n->start_mark, "%s must be a mapping of names to values", k->key);
                return;
        }
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
                yaml_node_t *key = yaml_document_get_node(&L->doc, p->key);
                yaml_node_t *val = yaml_document_get_node(&L->doc, p->value);
                char *v;
                if (!key || !val || !want_scalar(L, key, "a property name") ||
                    !want_scalar(L, val, "a string value"))
                        continue;
                if ((v = expand(L, val)) == NULL)
                        continue;
                list_push(L, k, strdup((const char *)key->data.scalar.value));
                list_push(L, k, v);
        }
}

static void walk(struct loader *L, yaml_node_t *map, const struct ckey *table, const char *where);

static void set_value(struct loader *L, const struct ckey *k, yaml_node_t *n)
{
        switch (k->type) {
        case C_STRING: set_string(L, k, n); break;
        case C_INT:
        case C_DURATION: set_number(L, k, n); break;
        case C_BOOL:
        case C_SYNC:
        case C_LEVEL: set_choice(L, k, n); break;
        case C_LIST: set_list(L, k, n); break;
        case C_MAP: set_map(L, k, n); break;
        case C_SECTION: walk(L, n, k->section, k->key); break;
        }
}

static const struct ckey *find_key(const struct ckey *table, const char *name, size_t *index)
{
        for (*index = 0; table[*index].key; (*index)++)
                if (strcmp(table[*index].key, name) == 0)
                        return &table[*index];
        return NULL;
}

/* One mapping against its table: unknown and duplicate keys at the key,
 * missing required keys at the mapping. */
static void walk(struct loader *L, yaml_node_t *map, const struct ckey *table, const char *where)
{
        bool seen[CONFIG_MAX_KEYS] = { false };

        if (map->type != YAML_MAPPING_NODE) {
                add_error(L, map->start_mark, "%s must be a mapping (check the indentation)", where);
                return;
        }
        for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
             p++) {
                yaml_node_t *key = yaml_document_get_node(&L->doc, p->key);
                yaml_node_t *val = yaml_document_get_node(&L->doc, p->value);
                const struct ckey *k;
                size_t i;
                if (!key || !val || !want_scalar(L, key, "a key"))
                        continue;
                k = find_key(table, (const char *)key->data.scalar.value, &i);
                if (k == NULL)
                        add_error(L, key->start_mark, "unknown key \"%s\" in %s",
                                  (const char *)key->data.scalar.value, where);
                else if (seen[i])
                        add_error(L, key->start_mark, "duplicate key \"%s\" in %s", k->key, where);
                else {
                        seen[i] = true;
                        set_value(L, k, val);
                }
        }
        for (size_t i = 0; table[i].key; i++)
                if (table[i].required && !seen[i])
                        add_error(L, map->start_mark, "missing required key \"%s\" in %s",
                                  table[i].key, where);
}

/* ---- loading ---- */

static char *read_file(struct loader *L, size_t *len)
{
        FILE *f = fopen(L->path, "rb");
        struct buf b = BUF_INIT(CONFIG_MAX_BYTES);
        char chunk[4096];
        size_t n;
        yaml_mark_t start = { 0, 0, 0 };

        if (f == NULL) {
                add_error(L, start, "cannot open: %s", strerror(errno));
                return NULL;
        }
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
                if (buf_append(&b, chunk, n) < 0) {
                        add_error(L, start, "larger than %u bytes", CONFIG_MAX_BYTES);
                        fclose(f);
                        buf_deinit(&b);
                        return NULL;
                }
        }
        fclose(f);
        *len = b.len;
        return b.data ? buf_steal(&b) : strdup("");
}

static int set_defaults(struct config *c, const char *path)
{
        c->kafka.max_message_bytes = 1 << 20;
        c->offer_link_timeout = 72 * 3600;
        if (str_assign(&c->path, path) < 0 || str_assign(&c->kafka.group, "cppo-notify") < 0 ||
            str_assign(&c->store_path, "/var/lib/cppo-notify/state.db") < 0 ||
            str_assign(&c->http_listen, "127.0.0.1:9466") < 0 ||
            str_assign(&c->log_level, "info") < 0)
                return -ENOMEM;
        return 0;
}

static void parse(struct loader *L, size_t len)
{
        yaml_parser_t parser;
        yaml_node_t *root;

        yaml_parser_initialize(&parser);
        yaml_parser_set_input_string(&parser, (const unsigned char *)L->text, len);
        if (!yaml_parser_load(&parser, &L->doc)) {
                add_error(L, parser.problem_mark, "%s%s%s", parser.problem ? parser.problem : "invalid YAML",
                          parser.context ? " " : "", parser.context ? parser.context : "");
                yaml_parser_delete(&parser);
                memset(&L->doc, 0, sizeof L->doc);
                return;
        }
        yaml_parser_delete(&parser);
        root = yaml_document_get_root_node(&L->doc);
        if (root == NULL)
                add_error(L, parser.mark, "the configuration is empty");
        else
                walk(L, root, root_keys, "the configuration");
        yaml_document_delete(&L->doc);
}

int config_load(struct config **out, const char *path, struct config_errors *errs)
{
        struct loader L = { .path = path, .errs = errs };
        size_t len = 0;

        errs->v = NULL;
        errs->n = 0;
        L.cfg = calloc(1, sizeof *L.cfg);
        if (L.cfg == NULL || set_defaults(L.cfg, path) < 0) {
                config_free(L.cfg);
                return -ENOMEM;
        }
        L.text = read_file(&L, &len);
        if (L.text)
                parse(&L, len);
        free(L.text);
        if (errs->n) {
                config_free(L.cfg);
                return -EINVAL;
        }
        *out = L.cfg;
        return 0;
}

static void free_list(char **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

void config_free(struct config *c)
{
        if (c == NULL)
                return;
        free(c->path);
        free(c->kafka.brokers);
        free_list(c->kafka.topics, c->kafka.n_topics);
        free(c->kafka.group);
        free_list(c->kafka.properties, c->kafka.n_properties);
        free(c->kafka.dead_letter_topic);
        free(c->store_path);
        free(c->http_listen);
        free(c->log_level);
        free(c);
}
