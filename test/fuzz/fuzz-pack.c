/* Fuzz target: packed documents (pack.h).
 *
 * The input is read as a stored value: unpack() must return 0 or an error
 * (-EINVAL, -E2BIG), never crash or read past the input; what it returns
 * for a plain value (first byte not PACK_MARKER) is the input itself. The
 * input is also a document: pack() then unpack() must give it back byte
 * for byte, packed only when shorter unless it starts with PACK_MARKER
 * (then always). abort() on any other outcome.
 */
#include "cppo/pack.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* data as a stored value. */
static void read_stored(const uint8_t *data, size_t size)
{
        char *out = NULL;
        size_t n = 0;
        int r = unpack(data, size, &out, &n);

        if (r != 0 && r != -EINVAL && r != -E2BIG && r != -ENOMEM)
                abort();
        if (r == 0 && (out == NULL || out[n] != '\0'))
                abort();
        if (r == 0 && !pack_is_packed(data, size) && (n != size || memcmp(out, data, n) != 0))
                abort();
        free(out);
}

/* data as a document: packed and unpacked, the same bytes. */
static void round_trip(const uint8_t *data, size_t size)
{
        uint8_t *packed = NULL;
        char *out = NULL;
        size_t plen = 0, n = 0;

        bool must = pack_is_packed(data, size); /* stored plain it would read as packed */

        if (pack(data, size, &packed, &plen) != 0)
                abort(); /* the fuzzer's inputs are far below PACK_MAX */
        if (packed == NULL && must)
                abort();
        if (packed == NULL)
                return; /* no saving: stored as it is */
        if ((plen >= size && !must) || !pack_is_packed(packed, plen))
                abort();
        if (unpack(packed, plen, &out, &n) != 0 || n != size || memcmp(out, data, size) != 0)
                abort();
        free(out);
        free(packed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        read_stored(data, size);
        round_trip(data, size);
        return 0;
}
