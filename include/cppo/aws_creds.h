/* cppo-notify — AWS credentials, found the way the AWS CLI finds them.
 *
 * The chain, first match wins (doc/aws.md has the details):
 *   1. environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY
 *      (+ AWS_SESSION_TOKEN); skipped when a profile is given explicitly
 *      (opts.profile), as the CLI's --profile does;
 *   2. shared files: the credentials file (AWS_SHARED_CREDENTIALS_FILE,
 *      default ~/.aws/credentials, section [NAME]) then the config file
 *      (AWS_CONFIG_FILE, default ~/.aws/config, section [profile NAME] or
 *      [default]); NAME is opts.profile, else AWS_PROFILE, else "default";
 *   3. container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on 169.254.170.2)
 *      or AWS_CONTAINER_CREDENTIALS_FULL_URI (https, or http to a loopback
 *      or the ECS/EKS link-local hosts), with the Authorization header from
 *      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or
 *      AWS_CONTAINER_AUTHORIZATION_TOKEN;
 *   4. EC2 instance metadata, IMDSv2 only (PUT token, GET role, GET
 *      credentials) at AWS_EC2_METADATA_SERVICE_ENDPOINT (default
 *      http://169.254.169.254), unless AWS_EC2_METADATA_DISABLED=true.
 *
 * Secrets: the secret access key and the session token live in struct
 * secret (wiped on free) behind an opaque struct; the only way to them is
 * aws_creds_secret_key()/aws_creds_session_token(), whose results cannot
 * be passed to a %s. Nothing here writes them to a log line or an error
 * message; errors name the source and the file or URL only.
 */
#ifndef CPPO_AWS_CREDS_H
#define CPPO_AWS_CREDS_H

#include "cppo/error.h"

#include "cppo/secret.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Temporary credentials are fetched again this long before they expire,
 * as the AWS SDKs do. */
#define AWS_CREDS_REFRESH_EARLY_S 300

struct aws_creds_opts {
        const char *profile; /* explicit profile (the CLI's --profile), or NULL */
        /* Test hooks, NULL in production: the base URL that replaces
         * http://169.254.170.2 for AWS_CONTAINER_CREDENTIALS_RELATIVE_URI. */
        const char *container_host;
        long http_timeout_ms; /* container and IMDS calls; 0: 1000 */
};

struct aws_creds;

/* Runs the chain once. 0 and *out on success; -ENOENT when no source has
 * credentials (err lists what was tried), -EINVAL for a source that is
 * present but broken (a profile without a secret, a FULL_URI over plain
 * http to a remote host, an unsupported profile kind), -EIO/-EPROTO for a
 * credentials endpoint that fails or answers garbage. */
CPPO_MUST_CHECK int aws_creds_resolve(struct aws_creds **out, const struct aws_creds_opts *opts,
                                      char *err, size_t errlen);

/* Builds credentials from values in memory (tests, callers with their own
 * source). token may be NULL; expiration 0 means "does not expire". */
CPPO_MUST_CHECK int aws_creds_new(struct aws_creds **out, const char *source,
                                  const char *access_key_id, const char *secret_key,
                                  const char *token, int64_t expiration);

void aws_creds_free(struct aws_creds *c);

/* Where they came from: "environment", "shared file profile NAME",
 * "container", "imds role NAME". Safe to print. */
const char *aws_creds_source(const struct aws_creds *c);

/* The access key id is not a secret (AWS prints it in errors); safe to
 * print. */
const char *aws_creds_access_key_id(const struct aws_creds *c);

/* The secret parts; never NULL for the key, NULL token when none. */
const struct secret *aws_creds_secret_key(const struct aws_creds *c);
const struct secret *aws_creds_session_token(const struct aws_creds *c);

/* Seconds since the epoch, or 0 for long-term credentials. */
int64_t aws_creds_expiration(const struct aws_creds *c);

/* True when c is NULL or expires within AWS_CREDS_REFRESH_EARLY_S of now. */
bool aws_creds_refresh_due(const struct aws_creds *c, int64_t now);

/* Overwrites every occurrence of the secret key or the token in text
 * (NUL-terminated, in place) with "[redacted]"-sized stars, so a message
 * that quotes a server reply can never carry them. */
void aws_creds_redact(const struct aws_creds *c, char *text);

/* A provider caches the chain's answer and runs it again when the cached
 * credentials are due for refresh. */
struct aws_credprov;

CPPO_MUST_CHECK int aws_credprov_new(struct aws_credprov **out, const struct aws_creds_opts *opts);
void aws_credprov_free(struct aws_credprov *p);

/* Current credentials at time now (seconds since the epoch), refreshing
 * when due. When a refresh fails while the cached credentials are still
 * valid, they are kept (0) and the failure is logged once; when nothing
 * valid is left the chain's error is returned. *out stays owned by p and
 * valid until the next call. */
CPPO_MUST_CHECK int aws_credprov_get(struct aws_credprov *p, int64_t now,
                                     const struct aws_creds **out, char *err, size_t errlen);

/* How many times the chain ran (the first resolve included). */
unsigned aws_credprov_resolves(const struct aws_credprov *p);

#endif
