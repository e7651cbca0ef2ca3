/* AWS credentials: the CLI's chain (environment, shared files, container,
 * IMDSv2) and a provider that refreshes temporary credentials early. */
#include "cppo/aws_creds.h"

#include "aws_internal.h"
#include "cppo/aws.h"
#include "cppo/error.h"
#include "cppo/log.h"
#include "cppo/timefmt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define AKID_MAX       128
#define SOURCE_MAX     160
#define FILE_MAX       (1u << 20) /* shared files and token files */
#define URL_MAX        2048
#define CONTAINER_HOST "http://169.254.170.2"
#define IMDS_HOST      "http://169.254.169.254"
#define IMDS_TOKEN_TTL "21600"

struct aws_creds {
        char source[SOURCE_MAX];
        char akid[AKID_MAX];
        struct secret *secret_key;
        struct secret *token; /* NULL for long-term keys */
        int64_t expiration;
};

/* ------------------------------------------------------------ the value */

int aws_creds_new(struct aws_creds **out, const char *source, const char *access_key_id,
                  const char *secret_key, const char *token, int64_t expiration)
{
        if (access_key_id == NULL || secret_key == NULL || access_key_id[0] == '\0' ||
            secret_key[0] == '\0' || strlen(access_key_id) >= AKID_MAX)
                return -EINVAL;
        struct aws_creds *c = calloc(1, sizeof *c);
        if (c == NULL)
                return -ENOMEM;
        (void)error_set(c->source, sizeof c->source, 0, "%s", source ? source : "");
        memcpy(c->akid, access_key_id, strlen(access_key_id) + 1);
        c->expiration = expiration;
        int rc = secret_new(&c->secret_key, secret_key, strlen(secret_key));
        if (rc == 0 && token != NULL && token[0] != '\0')
                rc = secret_new(&c->token, token, strlen(token));
        if (rc < 0) {
                aws_creds_free(c);
                return rc;
        }
        *out = c;
        return 0;
}

void aws_creds_free(struct aws_creds *c)
{
        if (c == NULL)
                return;
        secret_free(c->secret_key);
        secret_free(c->token);
        free(c);
}

const char *aws_creds_source(const struct aws_creds *c)
{
        return c->source;
}

const char *aws_creds_access_key_id(const struct aws_creds *c)
{
        return c->akid;
}

const struct secret *aws_creds_secret_key(const struct aws_creds *c)
{
        return c->secret_key;
}

const struct secret *aws_creds_session_token(const struct aws_creds *c)
{
        return c->token;
}

int64_t aws_creds_expiration(const struct aws_creds *c)
{
        return c->expiration;
}

bool aws_creds_refresh_due(const struct aws_creds *c, int64_t now)
{
        return c == NULL ||
               (c->expiration != 0 && c->expiration - AWS_CREDS_REFRESH_EARLY_S <= now);
}

static void redact_one(const struct secret *s, char *text)
{
        if (s == NULL || secret_len(s) == 0)
                return;
        const char *v = secret_value(s);
        for (char *p = strstr(text, v); p != NULL; p = strstr(p, v))
                memset(p, '*', secret_len(s));
}

void aws_creds_redact(const struct aws_creds *c, char *text)
{
        if (c == NULL || text == NULL)
                return;
        redact_one(c->secret_key, text);
        redact_one(c->token, text);
}

/* ------------------------------------------------------------ helpers */

static const char *env(const char *name)
{
        const char *v = getenv(name);
        return v != NULL && v[0] != '\0' ? v : NULL;
}

/* Reads a whole file of at most FILE_MAX bytes into b. */
static int read_file(const char *path, struct buf *b, char *err, size_t errlen)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return error_set(err, errlen, -errno, "cannot open '%s': %s", path,
                                 strerror(errno));
        int rc = 0;
        char chunk[4096];
        for (;;) {
                ssize_t n = read(fd, chunk, sizeof chunk);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        rc = error_set(err, errlen, -EIO, "cannot read '%s'", path);
                        break;
                }
                if (n == 0)
                        break;
                rc = buf_append(b, chunk, (size_t)n);
                if (rc < 0) {
                        (void)error_set(err, errlen, rc, "'%s' is too large", path);
                        break;
                }
        }
        explicit_bzero(chunk, sizeof chunk);
        close(fd);
        return rc;
}

static void buf_wipe(struct buf *b)
{
        if (b->data != NULL)
                explicit_bzero(b->data, b->cap);
        buf_deinit(b);
}

/* ------------------------------------------------------------ environment */

static int from_env(struct aws_creds **out, char *err, size_t errlen)
{
        const char *akid = env("AWS_ACCESS_KEY_ID");
        const char *sk = env("AWS_SECRET_ACCESS_KEY");
        if (akid == NULL && sk == NULL)
                return 0;
        if (akid == NULL || sk == NULL)
                return error_set(err, errlen, -EINVAL,
                                 "environment has %s but not %s; set both or neither",
                                 akid ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                                 akid ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
        int rc = aws_creds_new(out, "environment", akid, sk, env("AWS_SESSION_TOKEN"), 0);
        return rc < 0 ? error_set(err, errlen, rc, "environment credentials are not usable") : 1;
}

/* ------------------------------------------------------------ shared files */

/* The profile keys we read, and the ones that mean a kind of profile this
 * module does not implement (it must say so rather than skip it). */
enum { KEY_AKID, KEY_SECRET, KEY_TOKEN, KEY_COUNT };
static const char *const profile_keys[KEY_COUNT] = {
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
};
static const char *const unsupported_keys[] = {
        "role_arn", "credential_process", "sso_session", "sso_start_url", "web_identity_token_file",
};

struct profile {
        bool found;
        char *val[KEY_COUNT]; /* point into the file's buffer */
        const char *unsupported;
};

static char *trim(char *s)
{
        while (*s == ' ' || *s == '\t')
                s++;
        size_t n = strlen(s);
        while (n > 0 && strchr(" \t\r\n", s[n - 1]) != NULL)
                s[--n] = '\0';
        return s;
}

/* "[name]" in the credentials file, "[profile name]" (or "[default]") in
 * the config file. line is the trimmed text inside the brackets. */
static bool section_matches(const char *inside, const char *profile, bool config)
{
        if (!config || strcmp(profile, "default") == 0)
                if (strcmp(inside, profile) == 0)
                        return true;
        if (config && strncmp(inside, "profile", 7) == 0 && (inside[7] == ' ' || inside[7] == '\t'))
                return strcmp(trim((char *)inside + 8), profile) == 0;
        return false;
}

static void profile_key(struct profile *p, const char *key, char *value)
{
        for (size_t i = 0; i < KEY_COUNT; i++)
                if (strcmp(key, profile_keys[i]) == 0 && p->val[i] == NULL)
                        p->val[i] = value;
        for (size_t i = 0; i < sizeof unsupported_keys / sizeof unsupported_keys[0]; i++)
                if (strcmp(key, unsupported_keys[i]) == 0)
                        p->unsupported = unsupported_keys[i];
}

/* Scans an INI text (modified in place) for the profile's section. */
static void ini_find(char *text, const char *profile, bool config, struct profile *p)
{
        bool in = false;
        for (char *line = text, *next; line != NULL; line = next) {
                next = strchr(line, '\n');
                if (next != NULL)
                        *next++ = '\0';
                char *s = trim(line);
                if (*s == '#' || *s == ';' || *s == '\0')
                        continue;
                if (*s == '[') {
                        char *close = strchr(s, ']');
                        if (close != NULL)
                                *close = '\0';
                        in = section_matches(trim(s + 1), profile, config);
                        p->found |= in;
                        continue;
                }
                char *eq = strchr(s, '=');
                if (!in || eq == NULL)
                        continue;
                *eq = '\0';
                profile_key(p, trim(s), trim(eq + 1));
        }
}

static int shared_path(const char *var, const char *leaf, char *out, size_t cap)
{
        const char *v = env(var);
        const char *home = env("HOME");
        if (v != NULL)
                return error_set(out, cap, 0, "%s", v) < 0 ? -E2BIG : 0;
        if (home == NULL)
                return -ENOENT;
        (void)error_set(out, cap, 0, "%s/.aws/%s", home, leaf);
        return 0;
}

/* A profile section without a usable key pair: an error when it has half
 * of one or a kind we do not implement, else 0 (look further). */
static int profile_problem(const struct profile *p, const char *profile, const char *path,
                           char *err, size_t errlen)
{
        if (p->unsupported != NULL)
                return error_set(err, errlen, -EINVAL,
                                 "profile '%s' in '%s' uses %s, which cppo-notify does not "
                                 "support; give it aws_access_key_id and aws_secret_access_key, "
                                 "or use the environment",
                                 profile, path, p->unsupported);
        if (p->val[KEY_AKID] != NULL || p->val[KEY_SECRET] != NULL)
                return error_set(err, errlen, -EINVAL,
                                 "profile '%s' in '%s' needs both aws_access_key_id and "
                                 "aws_secret_access_key",
                                 profile, path);
        return 0;
}

/* One shared file: 1 with *out, 0 when the file or the profile is not
 * there, negative for a broken profile. */
static int from_file(const char *var, const char *leaf, bool config, const char *profile,
                     struct aws_creds **out, char *err, size_t errlen)
{
        char path[1024];
        struct buf text = BUF_INIT(FILE_MAX);
        struct profile p = { 0 };
        if (shared_path(var, leaf, path, sizeof path) < 0 || access(path, F_OK) != 0)
                return 0;
        int rc = read_file(path, &text, err, errlen);
        if (rc == 0 && text.len > 0)
                ini_find(text.data, profile, config, &p);
        if (rc < 0 || !p.found)
                goto done;
        if (p.val[KEY_AKID] == NULL || p.val[KEY_SECRET] == NULL) {
                rc = profile_problem(&p, profile, path, err, errlen);
                goto done;
        }
        char source[SOURCE_MAX];
        (void)error_set(source, sizeof source, 0, "shared file profile %s", profile);
        rc = aws_creds_new(out, source, p.val[KEY_AKID], p.val[KEY_SECRET], p.val[KEY_TOKEN], 0);
        rc = rc < 0
                 ? error_set(err, errlen, rc, "profile '%s' in '%s' is not usable", profile, path)
                 : 1;
done:
        buf_wipe(&text);
        return rc;
}

static int from_files(const char *profile, bool explicit, struct aws_creds **out, char *err,
                      size_t errlen)
{
        int rc = from_file("AWS_SHARED_CREDENTIALS_FILE", "credentials", false, profile, out, err,
                           errlen);
        if (rc == 0)
                rc = from_file("AWS_CONFIG_FILE", "config", true, profile, out, err, errlen);
        /* A profile someone named must exist, as with the CLI. */
        if (rc == 0 && explicit)
                rc = error_set(err, errlen, -ENOENT,
                               "profile '%s' is in neither the credentials nor the config file",
                               profile);
        return rc;
}

/* ------------------------------------------------------------ HTTP sources */

/* A credentials document: AccessKeyId, SecretAccessKey, Token, Expiration
 * (and Code "Success" from IMDS). */
static int parse_creds_doc(const char *json, size_t len, const char *source, struct aws_creds **out,
                           char *err, size_t errlen)
{
        yajl_val root;
        int rc = aws_json_parse(json, len, &root, err, errlen);
        if (rc < 0)
                return error_set(err, errlen, rc, "%s: credentials answer is not json", source);
        yajl_val akid = aws_json_get(root, "AccessKeyId");
        yajl_val sk = aws_json_get(root, "SecretAccessKey");
        yajl_val tok = aws_json_get(root, "Token");
        yajl_val exp = aws_json_get(root, "Expiration");
        yajl_val code = aws_json_get(root, "Code");
        int64_t expiration = 0;
        if (YAJL_IS_STRING(code) && strcmp(code->u.string, "Success") != 0)
                rc = error_set(err, errlen, -EIO, "%s: credentials answer has Code '%.40s'", source,
                               code->u.string);
        else if (!YAJL_IS_STRING(akid) || !YAJL_IS_STRING(sk) ||
                 (tok != NULL && !YAJL_IS_STRING(tok)))
                rc = error_set(err, errlen, -EPROTO,
                               "%s: credentials answer lacks AccessKeyId or SecretAccessKey",
                               source);
        else if (exp != NULL &&
                 (!YAJL_IS_STRING(exp) || timefmt_parse(exp->u.string, &expiration) < 0))
                rc = error_set(err, errlen, -EPROTO, "%s: Expiration is not a timestamp", source);
        if (rc == 0) {
                rc = aws_creds_new(out, source, akid->u.string, sk->u.string,
                                   tok ? tok->u.string : NULL, expiration);
                if (rc < 0)
                        (void)error_set(err, errlen, rc, "%s: credentials are not usable", source);
        }
        yajl_tree_free(root);
        return rc;
}

/* One GET or PUT without signing; the status must be 200. */
static int fetch(CURL *easy, const char *method, const char *url, struct curl_slist *headers,
                 long timeout_ms, const char *what, struct aws_http_resp *resp, char *err,
                 size_t errlen)
{
        struct aws_http_req req = {
                .method = method, .url = url, .headers = headers, .timeout_ms = timeout_ms
        };
        int rc = aws_http_do(easy, &req, resp);
        if (rc < 0)
                return error_set(err, errlen, rc, "%s: %s", what, resp->transport);
        if (resp->status != 200)
                return error_set(err, errlen,
                                 resp->status == 401 || resp->status == 403 ? -EACCES : -EIO,
                                 "%s: http status %ld", what, resp->status);
        return 0;
}

/* The host of an http:// URL must be a loopback address or one of the
 * ECS/EKS credential hosts: the exact host, not a prefix of the URL
 * ("http://127.0.0.1.example.com" is remote). */
static bool loopback_or_ecs(const char *url)
{
        static const char *const hosts[] = {
                "localhost", "[::1]", "169.254.170.2", "169.254.170.23", "[fd00:ec2::23]",
        };
        if (strncmp(url, "http://", 7) != 0)
                return false;
        const char *h = url + 7;
        size_t n = h[0] == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":/?#");
        if (n == 0 || n > 64 || (h[0] == '[' && h[n - 1] != ']'))
                return false;
        for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++)
                if (strlen(hosts[i]) == n && strncmp(h, hosts[i], n) == 0)
                        return true;
        /* 127.0.0.0/8, written as four numbers */
        unsigned a, b, c, d;
        char tail;
        char host[65];
        memcpy(host, h, n);
        host[n] = '\0';
        return sscanf(host, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4 && a == 127 && b < 256 &&
               c < 256 && d < 256;
}

/* The Authorization header for the container endpoint, token file first. */
static int container_auth(struct curl_slist **headers, char *err, size_t errlen)
{
        const char *file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
        const char *value = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
        struct buf text = BUF_INIT(FILE_MAX);
        struct buf header = BUF_INIT(FILE_MAX + 64);
        int rc = 0;
        if (file != NULL) {
                rc = read_file(file, &text, err, errlen);
                value = rc == 0 ? trim(text.len ? text.data : (char *)"") : NULL;
        }
        if (rc == 0 && value != NULL) {
                if (strpbrk(value, "\r\n") != NULL)
                        rc = error_set(err, errlen, -EINVAL,
                                       "container authorization token has a line break");
                else if (buf_printf(&header, "Authorization: %s", value) < 0 ||
                         (*headers = curl_slist_append(NULL, header.data)) == NULL)
                        rc = -ENOMEM;
        }
        buf_wipe(&text);
        buf_wipe(&header);
        return rc;
}

static int from_container(CURL *easy, const struct aws_creds_opts *o, struct aws_creds **out,
                          char *err, size_t errlen)
{
        const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
        const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
        char url[URL_MAX];
        if (rel == NULL && full == NULL)
                return 0;
        if (rel != NULL)
                (void)error_set(url, sizeof url, 0, "%s%s",
                                o->container_host ? o->container_host : CONTAINER_HOST, rel);
        else if (strncmp(full, "https://", 8) != 0 && !loopback_or_ecs(full))
                return error_set(err, errlen, -EINVAL,
                                 "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to a "
                                 "loopback or the ECS/EKS credentials host");
        else
                (void)error_set(url, sizeof url, 0, "%s", full);
        struct curl_slist *headers = NULL;
        struct aws_http_resp resp;
        aws_http_resp_init(&resp);
        int rc = container_auth(&headers, err, errlen);
        if (rc == 0)
                rc = fetch(easy, "GET", url, headers, o->http_timeout_ms, "container credentials",
                           &resp, err, errlen);
        if (rc == 0)
                rc = parse_creds_doc(resp.body.data, resp.body.len, "container", out, err, errlen);
        aws_http_headers_free(headers);
        buf_wipe(&resp.body);
        return rc < 0 ? rc : 1;
}

static bool imds_disabled(void)
{
        const char *v = env("AWS_EC2_METADATA_DISABLED");
        return v != NULL && strcasecmp(v, "true") == 0;
}

/* IMDSv2: a session token (PUT), the role name, the role's credentials. */
static int from_imds(CURL *easy, const struct aws_creds_opts *o, struct aws_creds **out, char *err,
                     size_t errlen)
{
        const char *host = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
        char url[URL_MAX], role[128], source[SOURCE_MAX];
        struct curl_slist *h = NULL;
        struct buf hdr = BUF_INIT(512);
        struct aws_http_resp resp;
        host = host ? host : IMDS_HOST;
        size_t hl = strlen(host);
        while (hl > 0 && host[hl - 1] == '/')
                hl--;
        aws_http_resp_init(&resp);
        (void)error_set(url, sizeof url, 0, "%.*s/latest/api/token", (int)hl, host);
        int rc = (h = curl_slist_append(NULL,
                                        "X-aws-ec2-metadata-token-ttl-seconds: " IMDS_TOKEN_TTL))
                     ? fetch(easy, "PUT", url, h, o->http_timeout_ms, "imds token", &resp, err,
                             errlen)
                     : -ENOMEM;
        aws_http_headers_free(h);
        h = NULL;
        if (rc == 0 && (resp.body.len == 0 || memchr(resp.body.data, '\n', resp.body.len) ||
                        buf_printf(&hdr, "X-aws-ec2-metadata-token: %s", resp.body.data) < 0 ||
                        (h = curl_slist_append(NULL, hdr.data)) == NULL))
                rc = error_set(err, errlen, -EPROTO, "imds: unusable session token");
        (void)error_set(url, sizeof url, 0, "%.*s/latest/meta-data/iam/security-credentials/",
                        (int)hl, host);
        if (rc == 0)
                rc = fetch(easy, "GET", url, h, o->http_timeout_ms, "imds role", &resp, err,
                           errlen);
        if (rc == 0) {
                size_t n = strcspn(resp.body.len ? resp.body.data : "", "\r\n");
                if (n == 0 || n >= sizeof role || strcspn(resp.body.data, "/?#% ") < n)
                        rc = error_set(err, errlen, -EPROTO, "imds: no usable role name");
                else
                        (void)error_set(role, sizeof role, 0, "%.*s", (int)n, resp.body.data);
        }
        if (rc == 0) {
                (void)error_set(url, sizeof url, 0,
                                "%.*s/latest/meta-data/iam/security-credentials/%s", (int)hl, host,
                                role);
                (void)error_set(source, sizeof source, 0, "imds role %s", role);
                rc = fetch(easy, "GET", url, h, o->http_timeout_ms, "imds credentials", &resp, err,
                           errlen);
        }
        if (rc == 0)
                rc = parse_creds_doc(resp.body.data, resp.body.len, source, out, err, errlen);
        aws_http_headers_free(h);
        buf_wipe(&hdr);
        buf_wipe(&resp.body);
        return rc < 0 ? rc : 1;
}

/* ------------------------------------------------------------ the chain */

static int run_chain(CURL *easy, const struct aws_creds_opts *o, struct aws_creds **out, char *err,
                     size_t errlen)
{
        const char *profile = o->profile ? o->profile : env("AWS_PROFILE");
        profile = profile ? profile : "default";
        int rc = o->profile == NULL ? from_env(out, err, errlen) : 0;
        if (rc == 0)
                rc = from_files(profile, o->profile != NULL || env("AWS_PROFILE") != NULL, out, err,
                                errlen);
        if (rc == 0)
                rc = from_container(easy, o, out, err, errlen);
        if (rc != 0)
                return rc < 0 ? rc : 0;
        if (imds_disabled())
                return error_set(err, errlen, -ENOENT,
                                 "no aws credentials found (environment, shared files profile "
                                 "'%s', container; imds disabled)",
                                 profile);
        char why[CPPO_ERRLEN] = "";
        rc = from_imds(easy, o, out, why, sizeof why);
        if (rc < 0)
                return error_set(err, errlen, -ENOENT,
                                 "no aws credentials found (environment, shared files profile "
                                 "'%s', container, imds: %s)",
                                 profile, why);
        return 0;
}

int aws_creds_resolve(struct aws_creds **out, const struct aws_creds_opts *opts, char *err,
                      size_t errlen)
{
        struct aws_creds_opts o = opts ? *opts : (struct aws_creds_opts){ 0 };
        if (o.http_timeout_ms <= 0)
                o.http_timeout_ms = 1000;
        CURL *easy = curl_easy_init();
        if (easy == NULL)
                return -ENOMEM;
        *out = NULL;
        int rc = run_chain(easy, &o, out, err, errlen);
        curl_easy_cleanup(easy);
        return rc;
}

/* ------------------------------------------------------------ the provider */

struct aws_credprov {
        struct aws_creds_opts opts;
        char *profile, *container_host; /* owned copies of the opts' strings */
        struct aws_creds *cur;
        unsigned resolves;
        bool warned;
};

int aws_credprov_new(struct aws_credprov **out, const struct aws_creds_opts *opts)
{
        struct aws_credprov *p = calloc(1, sizeof *p);
        if (p == NULL)
                return -ENOMEM;
        if (opts != NULL)
                p->opts = *opts;
        if (p->opts.profile != NULL && (p->profile = strdup(p->opts.profile)) == NULL)
                goto fail;
        if (p->opts.container_host != NULL &&
            (p->container_host = strdup(p->opts.container_host)) == NULL)
                goto fail;
        p->opts.profile = p->profile;
        p->opts.container_host = p->container_host;
        *out = p;
        return 0;
fail:
        aws_credprov_free(p);
        return -ENOMEM;
}

void aws_credprov_free(struct aws_credprov *p)
{
        if (p == NULL)
                return;
        aws_creds_free(p->cur);
        free(p->profile);
        free(p->container_host);
        free(p);
}

int aws_credprov_get(struct aws_credprov *p, int64_t now, const struct aws_creds **out, char *err,
                     size_t errlen)
{
        if (aws_creds_refresh_due(p->cur, now)) {
                struct aws_creds *fresh = NULL;
                char why[CPPO_ERRLEN] = "";
                p->resolves++;
                int rc = aws_creds_resolve(&fresh, &p->opts, why, sizeof why);
                if (rc == 0) {
                        aws_creds_free(p->cur);
                        p->cur = fresh;
                        p->warned = false;
                } else if (p->cur != NULL && p->cur->expiration > now) {
                        /* Still valid for a while: keep them, say so once. */
                        if (!p->warned)
                                log_warn("aws credentials refresh failed, using the current ones "
                                         "until they expire reason=%s",
                                         why);
                        p->warned = true;
                } else {
                        return error_set(err, errlen, rc, "%s", why);
                }
        }
        *out = p->cur;
        return 0;
}

unsigned aws_credprov_resolves(const struct aws_credprov *p)
{
        return p->resolves;
}
