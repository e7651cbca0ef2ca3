/* cppo-notify — the packed form of a stored document (a notification's
 * context, a delivery's payload): raw deflate (RFC 1951) with a preset
 * dictionary written from our own documents' field names and fixed
 * strings, behind a two-byte marker.
 *
 * The packed form is PACK_MARKER, a version byte, the original length as
 * an unsigned LEB128 number (at most 4 bytes), the CRC-32 of the original
 * (4 bytes, little-endian: raw deflate checks nothing itself, and a
 * corrupt value must fail, not read as another document), then the
 * deflate stream. The
 * version names the dictionary: the dictionary is part of the format, so a
 * changed dictionary takes a new version byte and every older version
 * stays readable forever.
 *
 * Why a NUL marker: every value stored before packing existed is text that
 * never starts with a NUL byte (a context is a JSON object, '{'; a payload
 * is an RFC 5322 message, a JSON document or a JSON line). So a value
 * whose first byte is not PACK_MARKER is plain and unpack() returns it
 * unchanged: stores written by older versions read as before. */
#ifndef CPPO_PACK_H
#define CPPO_PACK_H

#include "cppo/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The first byte of every packed value. */
#define PACK_MARKER 0x00
/* The version pack() writes: 1 = the dictionary of pack.c's dict_v1. */
#define PACK_VERSION 1
/* The largest document pack() packs (a larger one is stored as it is)
 * and the largest a packed value may claim: unpack() refuses more with
 * -E2BIG before anything is allocated. */
#define PACK_MAX ((size_t)16 << 20)

/* Whether len bytes at in are in the packed form (start with PACK_MARKER). */
bool pack_is_packed(const void *in, size_t len);

/* Packs len bytes at in. When the packed form is shorter, *out is it
 * (malloc'd, the caller frees) and *out_len its length; otherwise *out is
 * NULL and the value is to be stored as it is: so is anything over
 * PACK_MAX. A value that itself starts with PACK_MARKER is always packed
 * (stored plain it would read as packed). The output is a function of the
 * input alone (the same bytes give the same packed bytes with the same
 * zlib). 0, -ENOMEM, or -E2BIG for a value over PACK_MAX that starts with
 * PACK_MARKER (it can be stored neither way). */
CPPO_MUST_CHECK int pack(const void *in, size_t len, uint8_t **out, size_t *out_len);

/* The document len bytes at in hold: a packed value unpacked, a plain one
 * copied unchanged. *out is malloc'd (the caller frees), NUL-terminated
 * after *out_len bytes, never NULL on success. 0, -ENOMEM, -E2BIG when a
 * packed value claims a document larger than PACK_MAX (a plain value of
 * any size is copied), or -EINVAL for a packed value
 * that is truncated, corrupt (its CRC-32 differs), longer or shorter than
 * it claims, or of a
 * version this program does not know. */
CPPO_MUST_CHECK int unpack(const void *in, size_t len, char **out, size_t *out_len);

#endif
