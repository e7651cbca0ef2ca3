/* cppo-notify — a YAML document as a tree of nodes with source locations.
 *
 * Built from libyaml's event stream so every node keeps the 1-based
 * line/column where it starts; the config loader reports errors there.
 * Anchors/aliases, tags and multi-document streams are refused: config
 * files do not need them and aliases allow exponential expansion.
 */
#ifndef CPPO_YAMLDOC_H
#define CPPO_YAMLDOC_H

#include "cppo/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_tree.h>

#define YAMLDOC_MAX_DEPTH 64
#define YAMLDOC_MAX_NODES 100000

enum ynode_kind { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP };

struct ynode {
        enum ynode_kind kind;
        int line;    /* 1-based */
        int col;     /* 1-based */
        char *value; /* scalars: NUL-terminated text */
        size_t len;  /* scalars: length of value */
        bool plain;  /* scalars: unquoted (may be a number, bool, null) */
        /* seq: items; map: keys at even, values at odd indexes */
        struct ynode **items;
        size_t count;
};

/* Parses one YAML document from data[0..len). On a syntax or limit error
 * returns -EINVAL and sets *line and *col (1-based) and err to the problem. An
 * empty document gives *out == NULL and 0. */
CPPO_MUST_CHECK int yamldoc_parse(struct ynode **out, const char *data, size_t len, int *line,
                                  int *col, char *err, size_t errlen);

/* Where the construct a syntax error left unfinished began, when libyaml
 * knows it and it is not where parsing stopped: an unclosed [ or {, an
 * unterminated quote. line == 0 when there is none. */
struct yamldoc_context {
        int line;      /* 1-based */
        int col;       /* 1-based */
        char what[96]; /* "unclosed flow sequence started here" */
};

/* yamldoc_parse, also filling *ctx (may be NULL) on a syntax error. */
CPPO_MUST_CHECK int yamldoc_parse_context(struct ynode **out, const char *data, size_t len,
                                          int *line, int *col, char *err, size_t errlen,
                                          struct yamldoc_context *ctx);

/* For maps: the value node of the first key equal to key, or NULL. */
const struct ynode *yamldoc_get(const struct ynode *map, const char *key);

/* Converts a node tree to a yajl tree: quoted scalars become strings; plain
 * scalars true/false, null/~/empty and numbers become those JSON types.
 * Map keys must be scalars (-EINVAL otherwise). Free with yajl_tree_free. */
CPPO_MUST_CHECK int yamldoc_to_yajl(const struct ynode *n, yajl_val *out);

void yamldoc_free(struct ynode *n);

#endif
