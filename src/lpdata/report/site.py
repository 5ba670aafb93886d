"""The readout pages: one per experiment, one for coaching, and an index linking them with the dbt
docs site and the Data Docs. Static HTML that opens from disk without network: the charts are
Altair specifications drawn by the vendored vega-embed (assets/ beside the pages).

Each page states its verdict in words first (a sample-ratio mismatch before anything else), then
the charts, then the numbers. Sections that need statistics a later mart version adds (the
always-valid interval over time, dimension slices, the coaching holdout lift) appear once the
manifest's contract and the database publish them; until then the page says what it waits for.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import jinja2

from .. import PROJECT_ROOT
from ..dbt import target_dir
from .assets import REPORT_SCRIPTS, vendor
from .coaching import coaching_page
from .experiments import experiment_pages
from .marts import Marts, load_manifest

REPORT_DIR = PROJECT_ROOT / "artifacts" / "report"
DATA_DOCS_INDEX = PROJECT_ROOT / "artifacts" / "quality" / "data_docs" / "index.html"
ASSETS_DIR = "assets"


def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def _link(target: Path, out_dir: Path) -> dict:
    return {"href": Path(os.path.relpath(target, out_dir)).as_posix(), "exists": target.exists(), "path": str(target)}


def build(
    env: dict[str, str],
    *,
    manifest: dict | None = None,
    target_path: str | None = None,
    out_dir: Path = REPORT_DIR,
    docs_site: Path | None = None,
    data_docs: Path = DATA_DOCS_INDEX,
) -> Path:
    """Write the readouts to out_dir (index.html, experiment-<key>.html, coaching.html, assets/);
    the folder is replaced whole once every page is written. Returns the index page."""
    manifest = manifest or load_manifest(env, target_path)
    marts = Marts.load(env, manifest)
    out_dir = Path(out_dir)
    staging = out_dir.with_name(out_dir.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    scripts = [f"{ASSETS_DIR}/{p}" for p in REPORT_SCRIPTS]
    vendor(REPORT_SCRIPTS, staging / ASSETS_DIR)
    templates = _templates()
    experiments, missing = experiment_pages(marts)
    coaching = coaching_page(marts)
    nav = {"experiments": [(e["key"], e["file"]) for e in experiments], "coaching": coaching is not None}
    for page in experiments:
        _write(staging / page["file"], templates.get_template("readout.html.j2").render(page=page, nav=nav, scripts=scripts))
    if coaching is not None:
        coaching["file"] = "coaching.html"
        _write(staging / "coaching.html", templates.get_template("readout.html.j2").render(page=coaching, nav=nav, scripts=scripts))
    docs_site = docs_site or target_dir(target_path) / "static_index.html"
    index = templates.get_template("index.html.j2").render(
        experiments=experiments,
        coaching=coaching,
        missing=missing,
        nav=nav,
        docs_site=_link(docs_site, out_dir),
        data_docs=_link(Path(data_docs), out_dir),
    )
    _write(staging / "index.html", index)
    old = out_dir.with_name(out_dir.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if out_dir.exists():
        out_dir.rename(old)
    staging.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)
    return out_dir / "index.html"


def _write(path: Path, html: str) -> None:
    path.write_text(html)
