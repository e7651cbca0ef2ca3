/* cppo-notify — JSON-lines source: a file or standard input, one message
 * per line, for replay and tests. Coordinates: origin = the path ("-" for
 * stdin), partition = -1, offset = the 1-based line number. Blank lines are
 * skipped. A line longer than max_line is handed over cut at max_line bytes
 * with `truncated` set (the rest is skipped, never buffered), so it is
 * rejected as too large rather than lost. */
#ifndef CPPO_SOURCE_FILE_H
#define CPPO_SOURCE_FILE_H

#include "cppo/error.h"

#include "cppo/source.h"

#include <stddef.h>

/* Reads every line and hands each to fn. Returns 0 at the end of input, the
 * handler's negative return, or -errno (with err filled) when the input
 * cannot be read. */
CPPO_MUST_CHECK int source_file_run(const char *path, size_t max_line, source_handler_fn fn,
                                    void *ctx, char *err, size_t errlen);

#endif
