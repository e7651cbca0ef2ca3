/* cppo-notify — the channel table and what the channels share (see
 * channel_internal.h). */
#include "channel_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Indexed by receiver type: the one list of channels. */
static const struct channel *const channels[] = {
        [CONFIG_RECEIVER_EMAIL] = &channel_email,
        [CONFIG_RECEIVER_SLACK] = &channel_slack,
        [CONFIG_RECEIVER_FILE] = &channel_file,
};

const struct channel *channel_get(enum config_receiver_type type)
{
        if ((size_t)type >= sizeof channels / sizeof channels[0])
                return NULL;
        return channels[type];
}

void outcome_set(struct outcome *o, enum outcome_kind k, int code, const char *fmt, ...)
{
        va_list ap;

        o->kind = k;
        o->code = code;
        va_start(ap, fmt);
        vsnprintf(o->error, sizeof o->error, fmt, ap);
        va_end(ap);
}

enum outcome_kind channel_outcome_kind(enum dispatch_verdict v)
{
        static const enum outcome_kind kind[] = {
                [DISPATCH_SENT] = OUT_SENT,
                [DISPATCH_RETRY] = OUT_RETRY,
                [DISPATCH_PERMANENT] = OUT_DEAD,
                [DISPATCH_RECEIVER] = OUT_DEFER,
        };

        return kind[v];
}

/* The receiver, not the message: it cannot be found, reached, trusted or
 * logged into, or it never answered. */
static const long receiver_curl[] = {
        CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT,
        CURLE_OPERATION_TIMEDOUT,    CURLE_SSL_CONNECT_ERROR,    CURLE_PEER_FAILED_VERIFICATION,
        CURLE_SSL_CERTPROBLEM,       CURLE_SSL_CIPHER,           CURLE_SSL_CACERT_BADFILE,
        CURLE_SSL_ISSUER_ERROR,      CURLE_SSL_CRL_BADFILE,      CURLE_SSL_PINNEDPUBKEYNOTMATCH,
        CURLE_USE_SSL_FAILED,        CURLE_LOGIN_DENIED,         CURLE_GOT_NOTHING,
};
/* Connection-level send or receive failures: the receiver's only when no
 * reply came (RCPT 4xx and DATA 5xx end in CURLE_SEND_ERROR too). */
static const long silent_curl[] = { CURLE_SEND_ERROR, CURLE_RECV_ERROR };

bool channel_in(const long *v, size_t n, long x)
{
        for (size_t i = 0; i < n; i++)
                if (v[i] == x)
                        return true;
        return false;
}

bool channel_receiver_transport(int curl_result, long code)
{
        return CHANNEL_IN(receiver_curl, curl_result) ||
               (code == 0 && CHANNEL_IN(silent_curl, curl_result));
}

int channel_dup(char **dst, const char *src)
{
        if (src == NULL)
                return 0;
        *dst = strdup(src);
        return *dst == NULL ? -ENOMEM : 0;
}
