#!/usr/bin/env python3
"""`cppo-notifyctl rejected` (issue 11 item 6): --json gives every rejected
input's bytes back exactly (raw_base64 always, raw as a JSON string when
they are UTF-8, else null) and the received time in RFC 3339; `rejected
requeue ID` feeds an input through the pipeline again: refused for an
unknown id; queued through the inbox without --apply; with --apply after a
fix (kafka.max_message_bytes raised) it is decoded, correlated and stored
(its notification exists), and the row is kept, marked accepted; an input
still broken is rejected again with its reason, kept, with no second row;
an accepted one cannot be requeued twice; `rejected --config` works. TAP.
With CPPO_TEST_STORE=pg (rejected-cli-pg) on PostgreSQL, the same expectations.

Usage: rejected-cli.py CPPO_NOTIFYCTL
"""
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import events as ev  # noqa: E402
import tap  # noqa: E402  (test/tools, beside this script's folder)
import teststore  # noqa: E402

CTL = sys.argv[1]
def run(*args, stdin=None):
    p = subprocess.run([CTL, *args], capture_output=True, input=stdin, timeout=60)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def config(d, max_bytes, stores, db):
    path = os.path.join(d, "cppo-notify.yaml")
    with open(path, "w") as f:
        f.write("kafka:\n  brokers: 127.0.0.1:9\n  topics: [t]\n  group: g\n"
                f"  max_message_bytes: {max_bytes}\n" + stores.yaml(db) +
                f"receivers:\n  out:\n    type: file\n    path: {d}/out.jsonl\n")
    return path


def registration(pad):
    """A valid event, its name padded to make it large."""
    # the fewest fields a registration needs (registration() writes them all)
    detail = {"resaleAuthorizationId": "ra-rej-1", "name": "Deal " + "x" * pad,
              "productId": "prod-rej", "resellerAccountId": "444455556666",
              "buyerAccountIds": ["123412341234"]}
    return json.dumps(ev.envelope(ev.REGISTERED, detail, "rej-reg-1",
                                  "2025-03-04T09:15:27Z"), separators=(",", ":")).encode()


# Bytes and how they are rejected: not UTF-8; UTF-8 with a tab, a quote, a
# backslash and a non-ASCII letter (broken JSON); too large for 1024 bytes.
BAD_UTF8 = b'{"detail-type":"x\xff\xfe"}'
BROKEN = '{"name":"M\u00fcller \t \\" \\\\ \u20ac'.encode()
LARGE = registration(1500)


def main():
    d = tempfile.mkdtemp(prefix="cppo-rejected-")
    stores = teststore.Stores()
    try:
        db = stores.new(os.path.join(d, "state.db"))
        cfg = config(d, 1024, stores, db)
        lines = os.path.join(d, "in.jsonl")
        with open(lines, "wb") as f:
            f.write(BAD_UTF8 + b"\n" + BROKEN + b"\n" + LARGE + b"\n")
        rc, _, err = run("replay", "--config", cfg, lines)
        tap.ok("replay stores three rejected inputs", rc == 1 and "3 rejected" in err, err)

        rc, out, err = run("rejected", "--config", cfg, "--json", "--limit", "0")
        rows = [json.loads(line) for line in out.splitlines()] if rc == 0 else []
        by_bytes = {base64.b64decode(r["raw_base64"]): r for r in rows}
        tap.ok("--config works; raw_base64 gives every input's bytes exactly",
               rc == 0 and set(by_bytes) == {BAD_UTF8, BROKEN, LARGE}, out + err)
        tap.ok("raw is the faithful JSON string of UTF-8 input",
               by_bytes.get(BROKEN, {}).get("raw", "").encode() == BROKEN and
               by_bytes.get(LARGE, {}).get("raw", "").encode() == LARGE, out)
        tap.ok("raw is null when not UTF-8",
               BAD_UTF8 in by_bytes and by_bytes[BAD_UTF8]["raw"] is None and
               by_bytes[BAD_UTF8]["raw_bytes"] == len(BAD_UTF8), out)
        tap.ok("received_at is RFC 3339 UTC; nothing requeued yet",
               all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["received_at"]) for r in rows)
               and all(r["requeue"] is None for r in rows), out)
        large = by_bytes.get(LARGE, {"id": 0})
        broken = by_bytes.get(BROKEN, {"id": 0})
        tap.ok("the large input was too_large", large.get("reason") == "too_large", large)
        tap.ok("too_large names the input's actual size and the limit",
               large.get("message") == f"message of {len(LARGE)} bytes is over the 1024 byte limit", large)

        rc, _, err = run("rejected", "requeue", "999", "--config", cfg)
        tap.ok("requeue of an unknown id: exit 1", rc == 1 and "no rejected input 999" in err, err)
        for args in (["requeue"], ["requeue", "x"], ["requeue", "1", "--json"], ["--apply"]):
            rc, _, err = run("rejected", *args)
            tap.ok(f"rejected {' '.join(args)}: usage error", rc == 2 and "usage:" in err, err)

        # the fix: a larger message limit; without --apply it waits in the inbox
        cfg = config(d, 65536, stores, db)
        rc, out, err = run("rejected", "requeue", str(large["id"]), "--config", cfg)
        tap.ok("requeue queues for the daemon",
               rc == 0 and "queued as inbox entry" in out, out + err)
        rc, out, _ = run("rejected", "--config", cfg, "--json", "--limit", "0")
        row = next((json.loads(x) for x in out.splitlines() if json.loads(x)["id"] == large["id"]),
                   {})
        tap.ok("the row says pending", row.get("requeue") == "pending", row)
        rc, out, err = run("rejected", "requeue", str(large["id"]), "--config", cfg)
        tap.ok("a pending requeue is not queued twice", rc == 1 and "already requeued" in err, err)

        rc, out, err = run("rejected", "requeue", str(broken["id"]), "--config", cfg, "--apply")
        tap.ok("requeue --apply of a still broken input: rejected again, why, exit 1",
               rc == 1 and "rejected again: invalid_json" in out and "kept" in out, out + err)
        tap.ok("no second rejected row for it",
               stores.sql(db, "SELECT COUNT(*) FROM rejected") == [(3,)], "")
        tap.ok("the same --apply fed the pending large input: its authorization is stored",
               stores.sql(db, "SELECT COUNT(*) FROM authorizations WHERE id = 'ra-rej-1'")
               == [(1,)], "")
        rc, out, _ = run("rejected", "--config", cfg, "--json", "--limit", "0")
        state = {json.loads(x)["id"]: json.loads(x) for x in out.splitlines()}
        tap.ok("the accepted row is kept, marked accepted, bytes intact",
               state.get(large["id"], {}).get("requeue") == "accepted" and
               base64.b64decode(state[large["id"]]["raw_base64"]) == LARGE, state.get(large["id"]))
        b = state.get(broken["id"], {})
        tap.ok("the rejected-again row says why and when",
               b.get("requeue") == "rejected" and b.get("requeue_error", "").startswith("invalid_json")
               and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b.get("requeued_at", "")), b)
        rc, out, _ = run("rejected", "--config", cfg)
        tap.ok("the listing shows each requeue's outcome",
               rc == 0 and f": accepted\n" in out and ": rejected: invalid_json" in out, out)
        rc, _, err = run("rejected", "requeue", str(large["id"]), "--config", cfg)
        tap.ok("an accepted input is not requeued again",
               rc == 1 and "already requeued" in err and "accepted" in err, err)
        tap.ok("the inbox is consumed",
               stores.sql(db, "SELECT COUNT(*) FROM inbox WHERE consumed_at IS NULL") == [(0,)], "")
        tap.ok("the store is the one CPPO_TEST_STORE asks for", stores.backend_ok(db), db)
    finally:
        stores.close()
        shutil.rmtree(d, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
