/* cppo-notify — EventBridge content filters over JSON values.
 *
 * A pattern uses Amazon EventBridge content-filter syntax and is applied to
 * a JSON document (routing applies it to the notification context):
 *   - a pattern is an object; each key must match the same key of the
 *     document (nested objects nest, as in EventBridge);
 *   - a leaf is an array of alternatives (any of): literal strings, numbers,
 *     booleans, null, or one-key operator objects: {"prefix": s},
 *     {"suffix": s} (either also {"equals-ignore-case": s} in place of s),
 *     {"wildcard": "a*b"}, {"equals-ignore-case": s}, {"exists": bool},
 *     {"numeric": [">", 0, "<=", 5]}, {"cidr": "10.0.0.0/24"},
 *     {"anything-but": v | [v...] | {op: s | [s...]}};
 *   - "$or": [pattern, pattern, ...] at any object level (nested too): the
 *     level matches when its other keys match and any alternative matches
 *     the same document object;
 *     YAML convenience: a scalar leaf is treated as a one-element array;
 *   - when the document value is an array, the leaf matches if any element
 *     matches (EventBridge semantics).
 *
 * Details, where EventBridge leaves room or YAML adds some:
 *   - YAML convenience 2: a mapping whose one key is an operator name is
 *     that operator as a one-element list (`link: {anything-but: none}`);
 *     an operator name next to other keys is a validation error;
 *   - comparisons are typed: "25" never equals 25, "true" never equals
 *     true; numbers compare by value (25 == 25.0), integers exactly. In
 *     YAML an unquoted 444455556666 is a number: quote account ids;
 *   - JSON null is a present value: `exists: true` matches it,
 *     `exists: false` does not, `null` as a literal matches it, and
 *     anything-but matches it unless the argument names null;
 *     `exists: false` matches an absent key and an empty array;
 *   - a leaf never matches a document object (not even `exists`); a nested
 *     pattern over a scalar, null or absent value sees all its keys absent,
 *     so only `exists: false` leaves under it can match; over an array of
 *     objects, one element must match the whole nested pattern;
 *   - anything-but matches a present leaf its argument does not match; its
 *     argument is a string or a number, a non-empty list of strings or of
 *     numbers (not mixed, no null or booleans: event-ruler refuses them),
 *     or one of {prefix}, {suffix}, {wildcard}, {equals-ignore-case} with a
 *     string or a non-empty list of strings (an empty prefix or suffix is
 *     refused);
 *   - numeric matches JSON numbers only (the context document's metadata
 *     values are strings); a range is one lower bound (> >=) and one upper
 *     bound (< <=) in either order, and must not be empty; "=" stands alone;
 *   - wildcard: `*` any run of bytes, `\*` a literal star, `\\` a
 *     literal backslash; any other backslash and "**" are invalid;
 *   - equals-ignore-case (alone, under prefix/suffix, in anything-but)
 *     works like event-ruler: each BMP character of the pattern stands for
 *     its lower- and upper-case forms (Unicode's full mappings, table in
 *     src/util/casefold.h), compared with the value as written: "ß" matches
 *     "SS", "SS" does not match "ß"; characters beyond the BMP as written;
 *   - cidr: IPv4 or IPv6 "address/bits", bits below the address width
 *     (< 32, < 128), host bits ignored; matches a string that is an
 *     address inside (IPv4-mapped IPv6 counts as IPv4). A literal string
 *     that is an address compares as an address ("::1" == "0::1");
 *   - empty lists and empty mappings in a pattern are invalid.
 */
#ifndef CPPO_PATTERN_H
#define CPPO_PATTERN_H

#include "cppo/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_tree.h>

/* Checks that pattern is a well-formed content filter. 0 (*where set to
 * NULL), or -EINVAL with err naming the first problem and *where set to the
 * offending sub-pattern node (so the caller can map it to a source
 * location; where may be NULL). */
CPPO_MUST_CHECK int pattern_validate(yajl_val pattern, yajl_val *where, char *err, size_t errlen);

/* Whether doc matches pattern (a pattern that pattern_validate accepted). */
bool pattern_match(yajl_val pattern, yajl_val doc);

#endif
