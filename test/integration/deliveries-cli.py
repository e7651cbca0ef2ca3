#!/usr/bin/env python3
"""`cppo-notifyctl deliveries`: list, --failed, --json, --limit, --config, --unrouted,
show (text, --json, --payload), retry KEY / --all-failed, --help, and the
exit codes of ctl.h, against a store written through the store API by
test/tools/make-deliveries (its comment lists the four deliveries).
Retry is also run while another connection holds the write lock, as the
daemon would. TAP on stdout. With CPPO_TEST_STORE=pg (deliveries-cli-pg)
the store is a PostgreSQL database and the expectations are the same.

Usage: deliveries-cli.py CPPO_NOTIFYCTL MAKE_DELIVERIES
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import tap  # noqa: E402  (test/tools, beside this script's folder)
import teststore  # noqa: E402

CTL, MAKE = sys.argv[1], sys.argv[2]
PAYLOAD = ("Subject: New order\r\nTo: <ops@example.com>\r\n\r\n"
           "Caf\u00e9 \u20ac 12\r\n").encode()
SENT, SALES = "new_order/agmt-1/ops", "new_order/agmt-1/sales"
QUEUED, AMENDED = "partner_offer_extended/o-2/ops", "amended_offer/agmt-3/ops"
NEWEST_FIRST = [AMENDED, QUEUED, SALES, SENT]

def ctl(*args):
    p = subprocess.run([CTL, "deliveries", *args], capture_output=True, timeout=60)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def table_rows(out):
    """The listing's rows as lists of columns (the error column may hold spaces)."""
    lines = out.decode().splitlines()
    return [line.split(None, 6) for line in lines[1:-1]], lines[0], lines[-1]


def json_lines(out):
    return [json.loads(line) for line in out.decode().splitlines()]


def iso_ms(ms):
    """RFC 3339 UTC with milliseconds, as the CLI writes times."""
    t = time.gmtime(ms // 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + ".%03dZ" % (ms % 1000)


def test_usage(tmp):
    for args, first in [(["--help"], "usage: cppo-notifyctl deliveries [--config"),
                        (["show", "--help"], "usage: cppo-notifyctl deliveries show KEY"),
                        (["retry", "--help"], "usage: cppo-notifyctl deliveries retry (KEY")]:
        rc, out, _ = ctl(*args)
        tap.ok(f"{' '.join(args)}: exit 0, own usage", rc == 0 and out.decode().startswith(first),
               f"rc={rc} out={out[:120]!r}")
    for args in (["--bogus"], ["retry"], ["retry", SALES, "--all-failed"], ["show"],
                 ["--limit", "x"], ["--limit", "-1"],
                 ["extra"], ["show", SALES, "--failed"], ["retry", SALES, "--json"],
                 ["show", SALES, "extra"], ["--all-failed"]):
        rc, _, err = ctl(*args)
        tap.ok(f"{' '.join(args)}: usage error, exit 2", rc == 2 and "usage:" in err, f"rc={rc}")
    missing = os.path.join(tmp, "none.db")
    rc, _, err = ctl("--state", missing)
    tap.ok("list of a missing store: exit 3, names the path", rc == 3 and missing in err, err)
    rc, _, err = ctl("retry", "--all-failed", "--state", missing)
    tap.ok("retry of a missing store: exit 3, creates nothing",
           rc == 3 and not os.path.exists(missing),
           err)


def test_list(db, tmp, stores):
    rc, out, err = ctl("--state", db)
    rows, header, footer = table_rows(out)
    tap.ok("list: exit 0, header",
           rc == 0 and header.split() == ["KEY", "RECEIVER", "CHANNEL", "STATUS", "ATTEMPTS", "CODE",
                                      "LAST", "ERROR"], f"{rc} {err}")
    tap.ok("list: newest first", [r[0] for r in rows] == NEWEST_FIRST, rows)
    want = {AMENDED: ["ops", "email", "dead", "1", "550", "550 5.1.1 user unknown"],
            QUEUED: ["ops", "email", "queued", "0", "-", "-"],
            SALES: ["sales", "slack", "dead", "2", "404", "404 no_service\\x0d\\x0abody"],
            SENT: ["ops", "email", "sent", "1", "250", "-"]}
    tap.ok("list: receiver, channel, status, attempts, code, "
           "escaped error", all(r[1:] == want[r[0]] for r in rows), rows)
    tap.ok("list: footer counts",
           footer == "4 deliveries shown; in the store: 1 queued, 0 sending, 1 sent, 2 dead, "
           "0 backfilled", footer)
    rc, out, _ = ctl("--state", db, "--failed")
    rows, _, footer = table_rows(out)
    tap.ok("--failed: dead ones only, exit 1 as there are some",
           rc == 1 and [r[0] for r in rows] == [AMENDED, SALES] and footer.startswith("2 deliveries"), f"{rc} {out}")
    rc, out, _ = ctl("--state", db, "--failed", "--limit", "1")
    tap.ok("--failed --limit 1: still exit 1", rc == 1 and len(table_rows(out)[0]) == 1, f"{rc}")
    rc, out, _ = ctl("--state", db, "--limit", "1")
    rows, _, _ = table_rows(out)
    tap.ok("--limit 1: the newest", rc == 0 and [r[0] for r in rows] == [AMENDED], out)
    config = os.path.join(tmp, "cppo-notify.yaml")
    os.makedirs(os.path.join(tmp, "rules.d"), exist_ok=True)
    with open(config, "w") as f:
        f.write("kafka:\n  brokers: 127.0.0.1:9\n  topics: [t]\n  group: g\n"
                + stores.yaml(db) + "receivers:\n  out:\n    type: file\n"
                f"    path: {tmp}/out.jsonl\n")
    rc, out, err = ctl("--config", config)
    tap.ok("--config: the store of the file",
           rc == 0 and [r[0] for r in table_rows(out)[0]] == NEWEST_FIRST, f"{rc} {err}")


def test_json(db):
    rc, out, _ = ctl("--state", db, "--json")
    objs = json_lines(out)
    tap.ok("--json: one object per line", rc == 0 and [o["key"] for o in objs] == NEWEST_FIRST, out)
    sales = next(o for o in objs if o["key"] == SALES)
    tap.ok("--json: fields exact",
           sales["status"] == "dead" and sales["attempts"] == 2 and sales["last_code"] == 404
           and sales["last_error"] == "404 no_service\r\nbody" and sales["channel"] == "slack"
           and sales["receiver"] == "sales" and sales["kind"] == "new_order"
           and sales["payload_bytes"] == len(PAYLOAD) and sales["opportunity_id"] is None, sales)
    rc, out, _ = ctl("--state", db, "--json", "--failed")
    objs = json_lines(out)
    tap.ok("--json --failed: exit 1", rc == 1 and [o["status"] for o in objs] == ["dead", "dead"],
           f"{rc} {out}")
    tap.ok("--json: RFC 3339 UTC times with milliseconds beside the _ms fields",
           all(o["created_at"] == iso_ms(o["created_at_ms"]) and o["updated_at"] ==
           iso_ms(o["updated_at_ms"]) and o["next_at"] == iso_ms(o["next_at_ms"]) for o in objs)
           and sales["created_at"] == "2025-11-24T16:00:01.000Z", objs)


def test_show(db):
    rc, out, err = ctl("--state", db, "show", SALES)
    text = out.decode()
    history = text.split("history:\n", 1)[-1].splitlines()
    tap.ok("show: the delivery",
           rc == 0 and "status:        dead\n" in text and "receiver:      sales (slack)\n" in text
           and "recipient:     ops@example.com\n" in text and f"payload:       {len(PAYLOAD)} bytes"
           in text, f"{rc} {err} {text}")
    tap.ok("show: attempts oldest first",
           len(history) == 2 and history[0].split()[1:3] == ["retry", "503"]
           and history[1].split()[1:3] == ["dead", "404"] and history[1].endswith("\\x0d\\x0abody"), history)
    rc, out, _ = ctl("--state", db, "show", SALES, "--json")
    obj = json.loads(out)
    tap.ok("show --json: history",
           rc == 0 and [h["outcome"] for h in obj["history"]] == ["retry", "dead"]
           and [h["code"] for h in obj["history"]] == [503, 404]
           and obj["recipients"] == ["ops@example.com"], obj)
    tap.ok("show --json: each attempt's time in RFC 3339 beside at_ms",
           all(h["at"] == iso_ms(h["at_ms"]) for h in obj["history"]), obj)
    rc, out, _ = ctl("--state", db, "show", SENT, "--payload")
    tap.ok("show --payload: the stored bytes exactly", rc == 0 and out == PAYLOAD, out)
    rc, out, err = ctl("--state", db, "show", "no/such/key")
    tap.ok("show of an unknown key: exit 1", rc == 1 and out == b"" and "no/such/key" in err, err)


def test_unrouted(db):
    rc, out, err = ctl("--state", db, "--unrouted")
    lines = out.decode().splitlines()
    rows = [line.split() for line in lines[1:-1]]
    tap.ok("--unrouted: the ones no rule matched, newest first",
           rc == 0 and lines[0].split() == ["CREATED", "KIND", "KEY", "OPPORTUNITY"]
           and rows == [["2025-11-24T16:00:02Z", "attention_needed", "attention_needed/o-5", "ra-5"],
                    ["2025-11-24T16:00:01Z", "order_ended", "order_ended/agmt-4", "-"]]
           and lines[-1] == "2 unrouted notifications shown (no rule matched)", f"{rc} {err} {out}")
    rc, out, _ = ctl("--state", db, "--unrouted", "--json", "--limit", "1")
    tap.ok("--unrouted --json --limit 1",
           rc == 0 and json_lines(out) == [{"key": "attention_needed/o-5", "kind": "attention_needed",
                                        "opportunity_id": "ra-5", "offer_id": None,
                                        "agreement_id": None,
                                        "created_at": "2025-11-24T16:00:02Z"}], out)
    rc, _, _ = ctl("--state", db, "--unrouted", "--failed")
    tap.ok("--unrouted --failed: usage error", rc == 2)


def show_json(db, key):
    return json.loads(ctl("--state", db, "show", key, "--json")[1])


def test_retry(db):
    for key in (QUEUED, SENT, "no/such/key"):
        rc, _, err = ctl("--state", db, "retry", key)
        tap.ok(f"retry {key}: exit 1", rc == 1 and "is not a dead delivery" in err, f"{rc} {err}")
    before = int(time.time() * 1000)
    rc, out, err = ctl("--state", db, "retry", SALES)
    after = int(time.time() * 1000)
    tap.ok("retry KEY: exit 0, count",
           rc == 0 and out == b"1 delivery re-queued\n", f"{rc} {out} {err}")
    obj = show_json(db, SALES)
    tap.ok("retry KEY: queued, due now, a fresh budget, history kept",
           obj["status"] == "queued" and obj["attempts_since_retry"] == 0 and before - 1000 <=
           obj["next_at_ms"] <= after + 1000 and len(obj["history"]) == 2, obj)
    tap.ok("show --json: attempts = the history's length",
           obj["attempts"] == len(obj["history"]) == 2,
           obj)
    rc, out, _ = ctl("--state", db, "show", SALES)
    text = out.decode()
    tap.ok("show: the attempt count matches the history lines",
           rc == 0 and "attempts:      2 (0 since the last retry)\n" in text and
           len(text.split("history:\n", 1)[-1].splitlines()) == 2, text)
    rows = {r[0]: r for r in table_rows(ctl("--state", db)[1])[0]}
    tap.ok("list: ATTEMPTS counts the history too", rows[SALES][4] == "2", rows.get(SALES))
    rc, _, _ = ctl("--state", db, "retry", SALES)
    tap.ok("retry KEY again: not dead any more, exit 1", rc == 1)


def hold_write_lock(db):
    """Another writer in a transaction for 0.3 s: SQLite's write lock, or on
    PostgreSQL the row locks of every delivery (psql, in the background).
    Returns a function that waits for its end."""
    touch = "UPDATE deliveries SET updated_at_ms = updated_at_ms"
    if db.startswith("postgresql://"):
        p = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db, "-c",
                              f"BEGIN; {touch}; SELECT pg_sleep(0.3); COMMIT"],
                             stdout=subprocess.DEVNULL)
        time.sleep(0.1)  # its UPDATE is in before the retry starts (no assertion on time)
        return lambda: p.wait(60)
    conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(touch + " WHERE key = ?", (SENT,))
    release = threading.Timer(0.3, lambda: conn.execute("COMMIT"))
    release.start()
    return lambda: (release.join(), conn.close())


def test_retry_all_while_locked(db):
    """A writer holds the lock for a moment; retry waits (busy timeout)."""
    done = hold_write_lock(db)
    rc, out, err = ctl("--state", db, "retry", "--all-failed")
    done()
    tap.ok("retry --all-failed while a writer works", rc == 0 and out == b"1 delivery re-queued\n",
           f"{rc} {out} {err}")
    rc, out, _ = ctl("--state", db, "retry", "--all-failed")
    tap.ok("retry --all-failed with none: 0, exit 0",
           rc == 0 and out == b"0 deliveries re-queued\n",
           out)
    rc, out, _ = ctl("--state", db)
    footer = table_rows(out)[2]
    tap.ok("after retries: counts",
           footer == "4 deliveries shown; in the store: 3 queued, 0 sending, 1 sent, 0 dead, "
           "0 backfilled", footer)
    rc, out, _ = ctl("--state", db, "--failed")
    tap.ok("--failed with no dead delivery: exit 0", rc == 0 and table_rows(out)[0] == [], f"{rc}")


def main():
    tmp = tempfile.mkdtemp(prefix="cppo-deliveries-")
    stores = teststore.Stores()
    try:
        db = stores.new(os.path.join(tmp, "state.db"))
        test_usage(tmp)
        made = subprocess.run([MAKE, db], capture_output=True, timeout=60)
        tap.ok("make-deliveries wrote the store", made.returncode == 0, made.stderr)
        tap.ok("the store is the one CPPO_TEST_STORE asks for", stores.backend_ok(db), db)
        test_list(db, tmp, stores)
        test_json(db)
        test_show(db)
        test_unrouted(db)
        test_retry(db)
        test_retry_all_while_locked(db)
    finally:
        stores.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
