"""The store a Python test runs on, as peers.sh's test_store does for bash:
SQLite files by default; with CPPO_TEST_STORE=pg (the "-pg" test variants)
databases on a real PostgreSQL server (pg-server.py) started here and
stopped on close.

    with teststore.Stores() as stores:
        db = stores.new("/tmp/x/state.db")   # the path, or a fresh database's URL
        cfg = "...\\n" + stores.yaml(db)       # the store: section of a config
        stores.sql(db, "SELECT COUNT(*) FROM inbox")   # rows as tuples
        stores.backend_ok(db)                # really on the store asked for

PGPASSWORD is set in os.environ, so that `cppo-notifyctl --state URL`
(and psql) need nothing more."""
import json
import os
import re
import sqlite3
import subprocess
import sys

PG = os.environ.get("CPPO_TEST_STORE", "sqlite") == "pg"
HERE = os.path.dirname(os.path.abspath(__file__))


class Stores:
    def __init__(self):
        self.server = None
        self.url = self.password_file = None
        self.made = []
        if os.environ.get("CPPO_TEST_STORE", "sqlite") not in ("sqlite", "pg"):
            sys.exit("teststore: CPPO_TEST_STORE must be sqlite or pg")
        if PG:
            self._start()

    def _start(self):
        self.server = subprocess.Popen([sys.executable, os.path.join(HERE, "pg-server.py")],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.server.stdout.readline()  # pg-server.py exits if not ready in 60 s
        if not line.startswith("ready "):
            self.close()
            sys.exit("teststore: postgres did not start")
        _, self.url, self.password_file, _ = line.split()
        with open(self.password_file) as f:
            os.environ["PGPASSWORD"] = f.read().strip()

    def close(self):
        if self.server is not None:
            self.server.stdin.close()  # end of stdin stops the server
            try:
                self.server.wait(30)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
            self.server = None

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()

    def new(self, path):
        """PATH on SQLite; on PostgreSQL a fresh database named after it."""
        self.made.append(path)
        if not PG:
            return path
        name = "t_" + re.sub(r"[^a-zA-Z0-9_]", "_", os.path.basename(path).removesuffix(".db"))
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.url, "-c",
                        "CREATE DATABASE " + name], check=True, stdout=subprocess.DEVNULL,
                       timeout=60)
        return self.url.rsplit("/", 1)[0] + "/" + name

    def yaml(self, target):
        if target.startswith("postgresql://"):
            return f"store:\n  url: {target}\n  password_file: {self.password_file}\n"
        return f"store:\n  path: {target}\n"

    @staticmethod
    def sql(target, query, params=()):
        """Rows of one query as tuples. Parameters are ? placeholders,
        given as literals (test values only)."""
        if not target.startswith("postgresql://"):
            con = sqlite3.connect(target)
            try:
                return [tuple(r) for r in con.execute(query, params).fetchall()]
            finally:
                con.close()
        for p in params:
            lit = str(p) if isinstance(p, int) else "'" + str(p).replace("'", "''") + "'"
            query = query.replace("?", lit, 1)
        out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d",
                              target, "-c",
                              f"SELECT coalesce(json_agg(row_to_json(t)), '[]') "
                              f"FROM ({query}) t"],
                             check=True, capture_output=True, text=True, timeout=120).stdout
        return [tuple(r.values())
                for r in json.loads(out)]

    def backend_ok(self, target):
        """TARGET is the kind of store asked for and holds the schema; on
        PostgreSQL no SQLite file was made where the test's stores would be."""
        try:
            self.sql(target, "SELECT COUNT(*) FROM inbox")
        except (subprocess.CalledProcessError, sqlite3.Error):
            return False
        if not PG:
            return os.path.isfile(target)
        return target.startswith("postgresql://") and not any(
            os.path.exists(p) for p in self.made)
