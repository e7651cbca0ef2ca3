#!/usr/bin/env python3
"""smtp-script.py — a scriptable SMTP server for tests, on 127.0.0.1.

  smtp-script.py DIR [--hang-after-data] [--refuse ADDR]... [--port N]

Prints "ready PORT" once it accepts connections. Answers EHLO/HELO, MAIL,
RCPT, DATA, RSET, NOOP and QUIT like a plain server without AUTH or TLS and
stores each accepted message in DIR as one JSON file {"from", "rcpt",
"data"} (data as text, CRLF kept). --refuse ADDR answers RCPT for that
address "550 5.1.1 no such user" (repeatable). --hang-after-data reads the
whole message after DATA and then never answers again, not even QUIT: the
connection stays open until the client gives up (a server stuck after DATA).
Each connection has its own thread, so one hung session never stalls the
others. Stops on SIGTERM/SIGINT.
"""
import argparse
import json
import os
import signal
import socket
import sys
import threading
import uuid


def session(conn, args):
    f = conn.makefile("rb")
    out = lambda line: conn.sendall(line.encode() + b"\r\n")
    out("220 smtp-script ready")
    mail_from, rcpt = None, []
    while True:
        line = f.readline(4096)
        if not line:
            return
        cmd = line.decode("utf-8", "replace").rstrip("\r\n")
        verb = cmd.split(" ", 1)[0].upper()
        if verb in ("EHLO", "HELO"):
            out("250 smtp-script")
        elif verb == "MAIL":
            mail_from, rcpt = cmd[10:].strip(), []
            out("250 2.1.0 ok")
        elif verb == "RCPT":
            addr = cmd[8:].strip().split(" ")[0].strip("<>")
            if addr in args.refuse:
                out("550 5.1.1 no such user")
            else:
                rcpt.append(addr)
                out("250 2.1.5 ok")
        elif verb == "DATA":
            out("354 go ahead")
            data = []
            while True:
                l = f.readline(65536)
                if not l or l in (b".\r\n", b".\n"):
                    break
                data.append(l)
            if args.hang_after_data:
                threading.Event().wait()  # never answers again
            name = os.path.join(args.dir, uuid.uuid4().hex + ".json")
            with open(name + ".tmp", "w") as o:
                json.dump({"from": mail_from, "rcpt": rcpt,
                           "data": b"".join(data).decode("utf-8", "replace")}, o)
            os.rename(name + ".tmp", name)
            out("250 2.0.0 queued")
        elif verb == "QUIT":
            out("221 bye")
            return
        else:
            out("250 ok")


def serve(conn, args):
    try:
        session(conn, args)
    except OSError:
        pass
    finally:
        conn.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--hang-after-data", action="store_true")
    p.add_argument("--refuse", action="append", default=[])
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", args.port))
    s.listen(64)
    print("ready", s.getsockname()[1], flush=True)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, args), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
