/* libFuzzer target: decode arbitrary bytes as a raw message. Anything may
 * come in; nothing may crash, leak or read out of bounds, and every item is
 * either a well-formed event or a rejection with a reason and a message. */
#include "cppo/decode.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct decoder *d;
        static struct decode_result res;
        struct decode_options o = { .max_message_bytes = 1 << 16 };

        if (d == NULL && decode_new(&d, &o) < 0)
                abort();
        if (decode_message(d, (const char *)data, size, size, &res) < 0)
                abort();
        for (size_t i = 0; i < res.n; i++) {
                const struct decode_item *it = &res.items[i];
                if (it->reason != DECODE_OK && it->message[0] == '\0')
                        abort();
                if (it->reason == DECODE_OK && strlen(it->ev.event_key) == 0)
                        abort();
        }
        return 0;
}
