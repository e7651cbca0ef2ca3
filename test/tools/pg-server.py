#!/usr/bin/env python3
"""A real PostgreSQL server for tests: a fresh cluster in a temporary
directory, listening on 127.0.0.1 only (and a private Unix socket), on a free
port, run as an unprivileged user when started as root (PostgreSQL refuses
root), stopped when this process is told to (SIGTERM, SIGINT or end of
stdin), its files removed.

Prints one line when the server accepts connections:

    ready postgresql://cppo@127.0.0.1:PORT/cppo PASSWORD_FILE PID

The role `cppo` owns database `cppo`; TCP connections authenticate with
scram-sha-256 and the password in PASSWORD_FILE (libpq's `passfile` format
is NOT used: the file holds the bare password, as a `*_file` config key
reads it); local socket connections are trusted (for the helper itself).

Usage: pg-server.py [--fsync on|off] [--max-connections N]
Needs Debian's postgresql (initdb and postgres under /usr/lib/postgresql/*).
"""
import argparse
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 20


def bindir():
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2]))
    for d in reversed(dirs):
        if os.access(os.path.join(d, "postgres"), os.X_OK):
            return d
    sys.exit("pg-server: no PostgreSQL server found (install Debian's postgresql)")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demote():
    """As root, the server runs as `nobody`; otherwise as ourselves."""
    if os.geteuid() != 0:
        return None
    u = pwd.getpwnam("nobody")

    def drop():
        os.setgid(u.pw_gid)
        os.setgroups([])
        os.setuid(u.pw_uid)
    return (u.pw_uid, u.pw_gid, drop)


def run(cmd, drop, **kw):
    return subprocess.run(cmd, preexec_fn=drop, check=True, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, timeout=120, **kw)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fsync", choices=["on", "off"], default="off")
    ap.add_argument("--max-connections", type=int, default=50)
    args = ap.parse_args()

    bins = bindir()
    top = tempfile.mkdtemp(prefix="cppo-pg-")
    data, sock, log = os.path.join(top, "data"), os.path.join(top, "sock"), os.path.join(top, "log")
    pwfile = os.path.join(top, "password")
    os.mkdir(sock)
    with open(pwfile, "w") as f:
        f.write("pw-" + os.urandom(12).hex() + "\n")
    who = demote()
    drop = who[2] if who else None
    if who:
        for p in (top, sock):
            os.chown(p, who[0], who[1])
        os.chown(pwfile, who[0], who[1])
        os.chmod(top, 0o755)
    server = None

    def stop(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        run([os.path.join(bins, "initdb"), "-D", data, "-U", "cppo", "--pwfile", pwfile,
             "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8",
             "--locale=C.UTF-8" if os.path.exists("/usr/lib/locale/C.utf8") else "--locale=C"],
            drop)
        port = free_port()
        server = subprocess.Popen(
            [os.path.join(bins, "postgres"), "-D", data, "-h", "127.0.0.1", "-p", str(port),
             "-k", sock, "-c", "fsync=" + args.fsync, "-c", "max_connections=%d" % args.max_connections,
             "-c", "listen_addresses=127.0.0.1", "-c", "logging_collector=off"],
            preexec_fn=drop, stdout=open(log, "w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if server.poll() is not None:
                sys.exit("pg-server: postgres exited: " + open(log).read()[-2000:])
            r = subprocess.run([os.path.join(bins, "pg_isready"), "-h", sock, "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if r.returncode == 0:
                break
            time.sleep(0.1)
        else:
            sys.exit("pg-server: not ready within %d s" % START_TIMEOUT_S)
        run([os.path.join(bins, "createdb"), "-h", sock, "-p", str(port), "-U", "cppo", "-O", "cppo",
             "cppo"], drop)
        print("ready postgresql://cppo@127.0.0.1:%d/cppo %s %d" % (port, pwfile, server.pid),
              flush=True)
        while sys.stdin.readline():  # until end of stdin (or a signal)
            pass
    except KeyboardInterrupt:
        pass
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGINT)  # fast shutdown
            try:
                server.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
