/* cppo-notify — the e-mail channel: SMTP through libcurl, one RCPT at a
 * time, a mail going to whoever of its recipients the server accepts (see
 * channel_internal.h and, for the outcome table, dispatch.h). */
#include "channel_internal.h"

#include "cppo/buf.h"
#include "cppo/secret.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* libcurl 7.69 to 8.1 spell the option with three Ls; 8.2 fixed the name
 * (and keeps the old one only as a deprecated alias). */
#if LIBCURL_VERSION_NUM >= 0x080200
#define MAIL_RCPT_ALLOWFAILS CURLOPT_MAIL_RCPT_ALLOWFAILS
#else
#define MAIL_RCPT_ALLOWFAILS CURLOPT_MAIL_RCPT_ALLLOWFAILS
#endif

#define ADDR_MAX 330 /* "<addr>" of an envelope address */

/* ---- settings (dispatcher thread) ---- */

static const char *email_unsendable(const struct config *cfg, const struct config_receiver *rc,
                                    const struct delivery *dl)
{
        (void)rc;
        if (cfg->smtp.url == NULL || cfg->smtp.from == NULL)
                return "smtp: no url or from configured";
        if (dl->recipients.n == 0)
                return "smtp: no recipients";
        return NULL;
}

static long use_ssl(const char *starttls)
{
        if (starttls != NULL && strcmp(starttls, "never") == 0)
                return (long)CURLUSESSL_NONE;
        if (starttls != NULL && strcmp(starttls, "optional") == 0)
                return (long)CURLUSESSL_TRY;
        return (long)CURLUSESSL_ALL;
}

static int email_settings(const struct config *cfg, const struct config_receiver *rc,
                          struct dw_job *j)
{
        int r;

        (void)rc;
        j->timeout_ms = j->connect_ms = cfg->smtp.timeout * 1000;
        j->use_ssl = use_ssl(cfg->smtp.starttls);
        r = channel_dup(&j->url, cfg->smtp.url);
        r = r < 0 ? r : channel_dup(&j->from, cfg->smtp.from);
        r = r < 0 ? r : channel_dup(&j->username, cfg->smtp.username);
        r = r < 0 ? r : channel_dup(&j->password, secret_value(cfg->smtp.password));
        return r < 0 ? r : channel_dup(&j->ca_file, cfg->smtp.ca_file);
}

/* ---- the transfer (worker thread) ---- */

static size_t read_payload(char *out, size_t size, size_t nmemb, void *p)
{
        struct dw_job *j = p;
        size_t room = size * nmemb, left = j->dl.payload_len - j->off;
        size_t n = left < room ? left : room;

        memcpy(out, j->dl.payload + j->off, n);
        j->off += n;
        return n;
}

/* The address of an "RCPT TO:<addr> ..." command. */
static void note_rcpt(struct dw_job *j, const char *data, size_t n)
{
        const char *lt = memchr(data, '<', n), *gt;
        size_t len;

        j->rcpt_wait = true;
        j->rcpt[0] = '\0';
        if (lt == NULL || (gt = memchr(lt, '>', n - (size_t)(lt - data))) == NULL)
                return;
        len = (size_t)(gt - lt - 1);
        if (len >= sizeof j->rcpt)
                len = sizeof j->rcpt - 1;
        memcpy(j->rcpt, lt + 1, len);
        j->rcpt[len] = '\0';
}

/* The server's reply to that RCPT: its last line ("NNN text"; "NNN-" lines
 * continue). */
static void note_rcpt_reply(struct dw_job *j, const char *data, size_t n)
{
        long code = 0;

        if (n < 4 || data[3] == '-')
                return;
        for (int i = 0; i < 3; i++) {
                if (data[i] < '0' || data[i] > '9')
                        return;
                code = code * 10 + (data[i] - '0');
        }
        j->rcpt_wait = false;
        if (code >= 200 && code < 300) {
                j->accepted_n++;
                return;
        }
        j->refused_n++;
        /* capped: a refusal past the cap is counted, not named */
        (void)buf_printf(&j->refused, "%s<%s> (%ld)", j->refused.len ? ", " : "", j->rcpt, code);
}

/* libcurl reports no per-recipient result, but with CURLOPT_VERBOSE it
 * shows every command it sends (CURLINFO_HEADER_OUT) and every reply line
 * (CURLINFO_HEADER_IN). It sends one RCPT at a time and waits for its reply
 * (it does not pipeline), so the reply after an "RCPT TO:" is that
 * recipient's. Nothing here is logged: the exchange holds the AUTH
 * credentials too. */
static int smtp_trace(CURL *c, curl_infotype type, char *data, size_t n, void *p)
{
        struct dw_job *j = p;

        (void)c;
        if (type == CURLINFO_HEADER_OUT)
                j->rcpt_wait = false;
        if (type == CURLINFO_HEADER_OUT && n >= 8 && strncasecmp(data, "RCPT TO:", 8) == 0)
                note_rcpt(j, data, n);
        else if (type == CURLINFO_HEADER_IN && j->rcpt_wait)
                note_rcpt_reply(j, data, n);
        return 0;
}

/* Envelope recipients as "<addr>". */
static CURLcode rcpt_list(struct dw_job *j)
{
        char tmp[ADDR_MAX];

        for (size_t i = 0; i < j->dl.recipients.n; i++) {
                struct curl_slist *l;
                int n = snprintf(tmp, sizeof tmp, "<%s>", j->dl.recipients.v[i]);
                if (n < 0 || (size_t)n >= sizeof tmp)
                        return CURLE_BAD_FUNCTION_ARGUMENT;
                l = curl_slist_append(j->rcpts, tmp);
                if (l == NULL)
                        return CURLE_OUT_OF_MEMORY;
                j->rcpts = l;
        }
        return CURLE_OK;
}

static CURLcode email_setup(CURL *c, struct dw_job *j)
{
        char from[ADDR_MAX];
        int n = snprintf(from, sizeof from, "<%s>", j->from ? j->from : "");
        CURLcode rc = n < 0 || (size_t)n >= sizeof from ? CURLE_BAD_FUNCTION_ARGUMENT
                                                        : rcpt_list(j);

        CHANNEL_SETOPT(rc, c, CURLOPT_URL, j->url);
        CHANNEL_SETOPT(rc, c, CURLOPT_MAIL_FROM, from);
        CHANNEL_SETOPT(rc, c, CURLOPT_MAIL_RCPT, j->rcpts);
        /* deliver to whoever is accepted; smtp_trace names the refused */
        CHANNEL_SETOPT(rc, c, MAIL_RCPT_ALLOWFAILS, 1L);
        CHANNEL_SETOPT(rc, c, CURLOPT_VERBOSE, 1L);
        CHANNEL_SETOPT(rc, c, CURLOPT_DEBUGFUNCTION, smtp_trace);
        CHANNEL_SETOPT(rc, c, CURLOPT_DEBUGDATA, (void *)j);
        CHANNEL_SETOPT(rc, c, CURLOPT_UPLOAD, 1L);
        CHANNEL_SETOPT(rc, c, CURLOPT_READFUNCTION, read_payload);
        CHANNEL_SETOPT(rc, c, CURLOPT_READDATA, (void *)j);
        CHANNEL_SETOPT(rc, c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)j->dl.payload_len);
        CHANNEL_SETOPT(rc, c, CURLOPT_USE_SSL, j->use_ssl);
        /* also bounds the wait for the reply to QUIT when a timed-out
         * connection is closed (libcurl's default: 120 s) */
        CHANNEL_SETOPT(rc, c, CURLOPT_SERVER_RESPONSE_TIMEOUT, (j->timeout_ms + 999) / 1000);
        if (j->username != NULL)
                CHANNEL_SETOPT(rc, c, CURLOPT_USERNAME, j->username);
        if (j->password != NULL)
                CHANNEL_SETOPT(rc, c, CURLOPT_PASSWORD, j->password);
        return rc;
}

/* ---- the outcome (dispatcher thread) ---- */

/* SMTP replies about the server or the session, not the message: 421
 * closing, 454 TLS or authentication unavailable, 530 authentication
 * required, 534 mechanism too weak, 535 credentials invalid, 538 encryption
 * required. */
static const long receiver_smtp[] = { 421, 454, 530, 534, 535, 538 };

static enum dispatch_verdict email_classify(int curl_result, long code)
{
        if (curl_result == CURLE_OK)
                return DISPATCH_SENT;
        if (channel_receiver_transport(curl_result, code) || CHANNEL_IN(receiver_smtp, code))
                return DISPATCH_RECEIVER;
        return code >= 500 && code < 600 ? DISPATCH_PERMANENT : DISPATCH_RETRY;
}

/* A mail some recipients refused at RCPT went to the others
 * (CURLOPT_MAIL_RCPT_ALLOWFAILS): sent, the refused ones recorded on the
 * attempt. Only a mail nobody accepted fails (curl then reports the last
 * RCPT reply, e.g. 550: permanent). */
static void email_outcome(const struct dw_job *j, struct outcome *o)
{
        enum outcome_kind k = channel_outcome_kind(email_classify(j->result, j->code));

        o->code = (int)j->code;
        if (j->refused_n > 0) {
                o->refused = buf_cstr(&j->refused);
                o->refused_n = j->refused_n;
        }
        if (k == OUT_SENT)
                o->kind = OUT_SENT;
        else
                outcome_set(o, k, (int)j->code, "smtp: %s (reply %ld)",
                            curl_easy_strerror((CURLcode)j->result), j->code);
}

const struct channel channel_email = {
        .type = CONFIG_RECEIVER_EMAIL,
        .unsendable = email_unsendable,
        .settings = email_settings,
        .protocols = "smtp,smtps",
        .setup = email_setup,
        .classify = email_classify,
        .outcome = email_outcome,
};
