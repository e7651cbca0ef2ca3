#!/usr/bin/env python3
"""cppo-notifyctl check end to end: the shipped configs pass, a bad one
fails with exit 1 and located errors, and no output ever holds a secret.
TAP on stdout."""
import os
import subprocess
import sys
import tempfile

ctl = sys.argv[1]
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
               CPPO_HTTP_PORT="9470", CPPO_STATE_DIR=d)
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

print(f"1..{len(results)}")
for i, (name, ok, detail) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {name}")
    if not ok:
        for line in detail.splitlines():
            print(f"# {line}")
sys.exit(0 if all(ok for _, ok, _ in results) else 1)
