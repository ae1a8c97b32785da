"""The PostgreSQL harness gives each test its own empty database on a real server."""

import os
import sqlite3

import psycopg


def test_db_url_is_fresh_and_writable(db_url):
    if db_url.startswith("sqlite:///"):
        conn = sqlite3.connect(db_url.removeprefix("sqlite:///"))
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)
        conn.close()
        return
    with psycopg.connect(db_url, autocommit=True) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()").fetchone()
        assert tables == (0,)
        conn.execute("CREATE TABLE probe (x INTEGER)")
        assert conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
        ).fetchone() == (1,)
        assert conn.execute("SELECT current_user, inet_server_addr()::text").fetchone() == (
            "postgres",
            "127.0.0.1/32",
        )


def test_server_runs_unprivileged_and_isolates_databases(postgres_server):
    first, second = postgres_server.create_database(), postgres_server.create_database()
    assert first != second
    with psycopg.connect(first, autocommit=True) as conn:
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        assert os.stat(f"/proc/{pid}").st_uid != 0
    postgres_server.drop_database(first)
    postgres_server.drop_database(second)
    with postgres_server.admin() as conn:
        names = {r[0] for r in conn.execute("SELECT datname FROM pg_database")}
    assert not {first.rsplit("/", 1)[1], second.rsplit("/", 1)[1]} & names
