/* cppo-notifyctl — what the store-facing subcommands share: finding the
 * store from --config or --state, writing inbox events, applying the inbox
 * with the CLI's own pipeline, and printing notifications. */
#ifndef CPPO_CTLSTORE_H
#define CPPO_CTLSTORE_H

#include "cppo/config.h"
#include "cppo/model.h"
#include "cppo/pipeline.h"
#include "cppo/store.h"

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>

/* Where the store is and how the pipeline must run, from --config FILE (the
 * store path and the correlation flags) or --state DB (defaults). With
 * both, DB is the store and FILE gives the flags; one is required (a
 * default could silently reach the production store). Only the store part of FILE is needed
 * (CONFIG_NEED_STORE): the daemon's Kafka, SMTP, HTTP and receiver
 * settings may refer to variables that are unset where the CLI runs. */
struct ctl_target {
        const char *config; /* --config, or NULL */
        const char *state;  /* --state, or NULL */
};

/* getopt_long for a store command: --config FILE (-c) and --state DB (-s)
 * are taken into t here and never returned, so every store command parses
 * them the same way; the caller's shortopts and longopts (at most 32
 * entries) must not list them. Returns as getopt_long does ('?' also when
 * the tables are too long). Reset optind before the first call. */
int ctl_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
               struct ctl_target *t);

/* Opens the store named by t. Prints the reason on stderr prefixed with
 * "cppo-notifyctl CMD: ". Returns a CTL_EXIT_* code; po (may be NULL)
 * receives the pipeline options (store set) when it is CTL_EXIT_OK. */
int ctl_open_store(const char *cmd, const struct ctl_target *t, bool read_only, struct store **out,
                   struct pipeline_options *po);

/* The store path (or postgresql:// URL) t names, into path (len bytes); so
 * (may be NULL) and po (may be NULL) receive the configuration's store and
 * pipeline settings (so->password stays valid for the process).
 * For commands that open the store themselves. Returns a CTL_EXIT_* code,
 * the reason printed as for ctl_open_store. */
int ctl_store_path(const char *cmd, const struct ctl_target *t, char *path, size_t len,
                   struct store_options *so, struct pipeline_options *po);

/* A yajl generator with an EventBridge event opened:
 * version, a random id, detail-type, source "cppo-notify", time = now;
 * the "detail" map is open for the caller to fill. NULL on -ENOMEM. */
yajl_gen ctl_event_open(const char *detail_type);

/* Closes detail and event and returns the text (free() it), or NULL when
 * memory ran out. Strings must be valid UTF-8 (ctl_valid_text). */
char *ctl_event_close(yajl_gen g);

/* Writes payload to the inbox; with apply, then runs the pipeline on the
 * inbox (only safe when no daemon runs on the store) and prints what it
 * created (JSON lines with json). Returns a CTL_EXIT_* code. */
int ctl_submit(const char *cmd, const struct ctl_target *t, const char *payload, bool apply,
               bool json);

/* ctl_event_close(g), then ctl_submit() of the payload, which it frees.
 * A generator that failed is CTL_EXIT_INTERNAL. */
int ctl_submit_event(const char *cmd, const struct ctl_target *t, yajl_gen g, bool apply,
                     bool json);

/* Runs the pipeline over the pending inbox of po's store (only safe when
 * no daemon runs on it) and prints what it created, as ctl_submit with
 * apply does. Returns a CTL_EXIT_* code. */
int ctl_apply_inbox(const char *cmd, struct pipeline_options *po, bool json);

/* One notification as a JSON line: kind, key, opportunity_id, offer_id,
 * agreement_id, late, registered, context (the stored document). */
void ctl_print_notification(const struct notification *n);

/* A whole decimal number of at least min (a --limit, an id): 0, or
 * -EINVAL for anything else (empty, a sign or space left over, too big). */
int ctl_parse_count(const char *s, int64_t min, int64_t *out);

/* "3d 4h", "5m 2s": a duration for people. */
void ctl_format_age(int64_t seconds, char *out, size_t len);

/* Text for people: 1..1024 bytes of valid UTF-8 without control
 * characters. */
bool ctl_valid_text(const char *s);

/* Who runs the command, for the history of what it changes: $SUDO_USER
 * (the person behind sudo), else the login name of the real user id, else
 * "unknown". Never NULL; valid until the next call. */
const char *ctl_actor(void);

/* An id as the CLI accepts it: 1..256 printable ASCII bytes, no space. */
bool ctl_valid_id(const char *s);

#endif
