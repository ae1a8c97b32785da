"""A real, throwaway PostgreSQL server for the test session, and a fresh database per test.

Fixtures (registered in tests/conftest.py):

* `postgres_server` (session scope): a `PostgresServer` started from Debian's server binaries
  (`/usr/lib/postgresql/<N>/bin`, found via `pg_config --bindir`, a glob, or `WUBLOADER_PG_BINDIR`).
  `initdb` and `pg_ctl` run as the unprivileged `postgres` user (through `runuser` when the tests run as
  root; as the current user otherwise). Data and socket directories live in a private temp directory; the
  server listens on 127.0.0.1 only, on a free port, with trust authentication for the `postgres` role. It is
  stopped and its files removed at session end. `bin/setup --test` installs the `postgresql` package.
* `db_url` (function scope, params `sqlite` and `postgresql`): the URL of a fresh, empty database for one
  test: `sqlite:///<tmp>/wubloader.sqlite`, or
  `postgresql://postgres@127.0.0.1:<port>/wubtests?options=-csearch_path%3D<schema>`: a schema created
  for this test (and dropped after it) that every connection made from the URL uses as its only
  namespace, so it behaves as an empty database while costing milliseconds instead of a CREATE
  DATABASE. The PostgreSQL server is only started when a `postgresql` case runs.
  `postgres_server.create_database()` gives a real separate database where a test needs one.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests.harness.processes import free_port

SUPERUSER = "postgres"
TEST_DATABASE = "wubtests"


def find_bindir() -> Path:
    """The directory holding `initdb` and `pg_ctl`; fails with a hint to run bin/setup --test."""
    candidates: list[str] = []
    if os.environ.get("WUBLOADER_PG_BINDIR"):
        candidates.append(os.environ["WUBLOADER_PG_BINDIR"])
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(out.stdout.strip())
    # Highest major version first: /usr/lib/postgresql/15/bin before .../13/bin.
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted(
        versions, key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0, reverse=True
    )
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).parent))
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found: run bin/setup --test")


def _as_postgres(argv: list[str]) -> list[str]:
    """Postgres refuses to run as root: drop to the `postgres` user when we are root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", SUPERUSER, "--", *argv]
    return argv


@dataclass
class PostgresServer:
    """A running server; `create_database()` hands out fresh, empty databases."""

    bindir: Path
    root: Path
    port: int
    host: str = "127.0.0.1"
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.url(), autocommit=True, connect_timeout=10)

    def create_database(self) -> str:
        """Create an empty database with a unique name; returns its URL."""
        name = f"wubtest_{os.getpid()}_{next(self._counter)}"
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def create_schema(self) -> str:
        """Create an empty schema in the shared test database; returns a URL whose connections use it."""
        name = f"wubtest_{os.getpid()}_{next(self._counter)}"
        with self.admin() as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (TEST_DATABASE,)).fetchone():
                conn.execute(f'CREATE DATABASE "{TEST_DATABASE}"')
        with psycopg.connect(self.url(TEST_DATABASE), autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        return f"{self.url(TEST_DATABASE)}?options=-csearch_path%3D{name}"

    def drop_schema(self, url: str) -> None:
        name = url.rsplit("%3D", 1)[1]
        with psycopg.connect(self.url(TEST_DATABASE), autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def crash(self) -> None:
        """Stop the server at once (no checkpoint, clients cut off), keeping its files: as a failed primary."""
        _run(
            [str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"],
            "pg_ctl stop",
        )

    def start(self) -> None:
        """Start the server again on the same port after `crash()` (crash recovery replays its WAL)."""
        _start(self)

    def stop(self) -> None:
        subprocess.run(
            _as_postgres(
                [str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"]
            ),
            capture_output=True,
            check=False,
            timeout=60,
        )
        shutil.rmtree(self.root, ignore_errors=True)


def _run(argv: list[str], what: str) -> None:
    result = subprocess.run(_as_postgres(argv), capture_output=True, text=True, check=False, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed ({result.returncode}): {result.stdout}{result.stderr}")


def _init_cluster(bindir: Path) -> Path:
    """A new cluster in a private temp directory the `postgres` user owns; returns that directory."""
    root = Path(tempfile.mkdtemp(prefix="wub-pg-"))
    (root / "socket").mkdir()
    if os.geteuid() == 0:
        for path in (root, root / "socket"):
            shutil.chown(path, SUPERUSER, SUPERUSER)
    data = str(root / "data")
    _run([str(bindir / "initdb"), "-D", data, "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-sync",
          "--locale=C"], "initdb")  # fmt: skip
    return root


def _start(server: PostgresServer) -> None:
    # Durability is pointless for a throwaway cluster; turning it off keeps tests fast on a busy box.
    options = (f"-h {server.host} -p {server.port} -k {server.socket_dir} "
               "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")  # fmt: skip
    _run([str(server.bindir / "pg_ctl"), "-D", str(server.data_dir), "-l", str(server.root / "server.log"),
          "-w", "-t", "60", "-o", options, "start"], "pg_ctl start")  # fmt: skip


def start_postgres(attempts: int = 3) -> PostgresServer:
    """initdb a private cluster and start it on a free 127.0.0.1 port (retrying if the port was taken)."""
    bindir = find_bindir()
    root = _init_cluster(bindir)
    for _attempt in range(attempts):
        server = PostgresServer(bindir=bindir, root=root, port=free_port())
        try:
            _start(server)
        except RuntimeError:
            time.sleep(0.2)
            continue
        return server
    log_path = root / "server.log"
    log = log_path.read_text(errors="replace") if log_path.exists() else ""
    shutil.rmtree(root, ignore_errors=True)
    raise RuntimeError(f"PostgreSQL did not start:\n{log}")
