"""Running dbt against the selected database: profiles from profiles.yml.example, env from lpdata.db."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from . import PROJECT_ROOT


def ensure_profiles(project_dir: Path = PROJECT_ROOT) -> Path:
    """profiles.yml is generated from the committed, env_var-only example (it is git-ignored)."""
    target = project_dir / "profiles.yml"
    example = project_dir / "profiles.yml.example"
    if not target.exists() or target.read_text() != example.read_text():
        shutil.copyfile(example, target)
    return project_dir


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


# Session settings of every dbt connection (libpq's PGOPTIONS), unless the caller's PGOPTIONS sets
# them already. PostgreSQL's default work_mem (4MB) makes every large sort and hash of a build spill
# to disk; 256MB keeps most of them in memory (docs/benchmarks.md) while 4 dbt threads
# with a few sorts each stay far below the machine's memory. LP_WORK_MEM overrides it.
DEFAULT_WORK_MEM = "256MB"


# Parallel workers: none. dbt already runs `threads` queries at once (4 on 2 cores here), and each
# Gather of a test query started workers that only competed with them and made the tests slower.
# Models disable them anyway, for
# reproducible float sums (dbt_project.yml).
DEFAULT_SETTINGS = {"work_mem": None, "max_parallel_workers_per_gather": "0"}

# The tests a partial build runs (dbt_env).
INDIRECT_SELECTION = "buildable"


def session_options(current: str | None = None) -> str:
    """PGOPTIONS for dbt: the caller's options plus each project setting they do not set."""
    options = (current or "").strip()
    for name, value in DEFAULT_SETTINGS.items():
        if re.search(rf"(?<![a-z_]){name}\s*=", options):
            continue
        value = value or os.environ.get("LP_WORK_MEM", DEFAULT_WORK_MEM)
        options = f"{options} -c {name}={value}".strip()
    return options


def dbt_env(pg: dict[str, str], extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(pg)
    env["PGOPTIONS"] = session_options(env.get("PGOPTIONS"))
    env["DBT_PROFILES_DIR"] = str(ensure_profiles())
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    # a partial build (`--select`) runs the tests of what it selects and of what that reads, not a
    # test that also reads a model it did not rebuild (dbt's default, eager, would compare new
    # staged rows with an old model and fail, as the raw-rows reconciliation does after new data)
    env.setdefault("DBT_INDIRECT_SELECTION", INDIRECT_SELECTION)
    env.setdefault("GX_ANALYTICS_ENABLED", "false")
    if extra:
        env.update(extra)
    return env


def dbt_invocation(
    args: list[str],
    pg: dict[str, str],
    *,
    target_path: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of `dbt <args>` (run in PROJECT_ROOT). target_path
    isolates concurrent runs."""
    env = dbt_env(pg, extra_env)
    if target_path:
        env["DBT_TARGET_PATH"] = target_path
    return [dbt_executable(), *args], env


def target_dir(target_path: str | Path | None = None, project_dir: Path = PROJECT_ROOT) -> Path:
    """The folder of dbt's artifacts: target_path, else $DBT_TARGET_PATH, else target (relative to
    the project, or to the changed copy of it dbt runs in)."""
    path = Path(target_path or os.environ.get("DBT_TARGET_PATH") or "target")
    return path if path.is_absolute() else project_dir / path


def read_artifact(name: str, target_path: str | Path | None = None, *, required: bool = True) -> dict | None:
    """A dbt artifact (manifest.json, run_results.json, sources.json, ...) of the last invocation
    that wrote to target_path. A missing one is an error naming what to run, or None when not
    required."""
    path = target_dir(target_path) / name
    if not path.exists():
        if not required:
            return None
        raise RuntimeError(f"no dbt {name} at {path}: run dbt (lp run / lp dbt build) first")
    return json.loads(path.read_text())


def dbt_failed(args: list[str], returncode: int, detail: str = "") -> RuntimeError:
    return RuntimeError(f"dbt {' '.join(args)} failed with exit code {returncode}{detail}")


# dbt runs inside the calling process (dbt's programmatic entry point, dbtRunner), one invocation at
# a time: a new process would import dbt again (about 1.5 CPU-seconds) and compile again every macro
# template it renders, which dbt caches per process by the macro's text (about 15% of a small
# build). LP_DBT_SUBPROCESS=1 runs each command in its own `dbt` process instead.
_IN_PROCESS = threading.Lock()


def in_process() -> bool:
    return os.environ.get("LP_DBT_SUBPROCESS", "") in {"", "0"}


@contextlib.contextmanager
def _process_state(env: dict[str, str], cwd: Path) -> Iterator[None]:
    """The command's environment and working directory for the length of one in-process dbt
    invocation (dbt and libpq read both from the process), then the caller's again."""
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)


def _stale_partial_parse(exception: BaseException | None, env: dict[str, str], cwd: Path) -> Path | None:
    """The saved manifest dbt's partial parsing read, when the invocation failed while parsing
    with it. Partial parsing can keep a definition its file no longer holds (a unit test moved to
    another file while the model it tested was renamed raised "Unable to find model ... for unit
    test ..." from the old file) until the saved manifest is gone; a full parse of the same files
    succeeds."""
    from dbt.exceptions import ParsingError

    if not isinstance(exception, ParsingError):
        return None
    saved = target_dir(env.get("DBT_TARGET_PATH"), project_dir=cwd) / "partial_parse.msgpack"
    return saved if saved.exists() else None


def _invoke(cmd: list[str], env: dict[str, str], cwd: Path, capture: bool) -> subprocess.CompletedProcess:
    """`dbt <args>` in this process, with the exit code the dbt command would give: 0 success, 1 a
    node failed, 2 dbt itself failed (an error before or outside the nodes). A parse that failed on
    a stale saved manifest (_stale_partial_parse) is done again from scratch, once."""
    from dbt.cli.main import dbtRunner  # on first use: lp's other commands need no dbt

    out, err = io.StringIO(), io.StringIO()
    with _IN_PROCESS, _process_state(env, cwd), contextlib.ExitStack() as streams:
        if capture:
            streams.enter_context(contextlib.redirect_stdout(out))
            streams.enter_context(contextlib.redirect_stderr(err))
        result = dbtRunner().invoke(cmd[1:])
        stale = _stale_partial_parse(result.exception, env, cwd)
        if stale is not None:
            print(f"lp: dbt's partial parse failed on its saved manifest; removing {stale} and parsing from scratch")
            stale.unlink()
            result = dbtRunner().invoke(cmd[1:])
    code = 0 if result.success else 2 if result.exception is not None else 1
    return subprocess.CompletedProcess(cmd, code, out.getvalue() if capture else None, err.getvalue() if capture else None)


def run_dbt(
    args: list[str],
    pg: dict[str, str],
    *,
    target_path: str | None = None,
    check: bool = True,
    capture: bool = False,
    extra_env: dict[str, str] | None = None,
    project_dir: Path = PROJECT_ROOT,
) -> subprocess.CompletedProcess:
    """Run `dbt <args>` in the project directory (or a changed copy of it). target_path isolates
    concurrent runs."""
    cmd, env = dbt_invocation(args, pg, target_path=target_path, extra_env=extra_env)
    if in_process():
        result = _invoke(cmd, env, project_dir, capture)
    else:
        result = subprocess.run(cmd, cwd=project_dir, env=env, text=True, capture_output=capture)
    if check and result.returncode != 0:
        detail = ""
        if capture:
            detail = "\n" + (result.stdout or "")[-4000:] + (result.stderr or "")[-2000:]
        raise dbt_failed(args, result.returncode, detail)
    return result
