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

#endif
