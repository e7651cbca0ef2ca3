#!/usr/bin/env python3
"""cppo-notifyctl check end to end: the shipped configs pass, a bad one
fails with exit 1 and located errors, and no output ever holds a secret.
TAP on stdout."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import tap  # noqa: E402  (test/tools, beside this script's folder)

ctl = sys.argv[1]
notifyd = sys.argv[2] if len(sys.argv) > 2 else None
src = os.environ["CPPO_SOURCE_ROOT"]
fixtures = os.environ["CPPO_FIXTURES"]
secret = open(os.path.join(fixtures, "config/secrets/smtp-password")).read().strip()


def run(args, env=None):
    p = subprocess.run([ctl, "check"] + args, capture_output=True, text=True,
                       env=env, timeout=30)
    return p.returncode, p.stdout + p.stderr


rc, out = run(["--config", os.path.join(src, "config/cppo-notify.yaml")])
tap.ok("example config passes", rc == 0 and "rules (3):" in out, out)
tap.ok("summary counts templates", "templates: 73 compiled" in out, out)  # 6 kinds x 6 parts, twice, + 1

with tempfile.TemporaryDirectory() as d:
    with open(os.path.join(d, "slack-url"), "w") as f:
        f.write("http://127.0.0.1:9/hook\n")
    env = dict(os.environ, CPPO_BROKERS="127.0.0.1:9092", CPPO_SMTP_PORT="2525",
               CPPO_HTTP_PORT="9470", CPPO_STATE_DIR=d,
               CPPO_AWS_ENDPOINT="http://127.0.0.1:9471")
    rc, out = run(["--config", os.path.join(src, "config/demo/cppo-notify.yaml")], env)
    tap.ok("demo config passes", rc == 0 and "slack-demo (slack)" in out, out)
    tap.ok("summary holds no webhook url", "127.0.0.1:9/hook" not in out, out)

    # A secret in the password file and as a (wrong) webhook file, plus an error.
    main = os.path.join(d, "main.yaml")
    pw = os.path.join(fixtures, "config/secrets/smtp-password")
    with open(main, "w") as f:
        f.write("kafka:\n  brokers: b\n  topics: [t]\n"
                f"smtp:\n  url: smtp://127.0.0.1:25\n  from: a@b.example\n  password_file: {pw}\n"
                f"receivers:\n  s:\n    type: slack\n    webhook_url_file: {pw}\n")
    rc, out = run(["--config", main])
    tap.ok("bad webhook file exits 1", rc == 1, out)
    tap.ok("error is located", f"{main}:11:23: webhook_url_file" in out, out)
    tap.ok("error output holds no secret", secret not in out, out)
    with open(main, "w") as f:
        f.write("kafka:\n  brokers: b\n  topics: [t]\n"
                f"smtp:\n  url: smtp://127.0.0.1:25\n  from: a@b.example\n  password_file: {pw}\n"
                "receivers:\n  m:\n    type: email\n    to: [x@b.example]\n")
    rc, out = run(["--config", main])
    tap.ok("config with password passes", rc == 0, out)
    tap.ok("summary holds no secret", secret not in out, out)

# Template errors are config errors: located, exit 1.
with tempfile.TemporaryDirectory() as d:
    main = os.path.join(d, "main.yaml")
    with open(os.path.join(d, "bad.mustache"), "w") as f:
        f.write('{"kind": "{{kind}}",\n "x": "{{#open}}"}\n')
    base = ("kafka:\n  brokers: b\n  topics: [t]\n"
            "receivers:\n  f:\n    type: file\n    path: out.jsonl\n    templates:\n")
    with open(main, "w") as f:
        f.write(base + "      file: bad.mustache\n")
    rc, out = run(["--config", main])
    tap.ok("bad template exits 1", rc == 1, out)
    tap.ok("template error is located", os.path.join(d, "bad.mustache") + ":2:" in out, out)
    with open(main, "w") as f:
        f.write(base + "      file: missing.mustache\n")
    rc, out = run(["--config", main])
    tap.ok("missing template exits 1", rc == 1 and "missing.mustache" in out, out)

rc, out = run(["--config", "/nonexistent/cppo.yaml"])
tap.ok("missing file exits 1", rc == 1 and "/nonexistent/cppo.yaml: cannot read file" in out, out)
rc, out = run(["--bogus"])
tap.ok("unknown option exits 2", rc == 2, out)

# What the daemon opens is checked without side effects: the store's
# directory (exists, writable; the store file is not created), CA files.
with tempfile.TemporaryDirectory() as d:
    main = os.path.join(d, "main.yaml")
    base = ("kafka:\n  brokers: b\n  topics: [t]\n"
            "receivers:\n  f:\n    type: file\n    path: out.jsonl\n")

    def with_store(path, extra=""):
        with open(main, "w") as f:
            f.write(base + extra + f"store:\n  path: {path}\n")
        return run(["--config", main])

    db = os.path.join(d, "state", "state.db")
    rc, out = with_store(db)
    tap.ok("missing store directory exits 1", rc == 1, out)
    tap.ok("... named with the config file",
           f'{main}: store directory "{os.path.join(d, "state")}" (of store.path): No such file or directory'
           in out, out)
    tap.ok("... and no summary", ": ok" not in out, out)
    tap.ok("... and nothing created", not os.path.exists(os.path.join(d, "state")), out)
    open(os.path.join(d, "state"), "w").close()
    rc, out = with_store(db)
    tap.ok("store directory that is a file exits 1", rc == 1 and "(of store.path): Not a directory" in out, out)
    os.unlink(os.path.join(d, "state"))
    os.mkdir(os.path.join(d, "state"))
    rc, out = with_store(db)
    tap.ok("writable store directory passes", rc == 0 and f"{main}: ok" in out, out)
    tap.ok("... and check creates no store file", os.listdir(os.path.join(d, "state")) == [], out)
    rc, out = with_store(db, f"smtp:\n  ca_file: {d}/no-ca.pem\n")
    tap.ok("unreadable smtp ca_file exits 1",
           rc == 1 and f'smtp ca_file "{d}/no-ca.pem" is not readable' in out, out)
    rc, out = with_store(os.path.join(d, "missing", "x.db"),
                         f"smtp:\n  password_file: {d}/no-password\n")
    tap.ok("a missing secret file is reported with its location",
           rc == 1 and f"{main}:9:18:" in out and "no-password" in out, out)

    # Slack: https only, http only to a loopback host, checked at load.
    for url, good in (("https://hooks.slack.example/x", True), ("http://127.0.0.1:9/x", True),
                      ("http://[::1]:9/x", True), ("http://localhost/x", True),
                      ("http://hooks.slack.example/x", False),
                      ("http://127.0.0.1@hooks.slack.example/x", False),
                      ("http://127.hooks.slack.example/x", False)):
        with open(os.path.join(d, "hook"), "w") as f:
            f.write(url + "\n")
        with open(main, "w") as f:
            f.write("kafka:\n  brokers: b\n  topics: [t]\n"
                    f"store:\n  path: {d}/state/state.db\n"
                    "receivers:\n  s:\n    type: slack\n    webhook_url_file: hook\n")
        rc, out = run(["--config", main])
        want = 0 if good else 1
        tap.ok(f"slack webhook {'accepted' if good else 'refused'}: {url.split('/')[2]}",
               rc == want and (good or f"{main}:9:23: webhook_url_file" in out)
               and url not in out, out)

    # match: {} is refused where it is written, with the catch-all to use.
    os.mkdir(os.path.join(d, "rules.d"))
    with open(os.path.join(d, "rules.d", "10-all.yaml"), "w") as f:
        f.write("rules:\n  - name: all\n    match: {}\n    receivers: [f]\n")
    rc, out = with_store(db)
    tap.ok("match: {} exits 1 at its location",
           rc == 1 and os.path.join(d, "rules.d", "10-all.yaml") + ":3:12: empty match mapping"
           in out, out)
    with open(os.path.join(d, "rules.d", "10-all.yaml"), "w") as f:
        f.write("rules:\n  - name: all\n    match: { kind: [{ exists: true }] }\n"
                "    receivers: [f]\n")
    rc, out = with_store(db)
    tap.ok("the documented catch-all passes", rc == 0 and "all -> 1 receiver(s)" in out, out)

# A value that YAML cannot read (an unquoted leading '*') under a secret-
# bearing key: the error shows the line without the value, in `check` and in
# the daemon's start-up error alike.
with tempfile.TemporaryDirectory() as d:
    bad = os.path.join(d, "cppo-notify.yaml")
    with open(bad, "w") as f:
        f.write("kafka:\n  brokers: 127.0.0.1:9092\n  topics: [t]\n  group: g\n"
                "  properties:\n    sasl.password: *Abc123\n"
                "receivers:\n  f: { type: file, path: /tmp/x.jsonl }\n")
    rc, out = run(["--config", bad])
    tap.ok("check: a YAML error in kafka.properties is located",
           rc == 1 and f"{bad}:6:20:" in out and "sasl.password: <redacted>" in out, out)
    tap.ok("check: ... and the password is not printed", "Abc123" not in out, out)
    if notifyd:
        p = subprocess.run([notifyd, "--config", bad], capture_output=True, text=True, timeout=30)
        out = p.stdout + p.stderr
        tap.ok("cppo-notifyd: refuses to start on it", p.returncode != 0 and f"{bad}:6:20:" in out,
               out)
        tap.ok("cppo-notifyd: ... without printing the password", "Abc123" not in out, out)

sys.exit(tap.done())
