/* cppo-notify — secrets read from files (SMTP password, Slack webhook URL).
 *
 * A secret's bytes are reachable only through secret_value(); nothing in
 * this module logs, formats or copies them into an error message. Errors
 * name the file, never its content. The memory is wiped before it is freed.
 */
#ifndef CPPO_SECRET_H
#define CPPO_SECRET_H

#include "cppo/error.h"

#include <stddef.h>

/* Largest secret file accepted, in bytes. */
#define SECRET_MAX 4096

struct secret;

/* Reads the whole file at path (at most SECRET_MAX bytes), strips one
 * trailing "\n" or "\r\n", and stores it in *out. Empty files, files with a
 * NUL byte and oversized files are rejected (-EINVAL / -E2BIG); unreadable
 * files return the negative errno of open/read. err names the path only. */
CPPO_MUST_CHECK int secret_load_file(struct secret **out, const char *path, char *err,
                                     size_t errlen);

/* Wraps bytes already in memory (tests, environment). NUL bytes rejected. */
CPPO_MUST_CHECK int secret_new(struct secret **out, const char *value, size_t len);

/* The NUL-terminated value. Never pass it to a log or error function. */
const char *secret_value(const struct secret *s);
size_t secret_len(const struct secret *s);

/* Where the secret came from (the file path, or "" for secret_new). Safe to
 * print. */
const char *secret_source(const struct secret *s);

/* Wipes and frees; NULL is accepted. */
void secret_free(struct secret *s);

#endif
