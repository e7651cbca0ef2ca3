/* cppo-notify — the operations HTTP endpoint (libmicrohttpd).
 *
 *   GET /metrics   Prometheus text format, rendered by a callback
 *   GET /healthz   200 "ok" while the process serves requests
 *   GET /readyz    200 "ready" or 503 "not ready" from a callback
 *                  (the daemon: consumer assigned and store writable).
 *                  With a role callback (high availability) the body
 *                  names it: a standby answers 200 "role=standby" (it is
 *                  healthy and doing its job, waiting; a 503 would make
 *                  a load balancer or orchestrator restart or page for
 *                  a correct standby), the leader "ready role=leader" or
 *                  503 "not ready role=leader".
 *
 * Listens on a loopback address only unless the caller allows otherwise;
 * served by libmicrohttpd's own thread, so callbacks must be thread-safe.
 */
#ifndef CPPO_HTTP_H
#define CPPO_HTTP_H

#include "cppo/error.h"

#include "cppo/buf.h"

#include <stdbool.h>
#include <stdint.h>

struct http_server;

struct http_handlers {
        int (*metrics)(void *ctx, struct buf *out); /* 0 or negative errno */
        bool (*ready)(void *ctx);
        void *ctx;
        /* "leader" or "standby", or NULL without high availability; may be
         * NULL. Called on the server's thread with ctx. */
        const char *(*role)(void *ctx);
};

/* listen: "127.0.0.1:9466", "[::1]:9466" or "localhost:0" (port 0: any
 * free port, see http_server_port()). */
CPPO_MUST_CHECK int http_server_start(struct http_server **out, const char *listen,
                                      bool allow_non_loopback, const struct http_handlers *h,
                                      char *err, size_t errlen);
void http_server_stop(struct http_server *s);
uint16_t http_server_port(const struct http_server *s);

/* Parses "host:port" / "[v6]:port" into a loopback check and a port.
 * 0 or -EINVAL; for config validation too. */
CPPO_MUST_CHECK int http_parse_listen(const char *listen, char *host, size_t hostlen,
                                      uint16_t *port);

#endif
