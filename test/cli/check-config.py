#!/usr/bin/env python3
"""cppo-notifyctl check end to end: the shipped configs pass, a bad one
fails with exit 1 and located errors, and no output ever holds a secret.
TAP on stdout."""
import os
import subprocess
import sys
import tempfile

ctl = sys.argv[1]
notifyd = sys.argv[2] if len(sys.argv) > 2 else None
src = os.environ["CPPO_SOURCE_ROOT"]
fixtures = os.environ["CPPO_FIXTURES"]
secret = open(os.path.join(fixtures, "config/secrets/smtp-password")).read().strip()
results = []


def run(args, env=None):
    p = subprocess.run([ctl, "check"] + args, capture_output=True, text=True,
                       env=env, timeout=30)
    return p.returncode, p.stdout + p.stderr


def check(name, ok, detail=""):
    results.append((name, ok, detail))


rc, out = run(["--config", os.path.join(src, "config/cppo-notify.yaml")])
check("example config passes", rc == 0 and "rules (3):" in out, out)
check("summary counts templates", "templates: 61 compiled" in out, out)  # 6 kinds x 5 parts, twice, + 1

with tempfile.TemporaryDirectory() as d:
    with open(os.path.join(d, "slack-url"), "w") as f:
        f.write("http://127.0.0.1:9/hook\n")
    env = dict(os.environ, CPPO_BROKERS="127.0.0.1:9092", CPPO_SMTP_PORT="2525",
               CPPO_HTTP_PORT="9470", CPPO_STATE_DIR=d,
               CPPO_AWS_ENDPOINT="http://127.0.0.1:9471")
    rc, out = run(["--config", os.path.join(src, "config/demo/cppo-notify.yaml")], env)
    check("demo config passes", rc == 0 and "slack-demo (slack)" in out, out)
    check("summary holds no webhook url", "127.0.0.1:9/hook" not in out, out)

    # A secret in the password file and as a (wrong) webhook file, plus an error.
    main = os.path.join(d, "main.yaml")
    pw = os.path.join(fixtures, "config/secrets/smtp-password")
    with open(main, "w") as f:
        f.write("kafka:\n  brokers: b\n  topics: [t]\n"
                f"smtp:\n  url: smtp://127.0.0.1:25\n  from: a@b.example\n  password_file: {pw}\n"
                f"receivers:\n  s:\n    type: slack\n    webhook_url_file: {pw}\n")
    rc, out = run(["--config", main])
    check("bad webhook file exits 1", rc == 1, out)
    check("error is located", f"{main}:11:23: webhook_url_file" in out, out)
    check("error output holds no secret", secret not in out, out)
    with open(main, "w") as f:
        f.write("kafka:\n  brokers: b\n  topics: [t]\n"
                f"smtp:\n  url: smtp://127.0.0.1:25\n  from: a@b.example\n  password_file: {pw}\n"
                "receivers:\n  m:\n    type: email\n    to: [x@b.example]\n")
    rc, out = run(["--config", main])
    check("config with password passes", rc == 0, out)
    check("summary holds no secret", secret not in out, out)

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
    check("bad template exits 1", rc == 1, out)
    check("template error is located", os.path.join(d, "bad.mustache") + ":2:" in out, out)
    with open(main, "w") as f:
        f.write(base + "      file: missing.mustache\n")
    rc, out = run(["--config", main])
    check("missing template exits 1", rc == 1 and "missing.mustache" in out, out)

rc, out = run(["--config", "/nonexistent/cppo.yaml"])
check("missing file exits 1", rc == 1 and "/nonexistent/cppo.yaml: cannot read file" in out, out)
rc, out = run(["--bogus"])
check("unknown option exits 2", rc == 2, out)

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
    check("missing store directory exits 1", rc == 1, out)
    check("... named with the config file",
          f'{main}: store directory "{os.path.join(d, "state")}" (of store.path): No such file or directory'
          in out, out)
    check("... and no summary", ": ok" not in out, out)
    check("... and nothing created", not os.path.exists(os.path.join(d, "state")), out)
    open(os.path.join(d, "state"), "w").close()
    rc, out = with_store(db)
    check("store directory that is a file exits 1", rc == 1 and "(of store.path): Not a directory" in out, out)
    os.unlink(os.path.join(d, "state"))
    os.mkdir(os.path.join(d, "state"))
    rc, out = with_store(db)
    check("writable store directory passes", rc == 0 and f"{main}: ok" in out, out)
    check("... and check creates no store file", os.listdir(os.path.join(d, "state")) == [], out)
    rc, out = with_store(db, f"smtp:\n  ca_file: {d}/no-ca.pem\n")
    check("unreadable smtp ca_file exits 1",
          rc == 1 and f'smtp ca_file "{d}/no-ca.pem" is not readable' in out, out)
    rc, out = with_store(os.path.join(d, "missing", "x.db"),
                         f"smtp:\n  password_file: {d}/no-password\n")
    check("a missing secret file is reported with its location",
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
        check(f"slack webhook {'accepted' if good else 'refused'}: {url.split('/')[2]}",
              rc == want and (good or f"{main}:9:23: webhook_url_file" in out)
              and url not in out, out)

    # match: {} is refused where it is written, with the catch-all to use.
    os.mkdir(os.path.join(d, "rules.d"))
    with open(os.path.join(d, "rules.d", "10-all.yaml"), "w") as f:
        f.write("rules:\n  - name: all\n    match: {}\n    receivers: [f]\n")
    rc, out = with_store(db)
    check("match: {} exits 1 at its location",
          rc == 1 and os.path.join(d, "rules.d", "10-all.yaml") + ":3:12: empty match mapping"
          in out, out)
    with open(os.path.join(d, "rules.d", "10-all.yaml"), "w") as f:
        f.write("rules:\n  - name: all\n    match: { kind: [{ exists: true }] }\n"
                "    receivers: [f]\n")
    rc, out = with_store(db)
    check("the documented catch-all passes", rc == 0 and "all -> 1 receiver(s)" in out, out)

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
    check("check: a YAML error in kafka.properties is located",
          rc == 1 and f"{bad}:6:20:" in out and "sasl.password: <redacted>" in out, out)
    check("check: ... and the password is not printed", "Abc123" not in out, out)
    if notifyd:
        p = subprocess.run([notifyd, "--config", bad], capture_output=True, text=True, timeout=30)
        out = p.stdout + p.stderr
        check("cppo-notifyd: refuses to start on it", p.returncode != 0 and f"{bad}:6:20:" in out,
              out)
        check("cppo-notifyd: ... without printing the password", "Abc123" not in out, out)

print(f"1..{len(results)}")
for i, (name, ok, detail) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {name}")
    if not ok:
        for line in detail.splitlines():
            print(f"# {line}")
sys.exit(0 if all(ok for _, ok, _ in results) else 1)
