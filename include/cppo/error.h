/* cppo-notify — the one error convention.
 *
 * Every fallible function returns int:
 *   0            success;
 *   negative     a failure, as a negative errno value (-EINVAL bad input,
 *                -ENOMEM allocation, -E2BIG a size cap was hit, -ENOENT not
 *                found, -EEXIST already there, -EIO storage or I/O, -EPROTO a
 *                peer broke its protocol, -EAGAIN try again later, ...).
 *                Callers propagate it unchanged; only the outermost caller
 *                (a main() or a per-message boundary) turns it into a log
 *                line, an exit code or a rejected input.
 *   positive     only where a function documents it (a count, a boolean
 *                answer); never a failure, never propagated as one.
 *
 * Where a human needs to read why something failed (config, decode, CLI),
 * the function takes a caller-supplied buffer `char *err, size_t errlen` as
 * its last parameters and writes one line into it: lowercase, no trailing
 * period, what failed first, the subject in quotes. error_set() does both
 * at once. The buffer may be NULL (the message is then dropped).
 *
 * Resources are released through one goto ladder per function, in reverse
 * order of acquisition, or, for a straight sequence of steps, a chain that
 * stops at the first failure: `r = a(); if (r == 0) r = b(); ...`.
 *
 * Where a failure began: a bare -EIO in a log line says nothing about which
 * of a hundred statements failed. ERROR_TRACE(r) passes r through and, when
 * r is negative, records __FILE__:__LINE__ and __func__ as this thread's
 * error origin — unless the origin already recorded has the same code, in
 * which case the deeper site that recorded it first is kept: the failure
 * is the same one travelling up. Mark the place a code is made or first
 * crosses a module boundary (`return ERROR_TRACE(s->ops->commit(s));`, the
 * store's dispatch functions do so) and, at the outermost caller, the call
 * whose failure stops it. error_origin(r) then names the first site, and
 * the outermost caller logs it (cppo-notifyd: `origin=store.c:42`). A
 * per-message boundary calls error_origin_clear() first, so that a failure
 * handled earlier (a -ENOENT answered as "not found") is not taken for the
 * origin of a later one with the same code.
 *
 * Every fallible function is declared CPPO_MUST_CHECK: ignoring its result
 * does not compile (clang, -Werror; the CI's clang build compiles the whole
 * tree). A deliberate best-effort call says so with a (void) cast. GCC warns
 * about such a call even when it is cast to void (its long-standing
 * behaviour for warn_unused_result), so under GCC the macro is empty and
 * the clang build is the check.
 */
#ifndef CPPO_ERROR_H
#define CPPO_ERROR_H

#include <errno.h>
#include <stddef.h>

#if defined(__clang__)
#define CPPO_MUST_CHECK __attribute__((warn_unused_result))
#else
#define CPPO_MUST_CHECK
#endif

/* Size of the message buffers passed around as `err`. */
#define CPPO_ERRLEN 512

/* Writes the formatted message into err (truncating, always NUL-terminated
 * when errlen > 0) and returns code, so callers write
 * `return error_set(err, errlen, -EINVAL, "bad '%s'", name);`. */
int error_set(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The symbolic name of a negative errno code ("EINVAL"), or "E?" for codes
 * this project does not use. Never NULL. */
const char *error_name(int code);

/* Where a failure was first traced (ERROR_TRACE); file is __FILE__ as the
 * compiler saw it, func __func__. */
struct error_origin {
        int code;
        const char *file;
        int line;
        const char *func;
};

#define ERROR_TRACE(code) error_trace((code), __FILE__, __LINE__, __func__)

/* ERROR_TRACE's function: returns code; records the origin as described
 * above when code < 0. Thread-local, no allocation, never fails. */
CPPO_MUST_CHECK int error_trace(int code, const char *file, int line, const char *func);

/* This thread's recorded origin when its code is code, else NULL. */
const struct error_origin *error_origin(int code);

/* Forgets this thread's recorded origin. */
void error_origin_clear(void);

/* "store.c:42": the origin's file name without its directories and its
 * line, into buf (truncated, always terminated when len > 0); "unknown"
 * when no origin of code is recorded. Returns buf. */
const char *error_origin_format(int code, char *buf, size_t len);

#endif
