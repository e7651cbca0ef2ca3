/* cppo-notify — dead-letter topic producer (see include/cppo/dlq.h). */
#include "cppo/dlq.h"

#include "cppo/error.h"
#include "cppo/log.h"
#include "cppo/source_kafka.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dlq {
        rd_kafka_t *rk;
        char *topic;
        int failed; /* deliveries failed since the last flush */
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
        struct dlq *d = opaque;

        if (m->err) {
                d->failed++;
                log_error("dead-letter delivery failed topic=%s code=%s", d->topic,
                          rd_kafka_err2name(m->err));
        }
}

void dlq_header_safe(char *out, size_t outsz, const char *s)
{
        size_t i = 0;

        if (outsz == 0)
                return;
        for (; s && s[i] && i + 1 < outsz; i++)
                out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
        out[i] = '\0';
}

static int dlq_conf(rd_kafka_conf_t *conf, const char *name, const char *value, char *err,
                    size_t errlen)
{
        char ignored[512];

        if (rd_kafka_conf_set(conf, name, value, ignored, sizeof ignored) == RD_KAFKA_CONF_OK)
                return 0;
        return error_set(err, errlen, -EINVAL,
                         "invalid kafka property \"%s\" for the dead-letter "
                         "producer",
                         name);
}

int dlq_new(struct dlq **out, const char *brokers, const char *topic, const char *const *properties,
            size_t n_properties, char *err, size_t errlen)
{
        rd_kafka_conf_t *conf = NULL;
        char why[512];
        struct dlq *d = calloc(1, sizeof *d);
        int r = -ENOMEM;

        if (d == NULL || (d->topic = strdup(topic)) == NULL || (conf = rd_kafka_conf_new()) == NULL)
                goto fail;
        r = dlq_conf(conf, "bootstrap.servers", brokers, err, errlen);
        for (size_t i = 0; r == 0 && i < n_properties; i++) {
                /* kafka.properties are mostly for the consumer; librdkafka
                 * would ignore those here with a warning on every start */
                if (!source_kafka_property_applies(properties[2 * i], 'P'))
                        continue;
                r = dlq_conf(conf, properties[2 * i], properties[2 * i + 1], err, errlen);
        }
        if (r < 0)
                goto fail;
        rd_kafka_conf_set_opaque(conf, d);
        rd_kafka_conf_set_log_cb(conf, source_kafka_log_cb);
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        d->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
        if (d->rk == NULL) {
                r = error_set(err, errlen, -EINVAL, "cannot create dead-letter producer: %s", why);
                goto fail;
        }
        *out = d;
        return 0;
fail:
        if (conf && (d == NULL || d->rk == NULL))
                rd_kafka_conf_destroy(conf);
        dlq_free(d);
        return r;
}

void dlq_free(struct dlq *d)
{
        if (d == NULL)
                return;
        if (d->rk) {
                if (rd_kafka_flush(d->rk, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR)
                        log_error("dead-letter messages still queued at shutdown topic=%s",
                                  d->topic);
                rd_kafka_destroy(d->rk);
        }
        free(d->topic);
        free(d);
}

static rd_kafka_headers_t *dlq_headers(const struct raw_message *msg, const char *reason,
                                       const char *message)
{
        rd_kafka_headers_t *h = rd_kafka_headers_new(3);
        char safe[257], origin[512];

        if (h == NULL)
                return NULL;
        if (msg->coord.partition >= 0)
                snprintf(origin, sizeof origin, "%s/%d/%lld",
                         msg->coord.origin ? msg->coord.origin : "", (int)msg->coord.partition,
                         (long long)msg->coord.offset);
        else
                snprintf(origin, sizeof origin, "%s:%lld",
                         msg->coord.origin ? msg->coord.origin : "", (long long)msg->coord.offset);
        dlq_header_safe(safe, sizeof safe, reason);
        rd_kafka_header_add(h, "cppo-reason", -1, safe, -1);
        dlq_header_safe(safe, sizeof safe, message);
        rd_kafka_header_add(h, "cppo-message", -1, safe, -1);
        dlq_header_safe(safe, sizeof safe, origin);
        rd_kafka_header_add(h, "cppo-origin", -1, safe, -1);
        return h;
}

int dlq_send(struct dlq *d, const struct raw_message *msg, const char *reason, const char *message)
{
        rd_kafka_headers_t *h = dlq_headers(msg, reason, message);
        rd_kafka_resp_err_t e;

        if (h == NULL)
                return -ENOMEM;
        e = rd_kafka_producev(
            d->rk, RD_KAFKA_V_TOPIC(d->topic), RD_KAFKA_V_VALUE((void *)msg->data, msg->len),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
        if (e) {
                rd_kafka_headers_destroy(h); /* ownership passes only on success */
                log_error("dead-letter produce failed topic=%s code=%s", d->topic,
                          rd_kafka_err2name(e));
                return -EIO;
        }
        rd_kafka_poll(d->rk, 0);
        return 0;
}

int dlq_flush(struct dlq *d, int timeout_ms)
{
        int failed;

        if (rd_kafka_flush(d->rk, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR)
                return -ETIMEDOUT;
        failed = d->failed;
        d->failed = 0;
        return failed;
}
