/* cppo-notify — metrics registry, rendered in the Prometheus text format.
 *
 * Metrics are declared once (name, help, label names) and updated by any
 * thread; rendering takes a consistent snapshot under the registry's lock.
 * Label values are escaped as the format requires, so event data (a
 * receiver name, a reason) cannot break the exposition.
 *
 *     struct metric *rej = metrics_counter(m, "cppo_events_rejected_total",
 *                                          "Rejected inputs by reason.", "reason");
 *     metric_add(rej, (const char *[]){ "invalid_json" }, 1);
 */
#ifndef CPPO_METRICS_H
#define CPPO_METRICS_H

#include "cppo/error.h"

#include "cppo/buf.h"

#include <stddef.h>

struct metrics;
struct metric;

#define METRICS_MAX_LABELS 4
#define METRICS_MAX_SERIES 1024 /* per metric; further label sets are dropped */

CPPO_MUST_CHECK int metrics_new(struct metrics **out);
void metrics_free(struct metrics *m);

/* Declares a metric. `labels` is a comma-separated list of label names or
 * NULL. Returns NULL on -ENOMEM or a bad declaration. The metric lives as
 * long as the registry. */
struct metric *metrics_counter(struct metrics *m, const char *name, const char *help,
                               const char *labels);
struct metric *metrics_gauge(struct metrics *m, const char *name, const char *help,
                             const char *labels);
/* Upper bounds in ascending order (+Inf is implicit). */
struct metric *metrics_histogram(struct metrics *m, const char *name, const char *help,
                                 const char *labels, const double *bounds, size_t n_bounds);

/* `values` holds one value per declared label (NULL when there are none). */
void metric_add(struct metric *x, const char *const *values, double v);
void metric_set(struct metric *x, const char *const *values, double v);
void metric_observe(struct metric *x, const char *const *values, double v);
/* Current value of a counter or gauge series (0 when absent); for tests. */
double metric_value(struct metric *x, const char *const *values);

/* Appends the whole registry in the Prometheus text format 0.0.4. */
CPPO_MUST_CHECK int metrics_render(struct metrics *m, struct buf *out);

#endif
