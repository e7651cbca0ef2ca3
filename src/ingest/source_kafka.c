/* cppo-notify — Kafka source (see include/cppo/source_kafka.h). */
#include "cppo/source_kafka.h"

#include "cppo/clock.h"
#include "cppo/error.h"
#include "cppo/log.h"

#include <librdkafka/rdkafka.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* librdkafka's property table is about 100 KiB; more means a format we do
 * not know, and then every property is passed. */
#define PROPERTY_TABLE_MAX (4u << 20)

struct source_kafka {
        rd_kafka_t *rk;
        rd_kafka_topic_partition_list_t *pending; /* next offset per partition */
        size_t max_message_bytes;
        size_t n_assigned;
        bool ever_assigned;
        bool fatal;
        struct metric *offset_resets;
        _Atomic uint64_t n_offset_resets; /* written from librdkafka's threads */
};

/* Defaults applied before the user's properties, which may override them. */
static const char *const default_properties[] = {
        "enable.auto.offset.store",
        "false",
        "enable.auto.commit",
        "true",
        "auto.commit.interval.ms",
        "1000",
        "auto.offset.reset",
        "earliest", /* a new group must not skip old deals */
        "enable.partition.eof",
        "false",
        "client.id",
        "cppo-notify",
        /* How long the broker may hold a fetch that found nothing (librdkafka:
         * 500). A broker answers as soon as data arrives, so this costs idle
         * fetch requests (1000/50 = 20 per second per broker), not latency;
         * but brokers that answer only when the wait ends (librdkafka's mock
         * cluster) add up to this much to every event: the e2e benchmark's
         * p99 falls from 504 to 58 ms. */
        "fetch.wait.max.ms",
        "50",
};

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
        struct source_kafka *k = opaque;
        char why[512];

        if (err != RD_KAFKA_RESP_ERR__FATAL) {
                log_warn("kafka error code=%s reason=\"%s\"", rd_kafka_err2name(err), reason);
                return;
        }
        err = rd_kafka_fatal_error(rk, why, sizeof why);
        log_error("kafka fatal error, shutting down code=%s reason=\"%s\"", rd_kafka_err2name(err),
                  why);
        k->fatal = true;
}

void source_kafka_log_cb(const struct rd_kafka_s *rk, int level, const char *facility,
                         const char *text)
{
        log_library(level, "kafka log", facility, text, __FILE__, __LINE__);
}

/* librdkafka logs "TOPIC [P]: offset reset (at offset N, broker B) to
 * END: fetch failed due to requested offset not available..." as a
 * warning when a fetch was out of range; the initial reset of a new group
 * is only a debug line. */
static bool is_offset_reset(int level, const char *facility, const char *text)
{
        return level <= LOG_LEVEL_WARNING && facility != NULL && strcmp(facility, "OFFSET") == 0 &&
               text != NULL && strstr(text, ": offset reset (") != NULL;
}

static void consumer_log_cb(const rd_kafka_t *rk, int level, const char *facility, const char *text)
{
        struct source_kafka *k = rd_kafka_opaque(rk);

        if (k == NULL || !is_offset_reset(level, facility, text)) {
                source_kafka_log_cb(rk, level, facility, text);
                return;
        }
        atomic_fetch_add(&k->n_offset_resets, 1);
        if (k->offset_resets)
                metric_add(k->offset_resets, NULL, 1);
        log_library(LOG_LEVEL_WARNING, "kafka offset reset, messages may have been skipped",
                    facility, text, __FILE__, __LINE__);
}

uint64_t source_kafka_offset_resets(const struct source_kafka *k)
{
        return atomic_load(&((struct source_kafka *)k)->n_offset_resets);
}

/* The C/P column of the row for `name` in librdkafka's property table
 * ("name | C/P | range | default | importance | description"). */
static int scope_in_table(const char *table, const char *name)
{
        size_t n = strlen(name);
        const char *line = table;

        while (line != NULL && *line != '\0') {
                const char *bar = strchr(line, '|'), *next = strchr(line, '\n');
                if (bar != NULL && (next == NULL || bar < next) && strncmp(line, name, n) == 0 &&
                    (line[n] == ' ' || line[n] == '|')) {
                        for (const char *p = bar + 1; *p && *p != '|' && *p != '\n'; p++)
                                if (*p == 'C' || *p == 'P' || *p == '*')
                                        return *p;
                }
                line = next != NULL ? next + 1 : NULL;
        }
        return 0;
}

int source_kafka_property_scope(const char *name)
{
        char *table = NULL;
        size_t len = 0;
        int scope = 0;
        FILE *f = open_memstream(&table, &len);

        if (f == NULL)
                return 0;
        rd_kafka_conf_properties_show(f);
        if (fclose(f) == 0 && table != NULL && len <= PROPERTY_TABLE_MAX)
                scope = scope_in_table(table, name);
        free(table);
        return scope;
}

bool source_kafka_property_applies(const char *name, int kind)
{
        int scope = source_kafka_property_scope(name);

        return scope == 0 || scope == '*' || scope == kind;
}

static void refresh_assignment(struct source_kafka *k)
{
        rd_kafka_topic_partition_list_t *now = NULL;

        if (rd_kafka_assignment(k->rk, &now) == RD_KAFKA_RESP_ERR_NO_ERROR && now) {
                k->n_assigned = (size_t)now->cnt;
                if (now->cnt > 0)
                        k->ever_assigned = true;
                rd_kafka_topic_partition_list_destroy(now);
        }
}

/* Revoked partitions will be re-read by their next owner from the last
 * committed offset, so what we handled but did not yet make durable must
 * not be stored afterwards. */
static void forget_pending(struct source_kafka *k, const rd_kafka_topic_partition_list_t *parts)
{
        for (int i = 0; i < parts->cnt; i++)
                rd_kafka_topic_partition_list_del(k->pending, parts->elems[i].topic,
                                                  parts->elems[i].partition);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
        struct source_kafka *k = opaque;
        bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
        rd_kafka_error_t *error = NULL;
        rd_kafka_resp_err_t ret = RD_KAFKA_RESP_ERR_NO_ERROR;

        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                if (cooperative)
                        error = rd_kafka_incremental_assign(rk, parts);
                else
                        ret = rd_kafka_assign(rk, parts);
                log_info("kafka partitions assigned count=%d protocol=%s", parts->cnt,
                         cooperative ? "cooperative" : "eager");
        } else {
                forget_pending(k, parts);
                if (cooperative)
                        error = rd_kafka_incremental_unassign(rk, parts);
                else
                        ret = rd_kafka_assign(rk, NULL);
                log_info("kafka partitions revoked count=%d", parts->cnt);
        }
        if (error) {
                log_error("kafka rebalance failed reason=\"%s\"", rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
        } else if (ret) {
                log_error("kafka rebalance failed reason=\"%s\"", rd_kafka_err2str(ret));
        }
        refresh_assignment(k);
}

static int set_property(rd_kafka_conf_t *conf, const char *name, const char *value, char *err,
                        size_t errlen)
{
        char ignored[512];

        switch (rd_kafka_conf_set(conf, name, value, ignored, sizeof ignored)) {
        case RD_KAFKA_CONF_OK: return 0;
        case RD_KAFKA_CONF_UNKNOWN:
                return error_set(err, errlen, -EINVAL, "unknown kafka property \"%s\"", name);
        default:
                /* librdkafka's message quotes the value, which may be a secret */
                return error_set(err, errlen, -EINVAL, "invalid value for kafka property \"%s\"",
                                 name);
        }
}

static int build_conf(rd_kafka_conf_t **out, struct source_kafka *k,
                      const struct source_kafka_options *o, char *err, size_t errlen)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        size_t n_defaults = sizeof default_properties / sizeof default_properties[0];
        int r = 0;

        if (conf == NULL)
                return -ENOMEM;
        for (size_t i = 0; r == 0 && i < n_defaults; i += 2)
                r = set_property(conf, default_properties[i], default_properties[i + 1], err,
                                 errlen);
        if (r == 0)
                r = set_property(conf, "bootstrap.servers", o->brokers, err, errlen);
        if (r == 0)
                r = set_property(conf, "group.id", o->group, err, errlen);
        for (size_t i = 0; r == 0 && i < o->n_properties; i++) {
                const char *name = o->properties[2 * i];
                if (!source_kafka_property_applies(name, 'C')) {
                        log_debug("kafka property is for producers, not passed to the consumer "
                                  "name=%s",
                                  name);
                        continue;
                }
                r = set_property(conf, name, o->properties[2 * i + 1], err, errlen);
        }
        if (r < 0) {
                rd_kafka_conf_destroy(conf);
                return r;
        }
        rd_kafka_conf_set_opaque(conf, k);
        rd_kafka_conf_set_log_cb(conf, consumer_log_cb);
        rd_kafka_conf_set_error_cb(conf, on_error);
        rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
        *out = conf;
        return 0;
}

static int subscribe(struct source_kafka *k, const struct source_kafka_options *o, char *err,
                     size_t errlen)
{
        rd_kafka_topic_partition_list_t *topics;
        rd_kafka_resp_err_t e;

        topics = rd_kafka_topic_partition_list_new((int)o->n_topics);
        if (topics == NULL)
                return -ENOMEM;
        for (size_t i = 0; i < o->n_topics; i++)
                rd_kafka_topic_partition_list_add(topics, o->topics[i], RD_KAFKA_PARTITION_UA);
        e = rd_kafka_subscribe(k->rk, topics);
        rd_kafka_topic_partition_list_destroy(topics);
        if (e)
                return error_set(err, errlen, -EINVAL, "cannot subscribe: %s", rd_kafka_err2str(e));
        return 0;
}

int source_kafka_new(struct source_kafka **out, const struct source_kafka_options *o, char *err,
                     size_t errlen)
{
        struct source_kafka *k;
        rd_kafka_conf_t *conf = NULL;
        char why[512];
        int r;

        if (o->brokers == NULL || o->group == NULL || o->n_topics == 0)
                return error_set(err, errlen, -EINVAL, "kafka needs brokers, a group and a topic");
        k = calloc(1, sizeof *k);
        if (k == NULL)
                return -ENOMEM;
        k->max_message_bytes = o->max_message_bytes ? o->max_message_bytes : 1u << 20;
        k->offset_resets = o->offset_resets;
        k->pending = rd_kafka_topic_partition_list_new(8);
        r = k->pending ? build_conf(&conf, k, o, err, errlen) : -ENOMEM;
        if (r < 0)
                goto fail;
        k->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
        if (k->rk == NULL) {
                rd_kafka_conf_destroy(conf);
                r = error_set(err, errlen, -EINVAL, "cannot create kafka consumer: %s", why);
                goto fail;
        }
        rd_kafka_poll_set_consumer(k->rk);
        r = subscribe(k, o, err, errlen);
        if (r < 0)
                goto fail;
        *out = k;
        return 0;
fail:
        source_kafka_free(k);
        return r;
}

void source_kafka_free(struct source_kafka *k)
{
        if (k == NULL)
                return;
        if (k->rk) {
                rd_kafka_resp_err_t e = rd_kafka_consumer_close(k->rk);
                if (e)
                        log_warn("kafka close failed reason=\"%s\"", rd_kafka_err2str(e));
                rd_kafka_destroy(k->rk);
        }
        if (k->pending)
                rd_kafka_topic_partition_list_destroy(k->pending);
        free(k);
}

static void remember_offset(struct source_kafka *k, const rd_kafka_message_t *m)
{
        const char *topic = rd_kafka_topic_name(m->rkt);
        rd_kafka_topic_partition_t *p;

        p = rd_kafka_topic_partition_list_find(k->pending, topic, m->partition);
        if (p == NULL)
                p = rd_kafka_topic_partition_list_add(k->pending, topic, m->partition);
        if (m->offset + 1 > p->offset)
                p->offset = m->offset + 1;
}

static int hand_over(struct source_kafka *k, const rd_kafka_message_t *m, source_handler_fn fn,
                     void *ctx)
{
        struct raw_message raw = {
                .data = m->payload ? m->payload : "",
                .len = m->len,
                .coord = { rd_kafka_topic_name(m->rkt), m->partition, m->offset },
                .received_at = clock_wall_s(),
        };
        int r;

        if (raw.len > k->max_message_bytes) {
                raw.size = raw.len;
                raw.len = k->max_message_bytes;
                raw.truncated = 1;
        }
        r = fn(ctx, &raw);
        if (r >= 0)
                remember_offset(k, m);
        return r;
}

int source_kafka_poll_batch(struct source_kafka *k, size_t max, int timeout_ms,
                            source_handler_fn fn, void *ctx)
{
        int64_t deadline = clock_mono_ms() + timeout_ms;
        size_t handled = 0;

        while (handled < max && !k->fatal) {
                int64_t left = deadline - clock_mono_ms();
                rd_kafka_message_t *m;
                int r = 0;

                /* Once something arrived, only drain what is already there. */
                m = rd_kafka_consumer_poll(k->rk, handled ? 0 : (int)(left > 0 ? left : 0));
                if (m == NULL)
                        break;
                if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                        r = hand_over(k, m, fn, ctx);
                        handled++;
                } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                        log_warn("kafka consume error code=%s reason=\"%s\"",
                                 rd_kafka_err2name(m->err), rd_kafka_message_errstr(m));
                }
                rd_kafka_message_destroy(m);
                if (r < 0)
                        return r;
        }
        if (handled > 0) /* the e2e benchmark times the stages after this line */
                log_debug("kafka batch messages=%zu", handled);
        return k->fatal ? -ECANCELED : (int)handled;
}

int source_kafka_store_offsets(struct source_kafka *k)
{
        rd_kafka_topic_partition_list_t *fresh;
        rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;

        if (k->pending->cnt == 0)
                return 0;
        fresh = rd_kafka_topic_partition_list_new(8);
        if (fresh == NULL)
                return -ENOMEM;
        e = rd_kafka_offsets_store(k->rk, k->pending);
        for (int i = 0; i < k->pending->cnt; i++) {
                const rd_kafka_topic_partition_t *p = &k->pending->elems[i];
                /* __STATE: the partition was revoked meanwhile; its next
                 * owner re-reads it. Anything else is worth a line. */
                if (p->err && p->err != RD_KAFKA_RESP_ERR__STATE)
                        log_warn("kafka offset store failed topic=%s partition=%d code=%s",
                                 p->topic, (int)p->partition, rd_kafka_err2name(p->err));
        }
        rd_kafka_topic_partition_list_destroy(k->pending);
        k->pending = fresh;
        return e && e != RD_KAFKA_RESP_ERR__STATE ? -EIO : 0;
}

int source_kafka_commit(struct source_kafka *k)
{
        rd_kafka_resp_err_t e = rd_kafka_commit(k->rk, NULL, 0);

        if (e == RD_KAFKA_RESP_ERR_NO_ERROR || e == RD_KAFKA_RESP_ERR__NO_OFFSET)
                return 0;
        log_warn("kafka commit failed code=%s", rd_kafka_err2name(e));
        return -EIO;
}

int source_kafka_property_value(const struct source_kafka *k, const char *name, char *buf,
                                size_t len)
{
        size_t size = len;

        if (rd_kafka_conf_get(rd_kafka_conf(k->rk), name, buf, &size) != RD_KAFKA_CONF_OK)
                return -ENOENT;
        return size > len ? -ENOSPC : 0;
}

bool source_kafka_assigned(const struct source_kafka *k)
{
        return k->ever_assigned && k->n_assigned > 0;
}

size_t source_kafka_assignment_size(const struct source_kafka *k)
{
        return k->n_assigned;
}

bool source_kafka_failed(const struct source_kafka *k)
{
        return k->fatal;
}

static int64_t partition_lag(rd_kafka_t *rk, const rd_kafka_topic_partition_t *p)
{
        int64_t lo = -1, hi = -1;

        if (p->err || p->offset < 0)
                return -1; /* nothing consumed yet: no position */
        if (rd_kafka_get_watermark_offsets(rk, p->topic, p->partition, &lo, &hi) || hi < 0)
                return -1;
        return hi > p->offset ? hi - p->offset : 0;
}

int source_kafka_lag(struct source_kafka *k, source_kafka_lag_fn fn, void *ctx)
{
        rd_kafka_topic_partition_list_t *parts = NULL;
        int n = 0;

        if (rd_kafka_assignment(k->rk, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR || parts == NULL)
                return -EIO;
        /* Fills each partition's offset with the position, locally. */
        rd_kafka_position(k->rk, parts);
        for (int i = 0; i < parts->cnt; i++) {
                int64_t lag = partition_lag(k->rk, &parts->elems[i]);
                if (lag < 0)
                        continue;
                fn(ctx, parts->elems[i].topic, parts->elems[i].partition, lag);
                n++;
        }
        rd_kafka_topic_partition_list_destroy(parts);
        return n;
}
