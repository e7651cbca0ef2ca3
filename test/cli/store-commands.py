#!/usr/bin/env python3
"""Every store command of cppo-notifyctl takes --config FILE and --state DB
the same way, and --config needs only the store part of FILE: the daemon's
kafka, smtp, http and receiver values refer to environment variables that
are unset here, and a secret file that does not exist. `check` (like the
daemon) still refuses that file.

Each command runs twice on one store, once with --config and once with
--state, and must give the same exit code with no configuration error;
without either it is a usage error.

With CPPO_TEST_STORE=pg (ctl-store-commands-pg) the store is a PostgreSQL
database (store.url, --state URL) and the expectations are the same.

Usage: store-commands.py CPPO_NOTIFYCTL. TAP on stdout."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import events as ev  # noqa: E402
import tap  # noqa: E402  (test/tools, beside this script's folder)
import teststore  # noqa: E402

CTL = sys.argv[1]
UNSET = ["CPPO_T_BROKERS", "CPPO_T_TOPIC", "CPPO_T_MAX", "CPPO_T_SMTP_URL", "CPPO_T_PW",
         "CPPO_T_LISTEN", "CPPO_T_TO", "CPPO_T_HOOK"]


def run(*args, stdin=None):
    env = {k: v for k, v in os.environ.items() if k not in UNSET}  # with teststore's PGPASSWORD
    p = subprocess.run([CTL] + list(args), capture_output=True, text=True, timeout=60,
                       input=stdin, env=env)
    return p.returncode, p.stdout, p.stderr


def offer_released(offer):
    return json.dumps(ev.envelope(ev.RELEASED, ev.offer_released(
        "req-" + offer, offer, "CLI offer " + offer, "prod-cli-1", "CLI Product", "444455556666",
        "Partner Co", ["123456789012"], manufacturer_name="Acme"), "ev-" + offer,
        "2026-01-05T10:00:00Z"))


CONFIG = """kafka:
  brokers: ${{CPPO_T_BROKERS}}
  topics: ["${{CPPO_T_TOPIC}}"]
  max_message_bytes: ${{CPPO_T_MAX}}
{store}smtp:
  url: ${{CPPO_T_SMTP_URL}}
  from: ops@example.com
  password_file: ${{CPPO_T_PW}}
http:
  listen: ${{CPPO_T_LISTEN}}
receivers:
  ops: {{ type: email, to: ["${{CPPO_T_TO}}"] }}
  deals: {{ type: slack, webhook_url_file: {d}/no-such-secret }}
  hook: {{ type: slack, webhook_url_file: "${{CPPO_T_HOOK}}" }}
holds:
  offer_link_timeout: 96h
"""

with tempfile.TemporaryDirectory() as d, teststore.Stores() as stores:
    db = stores.new(os.path.join(d, "state.db"))
    cfg = os.path.join(d, "cppo-notify.yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(store=stores.yaml(db), d=d))
    events = os.path.join(d, "events.jsonl")
    with open(events, "w") as f:
        f.write(offer_released("offer-cli-a") + "\n" + offer_released("offer-cli-b") + "\n"
                + "not json\n")

    rc, out, err = run("check", "--config", cfg)
    tap.ok("check still requires the daemon's variables",
           rc == 1 and 'environment variable "CPPO_T_BROKERS" is not set' in err
           and "CPPO_T_SMTP_URL" in err and "CPPO_T_LISTEN" in err and "no-such-secret" in err,
           err)

    add = ["--name", "CLI auth", "--product-id", "prod-cli-1", "--reseller-account-id",
           "444455556666", "--buyer-account-id", "123456789012", "--expires-at",
           "2099-01-01T00:00:00Z"]
    # (name, args before the store option, args after it); the replay
    # creates the store, later commands read and change it.
    commands = [
        ("replay", ["replay"], [events]),
        ("authorization add --apply", ["authorization", "add"],
         ["--id", "ra-cli-{}"] + add + ["--apply"]),
        ("authorization add", ["authorization", "add"], ["--id", "ra-cli-q-{}"] + add),
        ("authorization list", ["authorization", "list"], ["--json"]),
        ("authorization show", ["authorization", "show", "ra-cli-{}"], []),
        ("holds", ["holds"], ["--json"]),
        ("associate", ["associate"],
         ["--offer", "offer-cli-a", "--authorization", "ra-cli-{}"]),
        ("associate --apply", ["associate"],
         ["--offer", "offer-cli-b", "--authorization", "ra-cli-{}", "--apply"]),
        ("rejected", ["rejected"], ["--json"]),
        ("deliveries", ["deliveries"], []),
        ("deliveries --unrouted", ["deliveries"], ["--unrouted", "--json"]),
        ("deliveries show", ["deliveries", "show", "no/such/key"], []),
        ("deliveries retry", ["deliveries", "retry"], ["--all-failed"]),
        ("authorization withdraw", ["authorization", "withdraw", "ra-cli-q-{}"], ["--apply"]),
    ]
    for name, before, after in commands:
        codes = {}
        for how, opt in (("config", ["--config", cfg]), ("state", ["--state", db])):
            args = [a.format(how) for a in before] + opt + [a.format(how) for a in after]
            rc, out, err = run(*args)
            codes[how] = rc
            tap.ok(f"{name} --{how}: no configuration error",
                   "not set" not in err and "invalid configuration" not in err
                   and "no-such-secret" not in err and rc != 2, f"rc={rc} {err}")
            if name == "replay":  # the store is created by the --config run
                tap.ok(f"replay --{how}: exit 1 for the one rejected input",
                       rc == 1 and "rejected" in err, err)
        tap.ok(f"{name}: --config and --state agree (exit {codes['config']})",
               codes["config"] == codes["state"], str(codes))
        rc, out, err = run(*[a.format("none") for a in before + after])
        tap.ok(f"{name} without --config or --state: usage error",
               rc == 2 and "--config FILE or --state DB is required" in err, f"rc={rc} {err}")

    rc, out, err = run("rejected", "--config", cfg, "--json")
    tap.ok("rejected --config reads the store", rc == 0 and "not json" in out, out + err)
    rc, out, err = run("authorization", "list", "--config", cfg, "--json")
    ids = sorted(json.loads(line).get("id", json.loads(line).get("resale_authorization_id", ""))
                 for line in out.splitlines() if line.strip())
    tap.ok("authorization add via --config and --state reached the same store",
           rc == 0 and len(ids) == 4, out + err)
    rc, out, err = run("holds", "--config", cfg, "--state", db)
    tap.ok("--config with --state: the DB is the store", rc == 0, err)
    rc, out, err = run("holds", "--config", cfg, "--state", os.path.join(d, "missing.db"))
    tap.ok("--config with --state: --state wins over the config's store",
           rc == 3 and "missing.db" in err, err)
    rc, out, err = run("deliveries", "--config", cfg, "--state", db)
    tap.ok("deliveries takes --config with --state like the others", rc == 0, err)
    with open(os.path.join(d, "bad.yaml"), "w") as f:
        f.write(CONFIG.format(store=stores.yaml(db), d=d) + "store_typo: 1\n")
    rc, out, err = run("holds", "--config", os.path.join(d, "bad.yaml"))
    tap.ok("other config errors are still reported", rc == 1 and "store_typo" in err, err)
    rc, out, err = run("rejected", "--bogus")
    tap.ok("an unknown option is still a usage error", rc == 2, err)
    tap.ok("the store is the one CPPO_TEST_STORE asks for", stores.backend_ok(db), db)

sys.exit(tap.done())
