/* cppo-notify — what every source (Kafka, file, stdin) hands the pipeline.
 *
 * A source yields raw messages, one at a time, to a handler; the handler
 * decodes, deduplicates, correlates and stores them. The bytes are only
 * valid during the call.
 */
#ifndef CPPO_SOURCE_H
#define CPPO_SOURCE_H

#include "cppo/raw_message.h"

#include <stddef.h>
#include <stdint.h>

/* Handles one message. 0 to go on; a negative errno stops the source,
 * which returns it. */
typedef int (*source_handler_fn)(void *ctx, const struct raw_message *msg);

#endif
