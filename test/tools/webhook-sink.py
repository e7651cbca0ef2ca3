#!/usr/bin/env python3
"""webhook-sink.py — an HTTP receiver for tests (Slack incoming webhooks).

    webhook-sink.py --record FILE [--port N] [--script FILE]
                    [--default-status N] [--default-body TEXT] [--tls CERT KEY]
                    [--delay S]

Binds 127.0.0.1 (port 0: any free port) and prints "ready PORT". Every
request (method, path, headers, body, arrival time) is appended to FILE as
one JSON line, flushed, and also served at GET /_received. POSTs are
answered from a script of responses, in order:
    [{"status": 429, "headers": {"Retry-After": "2"}}, {"status": 500},
     {"status": 200, "body": "ok"}]
given with --script or replaced at run time by POST /_script; once it runs
out, every request gets --default-status (200) with --default-body ("ok"),
both replaced at run time by POST /_default {"status": N, "body": TEXT}
(e.g. a revoked webhook, 404 no_service, that comes back). Stops on
SIGTERM or SIGINT. --delay S holds every answer to a POST S seconds (a
slow receiver that has the request but has not acknowledged it yet; each
request has its own thread). Standard library only.
"""
import argparse
import base64
import json
import signal
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"script": [], "received": [], "record": None, "default": 200, "default_body": "ok",
         "delay": 0.0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The status line and headers go out in one write and the body in
    # another: with Nagle on, the second waits for the client's delayed
    # ACK (40 ms per request), which only measures the sink.
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):  # keep stdout for the ready line
        sys.stderr.write("webhook-sink: " + (fmt % args) + "\n")

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _reply(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_GET(self):
        if self.path == "/_received":
            with LOCK:
                data = json.dumps(STATE["received"]).encode()
            self._reply(200, data, {"Content-Type": "application/json"})
        else:
            self._reply(404, b"not found")

    def do_POST(self):
        body = self._body()
        if self.path == "/_script":
            with LOCK:
                STATE["script"] = json.loads(body or b"[]")
            self._reply(200, b"ok")
            return
        if self.path == "/_default":
            new = json.loads(body or b"{}")
            with LOCK:
                STATE["default"] = int(new.get("status", STATE["default"]))
                STATE["default_body"] = new.get("body", STATE["default_body"])
            self._reply(200, b"ok")
            return
        entry = {
            "time": time.time(),
            "method": "POST",
            "path": self.path,
            # http.server decodes header bytes as latin-1; record them as the UTF-8 sent
            "headers": [[k, v.encode("latin-1", "replace").decode("utf-8", "replace")]
                        for k, v in self.headers.items()],
            "body": body.decode("utf-8", "replace"),
            "body_base64": base64.b64encode(body).decode(),
        }
        with LOCK:
            STATE["received"].append(entry)
            if STATE["record"]:
                STATE["record"].write(json.dumps(entry) + "\n")
                STATE["record"].flush()
            step = (STATE["script"].pop(0) if STATE["script"]
                    else {"status": STATE["default"], "body": STATE["default_body"]})
        body_out = step.get("body", "").encode()
        if STATE["delay"] > 0:
            time.sleep(STATE["delay"])
        self._reply(int(step.get("status", 200)), body_out, step.get("headers"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--record", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--script")
    ap.add_argument("--default-status", type=int, default=200)
    ap.add_argument("--default-body", default="ok")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--delay", type=float, default=0.0)
    a = ap.parse_args()
    STATE["record"] = open(a.record, "a")
    STATE["default"] = a.default_status
    STATE["default_body"] = a.default_body
    STATE["delay"] = a.delay
    if a.script:
        with open(a.script) as fh:
            STATE["script"] = json.load(fh)
    server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    server.daemon_threads = True
    if a.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls[0], a.tls[1])
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    signal.signal(signal.SIGINT, lambda *_: threading.Thread(target=server.shutdown).start())
    print("ready %d" % server.server_address[1], flush=True)
    server.serve_forever()
    STATE["record"].close()


if __name__ == "__main__":
    main()
