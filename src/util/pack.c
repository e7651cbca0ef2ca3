/* cppo-notify — packed documents (pack.h): raw deflate with a preset
 * dictionary, behind a marker and a version byte. */
#include "cppo/pack.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Version 1's preset dictionary, written for our own documents: what a
 * notification's context, the file/webhook line around it, an e-mail, a
 * Slack message and a Teams card always repeat (keys, kinds, link names,
 * event names, MIME headers and the boundary prefix, block keys). Deflate
 * codes a nearer match in fewer bits, so the most common text, the
 * context's own skeleton, comes last. Part of the format: never edit it;
 * a new dictionary is a new version with a new table entry below. */
static const char dict_v1[] =
    /* Teams: Adaptive Card 1.5 in a Workflows message */
    "{\"type\":\"message\",\"attachments\":[{\"contentType\":\"application/vnd.microsoft.card."
    "adaptive\",\"content\":{\"type\":\"AdaptiveCard\",\"$schema\":\"http://adaptivecards.io/"
    "schemas/adaptive-card.json\",\"version\":\"1.5\",\"body\":[{\"type\":\"TextBlock\",\"size\":"
    "\"Large\",\"weight\":\"Bolder\",\"wrap\":true,\"text\":\"\"},{\"type\":\"FactSet\",\"facts\":"
    "[{\"title\":\"Opportunity\",\"value\":\"\"},{\"title\":\"Offer\",\"value\":\"\"}]}]}}]}"
    /* Slack */
    "{\"text\":\"New order: \",\"blocks\":[{\"type\":\"header\",\"text\":{\"type\":\"plain_text\","
    "\"text\":\"\"}},{\"type\":\"section\",\"fields\":[{\"type\":\"mrkdwn\",\"text\":\"*"
    "Opportunity*"
    "\\n\"},{\"type\":\"mrkdwn\",\"text\":\"*Offer*\\n\"},{\"type\":\"mrkdwn\",\"text\":\"*Buyer "
    "company*\\n\"},{\"type\":\"mrkdwn\",\"text\":\"*Buyer accounts*\\n\"},{\"type\":\"mrkdwn\","
    "\"text\":\"*Partner*\\n\"},{\"type\":\"mrkdwn\",\"text\":\"*Product*\\n\"}]},{\"type\":"
    "\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":\"*Details*\\n*Registered:* yes\\n*Offer "
    "expires:* \\n*How linked:* \\n*Agreement:* \\n*Accepted:* \\n*Starts:* \\n*Ends:* \\n"
    "*Opportunity expires:* \\n*Contacts:* \"}},{\"type\":\"context\",\"elements\":[{\"type\":"
    "\"mrkdwn\",\"text\":\"cppo-notify \"}]}]}"
    /* e-mail */
    "Date: \r\nFrom: \r\nTo: \r\nSubject: \r\nMessage-ID: <@cppo-notify>\r\nIn-Reply-To: \r\n"
    "References: \r\nMIME-Version: 1.0\r\nAuto-Submitted: auto-generated\r\n"
    "X-CPPO-Opportunity-Id: \r\nX-CPPO-Notification-Key: \r\nContent-Type: multipart/alternative;"
    "\r\n boundary=\"=_cppo_\"\r\n\r\n--=_cppo_\r\nContent-Type: text/plain; charset=UTF-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n\r\n--=_cppo_\r\nContent-Type: text/html; "
    "charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    "Opportunity:         \r\nRegistered:          yes\r\nBuyer company:       \r\n"
    "Buyer accounts:      \r\nPartner:             \r\nProduct:             \r\n"
    "Offer:               \r\nOffer expires:       \r\nHow linked:          \r\n"
    "A buyer accepted a channel partner private offer. This is the bookable record. "
    "(opportunity ) via Partner bought (account \r\n--=_cppo_--\r\n"
    /* words of the values */
    "Resale Authorization Registered|Resale Authorization Updated|Resale Authorization Synced|"
    "Offer Released|Offer Associated|Purchase Agreement Amended|Purchase Agreement Ended|"
    "Purchase Agreement Created - Proposer|Purchase Agreement Created - Manufacturer|"
    "partner_offer_extended/offer-new_order/agmt-amended_offer/order_ended/attention_needed/"
    "link_corrected/\"link\":\"registered\",\"link\":\"inferred\",\"link\":\"manual\","
    "\"link\":\"aws\",\"late_reason\":\"after_hold\",\"intent\":\"AMEND\",\"status\":\"ENDED\","
    "\"previous_opportunity\":{\"id\":\"resaleauthz-\",\"previous_link\":\"\",\"correction\":{"
    "\"seq\":"
    "\"previous_opportunity_id\":\"resaleauthz-\",\"opportunity_id\":\"\",\"actor\":\"\",\"aws_"
    "status\":"
    "\"Active\",\"opportunities\":[],\"metadata\":{},\"T00:00:00Z\",\"expires_at\":null,"
    /* the file/webhook line around a context */
    "{\"version\":1,\"kind\":\"\",\"key\":\"\",\"summary\":\"\",\"test\":false}"
    /* a context's skeleton, as corr_context.c writes it */
    "{\"kind\":\"new_order\",\"key\":\"new_order/agmt-\",\"opportunity\":{\"id\":\"resaleauthz-\","
    "\"name\":\"\",\"buyer_company_name\":\"\",\"metadata\":{\"region\":\"\"},\"notify\":[\"@"
    "example.com\"],\"registered\":true,\"expires_at\":\"T00:00:00Z\"},\"partner\":"
    "{\"account_id\":\"\",\"name\":\"Partner \"},\"buyer\":{\"account_ids\":[\"\"]},\"product\":"
    "{\"id\":\"prod-\",\"title\":\"\"},\"offer\":{\"id\":\"offer-\",\"name\":\"\",\"expiration\":"
    "\"T00:00:00Z\",\"link\":\"event\",\"late\":false,\"late_reason\":null},"
    "\"agreement\":{\"id\":\"agmt-\",\"intent\":\"NEW\",\"status\":\"ACTIVE\",\"acceptance_time\""
    ":\"\",\"start_time\":\"\",\"end_time\":\"\",\"previous_agreement_id\":"
    "null,\"renewal\":false},\"reason\":null,\"source_event_keys\":[\"|Offer Released|\"]}"
    "\"kind\":\"partner_offer_extended\",\"key\":\"partner_offer_extended/offer-\","
    "\"agreement\":{\"id\":null,\"intent\":null,\"status\":null,\"acceptance_time\":null,"
    "\"start_time\":null,\"end_time\":null,\"previous_agreement_id\":null,\"renewal\":false},"
    "\"reason\":null,\"source_event_keys\":[\""
    /* ... and one that knows little yet (an unregistered authorization) */
    "\"opportunity\":{\"id\":\"resaleauthz-\",\"name\":null,\"buyer_company_name\":null,"
    "\"metadata\":{},\"notify\":[],\"registered\":false,\"expires_at\":null},\"product\":"
    "{\"id\":null,\"title\":null},\"offer\":{\"id\":\"offer-\",\"name\":null,"
    "\"expiration\":null,\"link\":\"event\",\"late\":true,\"late_reason\":"
    "\"after_acceptance\"},";

/* The dictionaries by version; index 0 is unused (no version 0). */
static const struct {
        const char *bytes;
        size_t len;
} dicts[] = {
        [PACK_VERSION] = { dict_v1, sizeof dict_v1 - 1 },
};

#define N_DICTS     (sizeof dicts / sizeof dicts[0])
#define LEN_BYTES   4 /* LEB128 digits of the original length: 28 bits > PACK_MAX */
#define CRC_BYTES   4 /* CRC-32 of the document, little-endian */
#define HEADER_MAX  (2 + LEN_BYTES + CRC_BYTES)
#define DEFLATE_LVL 6 /* zlib's default: level 9 saves under 1 % on these documents */

bool pack_is_packed(const void *in, size_t len)
{
        return len > 0 && ((const uint8_t *)in)[0] == PACK_MARKER;
}

/* Writes n as LEB128 into out (LEN_BYTES at most); the bytes written. */
static size_t put_len(uint8_t *out, size_t n)
{
        size_t i = 0;

        do {
                out[i] = (uint8_t)(n & 0x7f);
                n >>= 7;
                if (n)
                        out[i] |= 0x80;
                i++;
        } while (n);
        return i;
}

/* The CRC-32 of a document: what tells a corrupt packed value (raw
 * deflate carries no check of its own) from the document. */
static uint32_t crc_of(const void *p, size_t n)
{
        return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)n);
}

static void put_crc(uint8_t *out, uint32_t crc)
{
        for (int i = 0; i < CRC_BYTES; i++)
                out[i] = (uint8_t)(crc >> (8 * i));
}

static uint32_t get_crc(const uint8_t *in)
{
        uint32_t crc = 0;

        for (int i = 0; i < CRC_BYTES; i++)
                crc |= (uint32_t)in[i] << (8 * i);
        return crc;
}

/* Reads the LEB128 length after the marker and version. The header's
 * size, or -EINVAL (truncated, too many digits). */
static int get_len(const uint8_t *in, size_t len, size_t *n)
{
        *n = 0;
        for (size_t i = 2; i < len && i < 2 + LEN_BYTES; i++) {
                *n |= (size_t)(in[i] & 0x7f) << (7 * (i - 2));
                if ((in[i] & 0x80) == 0)
                        return (int)i + 1;
        }
        return -EINVAL;
}

/* The smallest window that holds the dictionary and the document (any
 * inflate window, 15, reads a stream made with a smaller one). zlib
 * allocates and clears a state of several times the window on every call:
 * sized to the document (8 KiB for a context), packing a context took 15
 * microseconds here instead of the 44 of zlib's default window. */
static int window_bits(size_t len)
{
        int bits = 9; /* raw deflate's smallest */

        while (bits < 15 && ((size_t)1 << bits) < dicts[PACK_VERSION].len + len)
                bits++;
        return bits;
}

/* The hash table to match: memLevel 8 (zlib's default) for the largest
 * windows, smaller below, with the same matches found on documents this
 * small. */
static int mem_level(int bits)
{
        int level = bits - 7;

        return level < 1 ? 1 : level > 8 ? 8 : level;
}

/* Deflates len bytes at in after the header of out (hdr bytes), into at
 * most cap bytes in all. The packed size, 0 when it does not fit (no
 * saving), or -ENOMEM. */
static long deflate_into(const void *in, size_t len, uint8_t *out, size_t hdr, size_t cap)
{
        int bits = window_bits(len), rc;
        z_stream z = { 0 };
        long r;

        if (deflateInit2(&z, DEFLATE_LVL, Z_DEFLATED, -bits, mem_level(bits), Z_DEFAULT_STRATEGY) !=
            Z_OK)
                return -ENOMEM;
        rc = deflateSetDictionary(&z, (const Bytef *)dicts[PACK_VERSION].bytes,
                                  (uInt)dicts[PACK_VERSION].len);
        z.next_in = (Bytef *)(uintptr_t)in; /* zlib's API is not const; it only reads */
        z.avail_in = (uInt)len;
        z.next_out = out + hdr;
        z.avail_out = (uInt)(cap - hdr);
        if (rc == Z_OK)
                rc = deflate(&z, Z_FINISH);
        r = rc == Z_STREAM_END                ? (long)(hdr + z.total_out)
            : rc == Z_OK || rc == Z_BUF_ERROR ? 0
                                              : -ENOMEM;
        (void)deflateEnd(&z);
        return r;
}

/* Room for any deflate stream of len bytes (stored blocks at worst) and
 * the header: zlib's bound for non-default parameters, with slack. */
static size_t packed_bound(size_t len)
{
        return HEADER_MAX + len + ((len + 7) >> 3) + ((len + 63) >> 6) + 5 + 16;
}

int pack(const void *in, size_t len, uint8_t **out, size_t *out_len)
{
        /* A plain value that starts with the marker would read as packed,
         * so it is always packed, whatever that costs (payloads are bytes;
         * contexts and older values never start with NUL). */
        bool must = pack_is_packed(in, len);
        size_t hdr, cap = must ? packed_bound(len) : len - 1; /* else: save a byte */
        uint8_t *buf;
        long n;

        *out = NULL;
        *out_len = 0;
        if (len > PACK_MAX)
                return must ? -E2BIG : 0; /* stored as it is */
        if (len <= HEADER_MAX && !must)
                return 0; /* nothing this short gets shorter */
        buf = malloc(cap);
        if (buf == NULL)
                return -ENOMEM;
        buf[0] = PACK_MARKER;
        buf[1] = PACK_VERSION;
        hdr = 2 + put_len(buf + 2, len);
        put_crc(buf + hdr, crc_of(in, len));
        hdr += CRC_BYTES;
        n = deflate_into(in, len, buf, hdr, cap);
        if (n <= 0) {
                free(buf);
                return n == 0 && must ? -EIO : (int)n; /* the bound is zlib's: cannot */
        }
        *out = buf;
        *out_len = (size_t)n;
        return 0;
}

/* A plain value, whatever its size (it was stored so): a NUL-terminated
 * copy. */
static int copy_plain(const void *in, size_t len, char **out, size_t *out_len)
{
        char *c;

        if (len == SIZE_MAX)
                return -E2BIG;
        c = malloc(len + 1);
        if (c == NULL)
                return -ENOMEM;
        if (len > 0)
                memcpy(c, in, len);
        c[len] = '\0';
        *out = c;
        *out_len = len;
        return 0;
}

/* Inflates the stream after the header into want bytes at out: it must
 * end exactly there and use every input byte. 0, -EINVAL or -ENOMEM. */
static int inflate_exact(const uint8_t *in, size_t len, unsigned version, char *out, size_t want)
{
        z_stream z = { 0 };
        int rc;

        if (inflateInit2(&z, -15) != Z_OK)
                return -ENOMEM;
        rc = inflateSetDictionary(&z, (const Bytef *)dicts[version].bytes,
                                  (uInt)dicts[version].len);
        z.next_in = (Bytef *)(uintptr_t)in;
        z.avail_in = (uInt)len;
        z.next_out = (Bytef *)out;
        z.avail_out = (uInt)want;
        if (rc == Z_OK)
                rc = inflate(&z, Z_FINISH);
        if (rc == Z_MEM_ERROR) {
                (void)inflateEnd(&z);
                return -ENOMEM;
        }
        rc = rc == Z_STREAM_END && z.total_out == want && z.avail_in == 0 ? 0 : -EINVAL;
        (void)inflateEnd(&z);
        return rc;
}

int unpack(const void *in, size_t len, char **out, size_t *out_len)
{
        const uint8_t *p = in;
        size_t want;
        char *buf;
        uint32_t crc;
        int hdr, r;

        *out = NULL;
        *out_len = 0;
        if (!pack_is_packed(in, len))
                return copy_plain(in, len, out, out_len);
        if (len > 2 * PACK_MAX)
                return -E2BIG; /* no document within the cap packs this large */
        if (len < 2 || p[1] == 0 || p[1] >= N_DICTS || dicts[p[1]].bytes == NULL)
                return -EINVAL; /* truncated, or a version this program does not know */
        hdr = get_len(p, len, &want);
        if (hdr < 0)
                return hdr;
        if (want > PACK_MAX)
                return -E2BIG;
        if (len - (size_t)hdr < CRC_BYTES)
                return -EINVAL;
        crc = get_crc(p + hdr);
        hdr += CRC_BYTES;
        buf = malloc(want + 1);
        if (buf == NULL)
                return -ENOMEM;
        r = inflate_exact(p + hdr, len - (size_t)hdr, p[1], buf, want);
        if (r == 0 && crc_of(buf, want) != crc)
                r = -EINVAL;
        if (r < 0) {
                free(buf);
                return r;
        }
        buf[want] = '\0';
        *out = buf;
        *out_len = want;
        return 0;
}
