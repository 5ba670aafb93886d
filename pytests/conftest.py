"""Shared fixtures: a warehouse built once per test session on real PostgreSQL.

The database server is chosen like everywhere else (lpdata.db): the PG* variables when set, else
the embedded PostgreSQL. Each pytest worker gets its own database, so runs never collide.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from lpdata import PROJECT_ROOT, contracts, db
from lpdata.dbt import read_artifact, run_dbt
from lpdata.lint import BOUNCER_TARGET

# dbt's log file per pytest worker: two processes rotating one logs/dbt.log rename it under each other
if "PYTEST_XDIST_WORKER" in os.environ:
    os.environ.setdefault("DBT_LOG_PATH", str(PROJECT_ROOT / "logs" / f'pytest_{os.environ["PYTEST_XDIST_WORKER"]}'))

# dbt's log file at warn: its debug lines (every query) cost about a second of a full build's 15,
# and a failing test shows dbt's console output in its assertion
os.environ.setdefault("DBT_LOG_LEVEL_FILE", "warn")

# dbt's saved parse, which its next command in the same target folder starts from (partial parsing)
SAVED_PARSE = "partial_parse.msgpack"

TEST_LEARNERS = int(os.environ.get("LP_TEST_LEARNERS", "3000"))
TEST_SEED = 42
# A fixed anchor (end of the synthetic history, and the builds' as_of) makes every result reproducible.
ANCHOR = dt.date(2026, 6, 30)


@dataclass
class Warehouse:
    """A database with raw data and, once built, every dbt model."""

    env: dict[str, str]
    target_path: str
    vars: dict = field(default_factory=dict)
    # dbt's unit tests read fixtures, not the warehouse's data: they run in the warehouse's first
    # build (each shared template's) and in every lp command a test runs; the later builds a test
    # makes leave them out (17 unit tests, about a sixth of a full build)
    unit_tests: bool = False

    @property
    def dbname(self) -> str:
        return self.env["PGDATABASE"]

    def connect(self, **kwargs) -> psycopg.Connection:
        return db.connect(self.env, **kwargs)

    def query(self, sql: str, params=None) -> list[tuple]:
        with self.connect() as conn:
            return conn.execute(sql, params).fetchall()

    def scalar(self, sql: str, params=None):
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    def dicts(self, sql: str, params=None) -> list[dict]:
        with self.connect() as conn:
            cur = conn.cursor(row_factory=psycopg.rows.dict_row)
            return cur.execute(sql, params).fetchall()

    def artifact(self, name: str) -> dict:
        """A dbt artifact of the last invocation on this warehouse (manifest.json, sources.json, ...)."""
        return read_artifact(name, self.target_path)

    def stored_failures(self, result: subprocess.CompletedProcess, test: str) -> list[tuple]:
        """The failing rows of a store_failures test, read from the table dbt's failure message
        points to (`See test failures: select * from "<db>"."dbt_test__audit"."<table>"`)."""
        failure = result.stdout.split(f"Failure in test {test}")
        assert len(failure) == 2, result.stdout[-4000:]
        stored = re.search(r'select \* from "[^"]+"\."dbt_test__audit"\."([a-z0-9_]+)"', failure[1])
        assert stored, failure[1][:2000]
        return self.query(f"select * from dbt_test__audit.{stored.group(1)}")

    def mart(self, name: str, version: int | None = None) -> str:
        """The qualified relation consumers read for a public mart (latest version by default)."""
        manifest = self.artifact("manifest.json")
        nodes = [
            n
            for n in manifest["nodes"].values()
            if n["resource_type"] == "model" and n["name"] == name and n.get("access") == "public"
        ]
        if not nodes:
            raise KeyError(f"no public mart named {name!r}")
        if version is None:
            node = next((n for n in nodes if n.get("version") == n.get("latest_version")), nodes[0])
        else:
            node = next(n for n in nodes if str(n.get("version")) == str(version))
        schema = node["config"].get("meta", {}).get("publish_schema", node["schema"])
        return f'{schema}.{node["alias"]}'

    def in_target(self, target_path: str) -> Warehouse:
        """This warehouse with its own dbt target folder, so that its commands leave the artifacts
        other tests read alone; its first command starts from this one's saved parse."""
        copy_saved_parse(PROJECT_ROOT / self.target_path, PROJECT_ROOT / target_path)
        return dataclasses.replace(self, target_path=target_path)

    def dbt_args(self, *args: str) -> list[str]:
        """The arguments of `dbt <args>` on this warehouse: its vars (a partial build selects its tests
        as `lp dbt` does, lpdata.dbt.INDIRECT_SELECTION)."""
        extra = list(args)
        # every command that reads the project takes the vars: dbt keys its saved parse on them
        if self.vars and args and args[0] in {"build", "run", "test", "seed", "compile", "show", "docs", "parse", "ls", "source"}:
            extra += ["--vars", json.dumps(self.vars)]
        if args and args[0] == "build" and not self.unit_tests:
            extra += ["--exclude-resource-type", "unit_test"]
        return extra

    def dbt(self, *args: str, check: bool = True, capture: bool = True, project_dir: Path = PROJECT_ROOT):
        """`dbt <args>` on this warehouse, from the project or from a changed copy of it (project_copy)."""
        target_path = self.target_path if project_dir == PROJECT_ROOT else str(project_dir / "target")
        if project_dir != PROJECT_ROOT and not (Path(target_path) / SAVED_PARSE).exists():
            # the copy's first parse starts from the warehouse's: dbt reparses only the files the test changed
            retarget_saved_parse(PROJECT_ROOT / self.target_path, Path(target_path), self.env, self.env, project_dir)
        return run_dbt(
            self.dbt_args(*args), self.env, target_path=target_path, check=check, capture=capture, project_dir=project_dir
        )


def published_marts(manifest: dict) -> dict[str, str]:
    """Every versioned relation consumers read (<publish_schema>.<alias>), with the audit relation
    it is published from (<schema>.<alias>)."""
    return {
        f'{node["config"]["meta"]["publish_schema"]}.{node["alias"]}': f'{node["schema"]}.{node["alias"]}'
        for node in contracts.public_models(manifest)
    }


def published_relations(manifest: dict) -> list[str]:
    """Every relation consumers read: <publish_schema>.<alias> per version, and the unversioned
    view on the latest version."""
    relations = set(published_marts(manifest))
    for node in contracts.public_models(manifest):
        if node.get("version") is not None and str(node["version"]) == str(node.get("latest_version")):
            relations.add(f'{node["config"]["meta"]["publish_schema"]}.{node["name"]}')
    return sorted(relations)


def cli_environ(pg: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a person's shell: this process's, with pg instead of its libpq variables
    when given."""
    if pg is None:
        return dict(os.environ)
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")} | pg


def run_lp(
    *args: str, pg: dict[str, str] | None = None, cwd: Path = PROJECT_ROOT, project: Path | None = None
) -> subprocess.CompletedProcess:
    """The `lp` command line as a person runs it, from cwd (with pg's libpq variables, if given); with
    project, the lp of that copy of the project (project_copy), on its files (cwd defaults to it)."""
    environ = cli_environ(pg)
    # a wide terminal, so that tables (dbt-bouncer's) are not wrapped: pytest-xdist's workers set COLUMNS=80
    environ["COLUMNS"] = "200"
    if project is not None:
        environ["PYTHONPATH"] = str(project / "src")
        cwd = project if cwd == PROJECT_ROOT else cwd
    return subprocess.run([sys.executable, "-m", "lpdata.cli", *args], cwd=cwd, env=environ, capture_output=True, text=True)


def assert_build_stopped_naming(result: subprocess.CompletedProcess, message: str) -> None:
    """A dbt build that failed with message in its log, and not with PostgreSQL's "column ... does
    not exist" against a union, which the project's shape checks (macro require_columns) replace."""
    assert result.returncode != 0
    assert message in result.stdout, result.stdout[-4000:]
    assert "does not exist" not in result.stdout


def project_copy(dest: Path) -> Path:
    """A copy of the project's files (no venv, git, dbt targets, database or artifacts) to change as
    a contributor would: add a model, edit a yml. The pages' installed assets are linked, not copied."""
    shutil.copytree(
        PROJECT_ROOT,
        dest,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "target*", "logs", ".pgdata", "artifacts", "node_modules", "*.pyc", "__pycache__"
        ),
    )
    if (PROJECT_ROOT / "node_modules").is_dir():
        (dest / "node_modules").symlink_to(PROJECT_ROOT / "node_modules")
    # as in a contributor's checkout, `lp lint`'s dbt parse of the copy starts from the project's
    # last one, and dbt parses again only the files that differ
    copy_saved_parse(PROJECT_ROOT / BOUNCER_TARGET, dest / BOUNCER_TARGET)
    return dest


def copy_saved_parse(source: Path, dest: Path) -> None:
    """dbt's saved parse of the target folder `source` (if any) into the target folder `dest`, for
    the same connection and vars: dest's first dbt command reparses only the files that differ."""
    if (source / SAVED_PARSE).exists():
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(source / SAVED_PARSE, dest / SAVED_PARSE)


def insert_at(path: Path, anchor: str, text: str, *, before: bool = False) -> None:
    """Insert text right after (or before) anchor in a file of a project copy, as a contributor
    editing a registry or a yml would; the anchor must be there."""
    content = path.read_text()
    assert content.count(anchor) == 1, f"{anchor!r} not found once in {path}"
    path.write_text(content.replace(anchor, text + anchor if before else anchor + text))


def _worker() -> str:
    """Unique per test process: concurrent runs (xdist workers, several checkouts) never share a database."""
    return f'{os.environ.get("PYTEST_XDIST_WORKER", "main")}_{os.getpid()}'


_CREATED: list[dict[str, str]] = []


def make_database(name: str, template: str | None = None) -> dict[str, str]:
    """A fresh database (a copy of `template` when given), dropped at the end of the session."""
    env = dict(db.pg_env())
    env["PGDATABASE"] = name
    db.ensure_database(env, recreate=True, template=template)
    _CREATED.append(env)
    return env


# The machine's own PostgreSQL server (15 on the development and CI machines), beside the embedded 18.
MACHINE_SERVER = {"PGHOST": "127.0.0.1", "PGPORT": "5432", "PGUSER": "postgres"}


def machine_server(dbname: str | None = None) -> dict[str, str]:
    """libpq variables of the machine's server at 127.0.0.1:5432 (skip the test when it is not
    reachable); with dbname, a fresh database on it, dropped at the end of the session."""
    env = MACHINE_SERVER | {"PGDATABASE": "postgres"}
    try:
        with psycopg.connect(db.conninfo(env), connect_timeout=3):
            pass
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 not reachable: {exc}")
    if dbname is None:
        return env
    env = env | {"PGDATABASE": dbname}
    db.ensure_database(env, recreate=True)
    _CREATED.append(env)
    return env


# The modules that take longest first (each builds warehouses for a minute or two), so that no
# long module starts last while the other worker idles (lp test runs them in this order:
# --no-loadscope-reorder); the first two build the two shared templates side by side. The rest
# follow in their usual order.
LONGEST_FIRST = [
    "test_incremental", "test_foundation", "test_conventions", "test_cli", "test_experimentation",
    "test_publishing", "test_reliability", "test_hostile_input", "test_docs_site", "test_report",
    "test_coaching", "test_contract_layer", "test_odcs", "test_recommendations",
]


def pytest_collection_modifyitems(session, config, items):
    def rank(item) -> int:
        module = item.nodeid.split("::")[0].rsplit("/", 1)[-1].removesuffix(".py")
        return LONGEST_FIRST.index(module) if module in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: within a module, and among the rest, the collected order stays


def pytest_sessionfinish(session, exitstatus):
    """Drop the test databases unless LP_KEEP_TEST_DB is set (to inspect a failure); the controller
    (or the only process) drops the shared templates, after every worker has finished."""
    if os.environ.get("LP_KEEP_TEST_DB"):
        return
    if not hasattr(session.config, "workerinput"):
        _drop_templates()
    for env in _CREATED:
        try:
            db.drop_database(env)
        except Exception as exc:  # noqa: BLE001 - cleanup must not hide the test outcome
            print(f"could not drop {env['PGDATABASE']}: {exc}")


def _run_id() -> str:
    """One id per test command, the same in its xdist workers (set before they start)."""
    return os.environ["LP_TEST_RUN"]


def pytest_configure(config):
    # the controller (or the only process) names the run; workers inherit it through the environment
    if not hasattr(config, "workerinput"):
        os.environ.setdefault("LP_TEST_RUN", str(os.getpid()))


# Full builds that several test modules start from, built once per test command (whichever worker
# asks first builds it, the others wait for it) and copied per module as a database template:
# a copy takes under a second where a build takes 15 to 30 s, mostly dbt's own work per node.
SHARED_SCALES = (600, TEST_LEARNERS)


def _template_name(learners: int) -> str:
    """The database of this run's shared template at this scale."""
    return f"lp_tpl_{learners}_{_run_id()}"


def _template_files(name: str) -> tuple[Path, Path]:
    """The dbt target folder and the lock file of the template database `name`."""
    import tempfile

    return PROJECT_ROOT / f"target_pytest_{name}", Path(tempfile.gettempdir()) / f"{name}.lock"


def _template(learners: int) -> tuple[str, str]:
    """The database and target path of the shared full build at this scale, built on first use."""
    import fcntl

    from lpdata.generate import generate

    name = _template_name(learners)
    target_path, lock = _template_files(name)
    with open(lock, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        if handle.read() != "built":
            env = dict(db.pg_env()) | {"PGDATABASE": name}
            db.ensure_database(env, recreate=True)
            generate(env, learners=learners, seed=TEST_SEED, anchor=ANCHOR, progress=False)
            template = Warehouse(env=env, target_path=str(target_path), vars={"as_of": _as_of(ANCHOR)}, unit_tests=True)
            template.dbt("build")
            handle.seek(0)
            handle.truncate()
            handle.write("built")
            handle.flush()
    return name, str(target_path)


def _built_template() -> tuple[str, str] | None:
    """The database and target path of a shared template this run has built already, if any."""
    for learners in SHARED_SCALES:
        name = _template_name(learners)
        target_path, lock = _template_files(name)
        if lock.exists() and lock.read_text() == "built":
            return name, str(target_path)
    return None


def _copy_artifacts(source: str, dest: Path, template: str, dbname: str) -> None:
    """The template's dbt artifacts as its copy's own: they name the copy's database (the manifest's
    nodes carry it, and `state:modified` compares it), and so does its saved parse."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns(SAVED_PARSE))
    for path in dest.rglob("*"):
        if path.suffix in {".json", ".sql"}:
            text = path.read_text()
            if template in text:
                path.write_text(text.replace(template, dbname))
    pg = dict(db.pg_env())
    retarget_saved_parse(Path(source), dest, pg | {"PGDATABASE": template}, pg | {"PGDATABASE": dbname})


def _profile_hash(env: dict[str, str]) -> str:
    """The key dbt files its saved parse under for the connection of profiles.yml with these libpq
    variables (dbt's ManifestLoader.build_manifest_state_check: every connection setting, the
    database included)."""
    import hashlib
    import pprint

    from dbt.adapters.postgres.connections import PostgresCredentials

    credentials = PostgresCredentials.from_dict(
        {
            "host": env.get("PGHOST", "localhost"),
            "port": int(env.get("PGPORT", "5432")),
            "user": env.get("PGUSER", "postgres"),
            "password": env.get("PGPASSWORD", ""),
            "database": env["PGDATABASE"],
            "schema": os.environ.get("DBT_SCHEMA", "analytics"),
            "connect_timeout": 10,
        }
    )
    return hashlib.sha256(pprint.pformat(sorted(credentials.connection_info())).encode()).hexdigest()


def retarget_saved_parse(
    source: Path, dest: Path, source_env: dict[str, str], dest_env: dict[str, str], project_dir: Path = PROJECT_ROOT
) -> None:
    """dbt's saved parse of the target folder `source`, as that of `dest`, for a copy of its database
    (dest_env) and of the project (project_dir): dbt would otherwise parse every file again (about 5 s)
    for a new database name, since it keys the saved parse on the connection and the nodes carry
    the database and the project's folder. Nothing is written unless the source's key is the one
    computed here for source_env: then dbt parses afresh, as it would anyway."""
    import msgpack

    saved = source / SAVED_PARSE
    if not saved.exists():
        return
    manifest = msgpack.unpackb(saved.read_bytes(), raw=False, strict_map_key=False)
    key = manifest["state_check"]["profile_hash"]
    if key.get("checksum") != _profile_hash(source_env):
        return
    key["checksum"] = _profile_hash(dest_env)
    old_db, new_db = source_env["PGDATABASE"], dest_env["PGDATABASE"]
    old_root, new_root = str(PROJECT_ROOT), str(project_dir)

    def renamed(value):
        if isinstance(value, dict):
            return {k: renamed(v) for k, v in value.items()}
        if isinstance(value, list):
            return [renamed(v) for v in value]
        if isinstance(value, str):
            if value == old_root:  # a project file's root (dbt's own packages stay where they are)
                return new_root
            if old_db != new_db and old_db in value:  # a node's database, or its "database"."schema"."name"
                return value.replace(old_db, new_db)
        return value

    dest.mkdir(parents=True, exist_ok=True)
    (dest / SAVED_PARSE).write_bytes(msgpack.packb(renamed(manifest), use_bin_type=True))


def start_from_a_template_parse(dest: Path, env: dict[str, str], project_dir: Path = PROJECT_ROOT) -> None:
    """The first dbt command in target folder dest, on the database of env (any server) and the
    project in project_dir, starts from the saved parse of a template this run has built, if any."""
    built = _built_template()
    if built:
        retarget_saved_parse(Path(built[1]), dest, db.pg_env() | {"PGDATABASE": built[0]}, env, project_dir)


def _run_ended(run_id: str) -> bool:
    """Whether the test command of that run id (its controller's pid) has ended."""
    try:
        os.kill(int(run_id), 0)
    except (ValueError, ProcessLookupError):
        return True
    except PermissionError:
        return False
    return False


def _drop_templates() -> None:
    """This run's templates, and on the embedded server (this machine's alone) those an
    interrupted run left behind."""
    env = dict(db.pg_env())
    with db.connect(env | {"PGDATABASE": "postgres"}, autocommit=True) as conn:
        names = [r[0] for r in conn.execute("select datname from pg_database where datname like 'lp_tpl_%'").fetchall()]
    for name in names:
        run_id = name.rsplit("_", 1)[-1]
        if run_id != _run_id() and (db.uses_external_server() or not _run_ended(run_id)):
            continue
        db.drop_database(env, name)
        target_path, lock = _template_files(name)
        shutil.rmtree(target_path, ignore_errors=True)
        lock.unlink(missing_ok=True)


def _as_of(anchor: dt.date) -> str:
    return f"{anchor.isoformat()}T00:00:00+00:00"


def build_warehouse(
    name: str, learners: int, select: str | None = None, *, anchor: dt.date = ANCHOR, build: bool = True
) -> Warehouse:
    """A warehouse in its own database: synthetic data up to anchor, then `dbt build` (of `select`
    when given; none with build=False). Tests that change data (incremental, faults, publishing)
    build their own. A full build at a shared scale (SHARED_SCALES) is a copy of that scale's
    template, with the template's dbt artifacts."""
    from lpdata.generate import generate

    target_path = f"target_pytest_{name}_{_worker()}"
    dbname = f"lp_test_{name}_{_worker()}"
    wh = Warehouse(env={}, target_path=target_path, vars={"as_of": _as_of(anchor)})
    if build and select is None and anchor == ANCHOR and learners in SHARED_SCALES:
        template, template_target = _template(learners)
        wh.env = make_database(dbname, template=template)
        _copy_artifacts(template_target, PROJECT_ROOT / target_path, template, dbname)
        return wh
    wh.env = make_database(dbname)
    start_from_a_template_parse(PROJECT_ROOT / target_path, wh.env)
    generate(wh.env, learners=learners, seed=TEST_SEED, anchor=anchor, progress=False)
    if build:
        dataclasses.replace(wh, unit_tests=True).dbt("build", *(["--select", select] if select else []))
    return wh


@pytest.fixture(scope="session")
def warehouse() -> Warehouse:
    """Synthetic data at test scale, then `dbt build` (seeds, models, unit and data tests).
    LP_TEST_SELECT narrows the build while developing one product (e.g. "+experiment_results");
    the test command builds everything."""
    return build_warehouse("main", TEST_LEARNERS, select=os.environ.get("LP_TEST_SELECT"))


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT
