/* cppo-notify — metrics registry (see include/cppo/metrics.h). */
#include "cppo/metrics.h"

#include "cppo/error.h"

#include <stdio.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

struct series {
        char *values[METRICS_MAX_LABELS];
        double value;    /* counter/gauge; histogram: sum */
        double count;    /* histogram observations */
        double *buckets; /* histogram: cumulative counts per bound */
};

struct metric {
        struct metrics *owner;
        enum metric_type type;
        char *name, *help;
        char *labels[METRICS_MAX_LABELS];
        size_t n_labels;
        double *bounds;
        size_t n_bounds;
        struct series *series;
        size_t n_series;
};

struct metrics {
        pthread_mutex_t lock;
        struct metric **list;
        size_t n;
};

int metrics_new(struct metrics **out)
{
        struct metrics *m = calloc(1, sizeof *m);

        if (m == NULL)
                return -ENOMEM;
        pthread_mutex_init(&m->lock, NULL);
        *out = m;
        return 0;
}

static void series_clear(struct metric *x, struct series *s)
{
        for (size_t i = 0; i < x->n_labels; i++)
                free(s->values[i]);
        free(s->buckets);
}

static void metric_free(struct metric *x)
{
        for (size_t i = 0; i < x->n_series; i++)
                series_clear(x, &x->series[i]);
        for (size_t i = 0; i < x->n_labels; i++)
                free(x->labels[i]);
        free(x->series);
        free(x->bounds);
        free(x->name);
        free(x->help);
        free(x);
}

void metrics_free(struct metrics *m)
{
        if (m == NULL)
                return;
        for (size_t i = 0; i < m->n; i++)
                metric_free(m->list[i]);
        free(m->list);
        pthread_mutex_destroy(&m->lock);
        free(m);
}

static int split_labels(struct metric *x, const char *labels)
{
        const char *p = labels;

        while (p && *p) {
                size_t n = strcspn(p, ",");
                if (x->n_labels == METRICS_MAX_LABELS || n == 0)
                        return -EINVAL;
                x->labels[x->n_labels] = strndup(p, n);
                if (x->labels[x->n_labels] == NULL)
                        return -ENOMEM;
                x->n_labels++;
                p += n + (p[n] == ',');
        }
        return 0;
}

static struct metric *declare(struct metrics *m, enum metric_type type, const char *name,
                              const char *help, const char *labels)
{
        struct metric *x = calloc(1, sizeof *x);
        struct metric **list;

        if (x == NULL)
                return NULL;
        x->owner = m;
        x->type = type;
        x->name = strdup(name);
        x->help = strdup(help);
        if (x->name == NULL || x->help == NULL || split_labels(x, labels) < 0)
                goto fail;
        pthread_mutex_lock(&m->lock);
        list = realloc(m->list, (m->n + 1) * sizeof *list);
        if (list) {
                list[m->n++] = x;
                m->list = list;
        }
        pthread_mutex_unlock(&m->lock);
        if (list == NULL)
                goto fail;
        return x;
fail:
        metric_free(x);
        return NULL;
}

struct metric *metrics_counter(struct metrics *m, const char *name, const char *help,
                               const char *labels)
{
        return declare(m, METRIC_COUNTER, name, help, labels);
}

struct metric *metrics_gauge(struct metrics *m, const char *name, const char *help,
                             const char *labels)
{
        return declare(m, METRIC_GAUGE, name, help, labels);
}

struct metric *metrics_histogram(struct metrics *m, const char *name, const char *help,
                                 const char *labels, const double *bounds, size_t n_bounds)
{
        struct metric *x = declare(m, METRIC_HISTOGRAM, name, help, labels);

        if (x == NULL || n_bounds == 0)
                return x;
        x->bounds = malloc(n_bounds * sizeof *x->bounds);
        if (x->bounds == NULL)
                return NULL; /* stays owned by the registry, unusable */
        memcpy(x->bounds, bounds, n_bounds * sizeof *bounds);
        x->n_bounds = n_bounds;
        return x;
}

static bool series_matches(const struct metric *x, const struct series *s,
                           const char *const *values)
{
        for (size_t i = 0; i < x->n_labels; i++)
                if (strcmp(s->values[i], values[i] ? values[i] : "") != 0)
                        return false;
        return true;
}

static int series_init(struct metric *x, struct series *s, const char *const *values)
{
        memset(s, 0, sizeof *s);
        for (size_t i = 0; i < x->n_labels; i++)
                if ((s->values[i] = strdup(values[i] ? values[i] : "")) == NULL)
                        return -ENOMEM;
        if (x->n_bounds && (s->buckets = calloc(x->n_bounds, sizeof *s->buckets)) == NULL)
                return -ENOMEM;
        return 0;
}

/* The series for these label values, created on first use; NULL when out
 * of memory or past METRICS_MAX_SERIES. Called with the lock held. */
static struct series *find_series(struct metric *x, const char *const *values)
{
        struct series *grown;

        for (size_t i = 0; i < x->n_series; i++)
                if (series_matches(x, &x->series[i], values))
                        return &x->series[i];
        if (x->n_series == METRICS_MAX_SERIES)
                return NULL;
        grown = realloc(x->series, (x->n_series + 1) * sizeof *grown);
        if (grown == NULL)
                return NULL;
        x->series = grown;
        if (series_init(x, &grown[x->n_series], values) < 0) {
                series_clear(x, &grown[x->n_series]);
                return NULL;
        }
        return &grown[x->n_series++];
}

static void update(struct metric *x, const char *const *values, double v, int op)
{
        struct series *s;

        if (x == NULL)
                return;
        pthread_mutex_lock(&x->owner->lock);
        s = find_series(x, values);
        if (s && op == 0)
                s->value += v;
        else if (s && op == 1)
                s->value = v;
        else if (s) {
                s->value += v;
                s->count += 1;
                for (size_t i = 0; i < x->n_bounds; i++)
                        if (v <= x->bounds[i])
                                s->buckets[i] += 1;
        }
        pthread_mutex_unlock(&x->owner->lock);
}

void metric_add(struct metric *x, const char *const *values, double v)
{
        update(x, values, v, 0);
}

void metric_set(struct metric *x, const char *const *values, double v)
{
        update(x, values, v, 1);
}

void metric_observe(struct metric *x, const char *const *values, double v)
{
        update(x, values, v, 2);
}

double metric_value(struct metric *x, const char *const *values)
{
        double v = 0;

        pthread_mutex_lock(&x->owner->lock);
        for (size_t i = 0; i < x->n_series; i++)
                if (series_matches(x, &x->series[i], values))
                        v = x->series[i].value;
        pthread_mutex_unlock(&x->owner->lock);
        return v;
}

/* Label values: backslash, double quote and newline are escaped. */
static int put_label_value(struct buf *out, const char *v)
{
        int r = 0;

        for (; r == 0 && *v; v++) {
                if (*v == '\\' || *v == '"')
                        r = buf_printf(out, "\\%c", *v);
                else if (*v == '\n')
                        r = buf_puts(out, "\\n");
                else
                        r = buf_putc(out, *v);
        }
        return r;
}

/* {a="x",b="y"[,le="0.5"]} or nothing. */
static int put_labels(struct buf *out, const struct metric *x, const struct series *s,
                      const char *le)
{
        int r = 0;

        if (x->n_labels == 0 && le == NULL)
                return 0;
        r = buf_putc(out, '{');
        for (size_t i = 0; r == 0 && i < x->n_labels; i++) {
                r = buf_printf(out, "%s%s=\"", i ? "," : "", x->labels[i]);
                if (r == 0)
                        r = put_label_value(out, s->values[i]);
                if (r == 0)
                        r = buf_putc(out, '"');
        }
        if (r == 0 && le)
                r = buf_printf(out, "%sle=\"%s\"", x->n_labels ? "," : "", le);
        return r ? r : buf_putc(out, '}');
}

static int put_sample(struct buf *out, const struct metric *x, const struct series *s,
                      const char *suffix, const char *le, double v)
{
        int r = buf_printf(out, "%s%s", x->name, suffix);

        if (r == 0)
                r = put_labels(out, x, s, le);
        return r ? r : buf_printf(out, " %.17g\n", v);
}

static int render_histogram(struct buf *out, const struct metric *x, const struct series *s)
{
        char le[32];
        int r = 0;

        for (size_t i = 0; r == 0 && i < x->n_bounds; i++) {
                snprintf(le, sizeof le, "%.17g", x->bounds[i]);
                r = put_sample(out, x, s, "_bucket", le, s->buckets[i]);
        }
        if (r == 0)
                r = put_sample(out, x, s, "_bucket", "+Inf", s->count);
        if (r == 0)
                r = put_sample(out, x, s, "_sum", NULL, s->value);
        return r ? r : put_sample(out, x, s, "_count", NULL, s->count);
}

static const char *type_name(enum metric_type t)
{
        return t == METRIC_COUNTER ? "counter" : t == METRIC_GAUGE ? "gauge" : "histogram";
}

static int render_metric(struct buf *out, const struct metric *x)
{
        int r = buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", x->name, x->help, x->name,
                           type_name(x->type));

        /* A metric without labels shows 0 before its first update. */
        if (r == 0 && x->n_series == 0 && x->n_labels == 0 && x->type != METRIC_HISTOGRAM)
                r = buf_printf(out, "%s 0\n", x->name);
        for (size_t i = 0; r == 0 && i < x->n_series; i++) {
                if (x->type == METRIC_HISTOGRAM)
                        r = render_histogram(out, x, &x->series[i]);
                else
                        r = put_sample(out, x, &x->series[i], "", NULL, x->series[i].value);
        }
        return r;
}

int metrics_render(struct metrics *m, struct buf *out)
{
        int r = 0;

        pthread_mutex_lock(&m->lock);
        for (size_t i = 0; r == 0 && i < m->n; i++)
                r = render_metric(out, m->list[i]);
        pthread_mutex_unlock(&m->lock);
        return r;
}
