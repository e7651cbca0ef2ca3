/* cppo-notify — operations HTTP endpoint (see include/cppo/http.h). */
#include "cppo/http.h"

#include "cppo/error.h"
#include "cppo/log.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#if HAVE_LIBMICROHTTPD
#include <microhttpd.h>
#endif

#define HTTP_METRICS_MAX (4u << 20)

struct http_server {
        struct http_handlers h;
        uint16_t port;
#if HAVE_LIBMICROHTTPD
        struct MHD_Daemon *mhd;
#endif
};

int http_parse_listen(const char *listen, char *host, size_t hostlen, uint16_t *port)
{
        const char *colon, *start = listen, *end;
        char *stop;
        unsigned long p;

        if (listen[0] == '[') {
                start = listen + 1;
                end = strchr(start, ']');
                if (end == NULL || end[1] != ':')
                        return -EINVAL;
                colon = end + 1;
        } else {
                colon = strrchr(listen, ':');
                end = colon;
        }
        if (colon == NULL || end == start || (size_t)(end - start) >= hostlen)
                return -EINVAL;
        errno = 0;
        p = strtoul(colon + 1, &stop, 10);
        if (colon[1] == '\0' || *stop != '\0' || errno || p > 65535)
                return -EINVAL;
        memcpy(host, start, (size_t)(end - start));
        host[end - start] = '\0';
        *port = (uint16_t)p;
        return 0;
}

#if HAVE_LIBMICROHTTPD
static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type,
                             const char *body, size_t len)
{
        struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body,
                                                                 MHD_RESPMEM_MUST_COPY);
        enum MHD_Result ret;

        if (r == NULL)
                return MHD_NO;
        MHD_add_response_header(r, "Content-Type", type);
        ret = MHD_queue_response(c, code, r);
        MHD_destroy_response(r);
        return ret;
}

static enum MHD_Result serve_metrics(struct http_server *s, struct MHD_Connection *c)
{
        struct buf out = BUF_INIT(HTTP_METRICS_MAX);
        enum MHD_Result ret;

        if (s->h.metrics == NULL || s->h.metrics(s->h.ctx, &out) < 0) {
                buf_deinit(&out);
                return reply(c, 500, "text/plain", "metrics unavailable\n", 20);
        }
        ret = reply(c, 200, "text/plain; version=0.0.4; charset=utf-8", buf_cstr(&out), out.len);
        buf_deinit(&out);
        return ret;
}

/* http.h: a standby is 200 with its role; otherwise the readiness, with
 * the role when there is one. */
static enum MHD_Result serve_ready(struct http_server *s, struct MHD_Connection *c)
{
        const char *role = s->h.role ? s->h.role(s->h.ctx) : NULL;
        bool standby = role != NULL && strcmp(role, "standby") == 0;
        bool ready = standby || (s->h.ready && s->h.ready(s->h.ctx));
        char body[64];
        int n;

        if (standby)
                n = snprintf(body, sizeof body, "role=standby\n");
        else
                n = snprintf(body, sizeof body, "%s%s%s\n", ready ? "ready" : "not ready",
                             role ? " role=" : "", role ? role : "");
        if (n < 0 || (size_t)n >= sizeof body)
                return MHD_NO;
        return reply(c, ready ? 200 : 503, "text/plain", body, (size_t)n);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **state)
{
        struct http_server *s = cls;

        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
                return reply(c, 405, "text/plain", "method not allowed\n", 19);
        if (strcmp(url, "/metrics") == 0)
                return serve_metrics(s, c);
        if (strcmp(url, "/healthz") == 0)
                return reply(c, 200, "text/plain", "ok\n", 3);
        if (strcmp(url, "/readyz") == 0)
                return serve_ready(s, c);
        return reply(c, 404, "text/plain", "not found\n", 10);
}

/* Slow clients (a slowloris holding connections open with a byte now and
 * then) must not make /healthz unreachable. The server thread polls with
 * epoll/poll (no select() cap), a connection idle for HTTP_IDLE_TIMEOUT_S
 * is closed, and the limit on open connections is far above what a scraper
 * and a health checker need, so a few dozen stuck clients cost nothing.
 * A per-client limit only helps where clients can be told apart: on a
 * loopback listener every local client is 127.0.0.1 (a limit would lock
 * the health checker out together with the attacker), so it applies only
 * when the endpoint listens beyond loopback. */
#define HTTP_MAX_CONNECTIONS        256u
#define HTTP_PER_CLIENT_CONNECTIONS 16u
#define HTTP_IDLE_TIMEOUT_S         5u
#define HTTP_CONNECTION_MEMORY      (16u * 1024u) /* request line + headers */

static bool is_loopback(const struct sockaddr_storage *ss)
{
        if (ss->ss_family == AF_INET)
                return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static unsigned per_ip_limit(const struct sockaddr_storage *ss)
{
        return is_loopback(ss) ? 0u : HTTP_PER_CLIENT_CONNECTIONS;
}

static int make_addr(const char *host, uint16_t port, bool allow_non_loopback,
                     struct sockaddr_storage *ss, char *err, size_t errlen)
{
        struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;

        memset(ss, 0, sizeof *ss);
        if (strcmp(host, "localhost") == 0)
                host = "127.0.0.1";
        if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
                v4->sin_family = AF_INET;
                v4->sin_port = htons(port);
        } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
                v6->sin6_family = AF_INET6;
                v6->sin6_port = htons(port);
        } else {
                return error_set(err, errlen, -EINVAL,
                                 "http listen host \"%s\" is not an IP address", host);
        }
        if (!allow_non_loopback && !is_loopback(ss))
                return error_set(err, errlen, -EINVAL,
                                 "http listen address \"%s\" is not a loopback address", host);
        return 0;
}

int http_server_start(struct http_server **out, const char *listen, bool allow_non_loopback,
                      const struct http_handlers *h, char *err, size_t errlen)
{
        struct sockaddr_storage ss;
        const union MHD_DaemonInfo *info;
        struct http_server *s;
        char host[256];
        uint16_t port;
        int r;

        if (http_parse_listen(listen, host, sizeof host, &port) < 0)
                return error_set(err, errlen, -EINVAL, "invalid http listen address \"%s\"",
                                 listen);
        r = make_addr(host, port, allow_non_loopback, &ss, err, errlen);
        if (r < 0)
                return r;
        s = calloc(1, sizeof *s);
        if (s == NULL)
                return -ENOMEM;
        s->h = *h;
        s->mhd = MHD_start_daemon(
            MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
                (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
            port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
            MHD_OPTION_CONNECTION_LIMIT, HTTP_MAX_CONNECTIONS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
            per_ip_limit(&ss), MHD_OPTION_CONNECTION_TIMEOUT, HTTP_IDLE_TIMEOUT_S,
            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONNECTION_MEMORY, MHD_OPTION_END);
        if (s->mhd == NULL) {
                free(s);
                return error_set(err, errlen, -EADDRINUSE, "cannot listen on %s", listen);
        }
        info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
        s->port = info ? info->port : port;
        *out = s;
        return 0;
}

void http_server_stop(struct http_server *s)
{
        if (s == NULL)
                return;
        MHD_stop_daemon(s->mhd);
        free(s);
}
#else
int http_server_start(struct http_server **out, const char *listen, bool allow_non_loopback,
                      const struct http_handlers *h, char *err, size_t errlen)
{
        return error_set(err, errlen, -ENOTSUP, "built without libmicrohttpd");
}

void http_server_stop(struct http_server *s)
{
        (void)s;
}
#endif

uint16_t http_server_port(const struct http_server *s)
{
        return s->port;
}
