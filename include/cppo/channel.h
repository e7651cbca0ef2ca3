/* cppo-notify — the channels deliveries go out by: e-mail (SMTP), Slack
 * (incoming webhook), file (JSON lines), webhook (the JSON document,
 * signed per Standard Webhooks) and teams (an Adaptive Card through a
 * Workflows URL), one source file each
 * (src/notify/channel_<name>.c, their common interface private beside
 * them). The dispatcher (dispatch.h) schedules; a channel says how one
 * delivery is sent and how its outcome counts. What is public here is what
 * tests and tools use directly.
 */
#ifndef CPPO_CHANNEL_H
#define CPPO_CHANNEL_H

#include "cppo/error.h"

#include <stddef.h>

/* The file channel's append: payload (n bytes) + "\n" to the file at path
 * (created 0640), synced: 0 or a negative errno (-ETIMEDOUT once
 * timeout_ms passed while a FIFO or other non-blocking file would not take
 * more). On failure a regular file is cut back to its size before the
 * call, so a full disk (ENOSPC) or a size limit (EFBIG) never leaves a
 * partial line. */
CPPO_MUST_CHECK int channel_file_append(const char *path, const char *payload, size_t n,
                                        int timeout_ms);

#endif
