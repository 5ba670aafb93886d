"""The readouts (lp report) and the Great Expectations Data Docs as a person sees them: opened from
disk by headless Chromium with no network at all, each chart drawn from the marts' numbers and each
table filled. Screenshots are kept in artifacts/report_screenshots/."""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import run_lp
from test_docs_site import CHROMIUM, _chromium

from lpdata import PROJECT_ROOT, quality
from lpdata.generate.truths import TRUTHS
from lpdata.report import build
from lpdata.report.assets import remote_assets
from lpdata.report.coaching import HOLDOUT, wilson
from lpdata.report.experiments import SEQUENTIAL
from lpdata.report.marts import Marts
from lpdata.report.sections import pct

SCREENSHOTS = PROJECT_ROOT / "artifacts" / "report_screenshots"
# no name resolves and every request goes to a closed port: only file:// loads
OFFLINE = ["--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>"]
PLANTED_SCHEMA = "report_planted"


class _Charts(HTMLParser):
    """Per chart container (div.chart) of a rendered page: its data-* attributes and the data marks
    drawn inside it (SVG elements by aria-roledescription: point, bar, rule mark, area, line)."""

    DATA_MARKS = {"point", "bar", "rule mark", "area mark", "line mark", "area", "line", "circle"}

    def __init__(self) -> None:
        super().__init__()
        self.charts: dict[str, dict] = {}
        self._stack: list[str | None] = []
        self.cells = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        chart = None
        if tag == "div" and "chart" in (attrs.get("class") or "").split():
            chart = attrs["id"]
            self.charts[chart] = {"attrs": attrs, "marks": Counter()}
        if tag == "td":
            self.cells += 1
        inside = next((c for c in reversed(self._stack) if c), None)
        if inside and attrs.get("aria-roledescription") in self.DATA_MARKS:
            self.charts[inside]["marks"][attrs["aria-roledescription"]] += 1
        if tag not in {"br", "img", "meta", "link", "input", "hr", "path", "line", "rect", "circle"}:
            self._stack.append(chart)

    def handle_endtag(self, tag):
        if tag not in {"br", "img", "meta", "link", "input", "hr", "path", "line", "rect", "circle"} and self._stack:
            self._stack.pop()


def rendered(profile: Path, page: Path, shot: str) -> str:
    """The DOM of page after Chromium ran its scripts offline; a screenshot of it as shot.png."""
    url = page.as_uri()
    dom = _chromium(profile, *OFFLINE, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{shot}.png"
    result = _chromium(profile, *OFFLINE, "--window-size=1400,2200", f"--screenshot={target}", url)
    assert result.returncode == 0, result.stderr[-2000:]
    assert target.exists() and target.stat().st_size > 20_000
    return dom.stdout


def charts_of(dom: str) -> _Charts:
    parser = _Charts()
    parser.feed(dom)
    return parser


def assert_all_drawn(dom: str, page: str) -> _Charts:
    parsed = charts_of(dom)
    assert parsed.charts, f"{page}: no chart"
    for chart_id, chart in parsed.charts.items():
        assert "data-render-error" not in chart["attrs"], f"{page} {chart_id}: {chart['attrs']['data-render-error']}"
        assert chart["attrs"].get("data-rendered") == "true", f"{page} {chart_id} was not drawn"
        assert sum(chart["marks"].values()) > 0, f"{page} {chart_id} has no marks"
    assert parsed.cells > 0, f"{page}: no table filled"
    return parsed


def embedded_specs(html: str) -> dict[str, dict]:
    return {
        m.group(1): json.loads(m.group(2))
        for m in re.finditer(r'<script type="application/json" id="spec-([^"]+)">(.*?)</script>', html, re.S)
    }


def spec_rows(spec: dict) -> list[dict]:
    return [row for rows in spec.get("datasets", {}).values() for row in rows]


@pytest.fixture(scope="module")
def site(warehouse, tmp_path_factory):
    """The readouts and the Data Docs of the test warehouse, written as lp run writes them."""
    if CHROMIUM is None:
        pytest.fail("chromium is not installed: `make test` installs it (apt package chromium)")
    root = tmp_path_factory.mktemp("site")
    docs_site = PROJECT_ROOT / warehouse.target_path / "static_index.html"
    if not docs_site.exists():
        warehouse.dbt("docs", "generate", "--static")
    data_docs = root / "quality" / "data_docs"
    quality.run(warehouse.env, target_path=warehouse.target_path, docs_dir=data_docs, verbose=False)  # test_quality checks its verdict
    index = build(
        warehouse.env,
        target_path=warehouse.target_path,
        out_dir=root / "report",
        docs_site=docs_site,
        data_docs=data_docs / "index.html",
    )
    return {"index": index, "data_docs": data_docs, "docs_site": docs_site, "profile": tmp_path_factory.mktemp("chromium")}


def test_every_readout_renders_offline_with_the_marts_numbers(site, warehouse):
    out = site["index"].parent
    results = warehouse.dicts(f"select * from {warehouse.mart('experiment_results')}")
    for experiment in TRUTHS["experiments"]:
        page = out / f"experiment-{experiment}.html"
        html = page.read_text()
        assert remote_assets(html) == []
        dom = rendered(site["profile"], page, f"experiment-{experiment}")
        parsed = assert_all_drawn(dom, page.name)
        rows = [r for r in results if r["experiment_key"] == experiment]
        # one dot per metric and treatment variant, one CUPED bar each
        assert parsed.charts["chart-forest"]["marks"]["point"] == len(rows)
        assert parsed.charts["chart-cuped"]["marks"]["bar"] == len(rows)
        # the charts plot the published numbers
        specs = embedded_specs(html)
        forest = {(r["metric"], r["variant_key"]): r for r in spec_rows(specs["forest"])}
        for row in rows:
            drawn = forest[(f"{row['metric_key']} ({row['metric_role']})", row["variant_key"])]
            for column in ("relative_lift", "relative_ci_low", "relative_ci_high"):
                assert drawn[column] == pytest.approx(row[column], abs=1e-12), (experiment, row["metric_key"], column)
            assert pct(row["relative_lift"], signed=True) in html
        assert sorted(r["variance_reduction"] for r in spec_rows(specs["cuped"])) == pytest.approx(
            sorted(r["variance_reduction"] for r in rows), abs=1e-12
        )
    for name in ("index", "coaching"):
        page = out / f"{name}.html"
        assert remote_assets(page.read_text()) == []
        dom = rendered(site["profile"], page, name)
        if name == "coaching":
            parsed = assert_all_drawn(dom, page.name)
            n_messages = warehouse.scalar(f"select count(distinct message_key) from {warehouse.mart('coaching_message_performance')}")
            assert parsed.charts["chart-rates"]["marks"]["point"] == 4 * n_messages  # four rates per message
        else:
            for experiment in TRUTHS["experiments"]:
                assert f'href="experiment-{experiment}.html"' in dom
            assert 'href="coaching.html"' in dom


def test_srm_warning_comes_first_and_only_where_there_is_one(site):
    out = site["index"].parent
    for experiment in TRUTHS["experiments"]:
        html = (out / f"experiment-{experiment}.html").read_text()
        if experiment == TRUTHS["srm_experiment"]:
            assert 'id="srm-warning"' in html
            assert html.index('id="srm-warning"') < html.index('id="verdict"') < html.index('id="chart-forest"')
            assert "Sample-ratio mismatch" in html and "none of the results below can be trusted" in html
        else:
            assert 'id="srm-warning"' not in html
            assert "passed (chi-square p = " in html
    index = site["index"].read_text()
    assert index.count("sample-ratio mismatch</span>") == 1


def test_sections_wait_for_the_statistics_they_need(site, warehouse):
    """Until the warehouse publishes them, the pages say what the sequential and holdout sections
    read; once published, the section draws them."""
    out = site["index"].parent
    marts = Marts.load(warehouse.env, quality.load_manifest(warehouse.target_path))
    for needs, page, chart in ((SEQUENTIAL, f"experiment-{TRUTHS['experiments'][0]}.html", "chart-sequential"),
                               (HOLDOUT, "coaching.html", "chart-holdout")):
        html = (out / page).read_text()
        if marts.get(needs) is None:
            assert needs.describe() in html
        else:
            assert needs.describe() not in html and f'id="{chart}"' in html


def test_coaching_page_draws_the_published_lift_against_the_holdout(warehouse, site):
    """coaching_message_performance v2 publishes each message's lift: the coaching page draws one
    dot per message from the latest week's row, and names the planted helpful message."""
    coaching = site["index"].parent / "coaching.html"
    html = coaching.read_text()
    assert HOLDOUT.describe() not in html
    rows = warehouse.dicts(
        f"select message_key, lift, lift_ci_low, lift_ci_high from {warehouse.mart('coaching_message_performance')} as p "
        "where lift is not null and week_start = (select max(week_start) from "
        f"{warehouse.mart('coaching_message_performance')} where lift is not null)"
    )
    drawn = {r["message_key"]: r for r in spec_rows(embedded_specs(html)["holdout"])}
    assert set(drawn) == {r["message_key"] for r in rows}
    for row in rows:
        for column in ("lift", "lift_ci_low", "lift_ci_high"):
            assert drawn[row["message_key"]][column] == pytest.approx(row[column], abs=1e-12)
    assert TRUTHS["helpful_message_key"] in html.split("Messages that help:")[1].split(".")[0]
    parsed = assert_all_drawn(rendered(site["profile"], coaching, "coaching-holdout"), coaching.name)
    assert parsed.charts["chart-holdout"]["marks"]["point"] == len(rows)


def test_coaching_wilson_intervals_are_the_marts(warehouse, site):
    """The page's Wilson intervals (statsmodels) agree with the mart's (SQL macro) week by week, and
    the message the feedback loop pauses is named."""
    rows = warehouse.dicts(
        f"select n_rated_helpful, n_rated, helpfulness_ci_low, helpfulness_ci_high "
        f"from {warehouse.mart('coaching_message_performance')} where n_rated > 0"
    )
    low, high = wilson([r["n_rated_helpful"] for r in rows], [r["n_rated"] for r in rows])
    assert low == pytest.approx([r["helpfulness_ci_low"] for r in rows], abs=1e-9)
    assert high == pytest.approx([r["helpfulness_ci_high"] for r in rows], abs=1e-9)
    html = (site["index"].parent / "coaching.html").read_text()
    assert f"{TRUTHS['paused_message_key']} is paused for everyone" in html


def test_data_docs_render_offline(site):
    """GE writes its pages with CDN links (blank without network); they load local copies instead."""
    docs = site["data_docs"]
    pages = sorted(docs.rglob("*.html"))
    assert pages
    for page in pages:
        assert remote_assets(page.read_text()) == [], page
    for css in (docs / "static").rglob("*.css"):
        assert not re.search(r"url\(\s*['\"]?https?:", css.read_text()), css
    n_suites = len(list((docs / "expectations").rglob("*.html")))
    dom = rendered(site["profile"], docs / "index.html", "data_docs_index")
    # bootstrap-table (jQuery, Bootstrap) builds the tables of validation results and suites
    assert "fixed-table-container" in dom
    assert charts_of(dom).cells >= 2 * n_suites
    suite_page = next((docs / "validations").rglob("*.html"))
    dom = rendered(site["profile"], suite_page, "data_docs_validation")
    assert charts_of(dom).cells > 5


def test_index_links_the_docs_site_and_data_docs_which_render_offline(site):
    index = site["index"]
    html = index.read_text()
    for title, target in (("Data contracts", site["docs_site"]), ("Quality checks", site["data_docs"] / "index.html")):
        href = re.search(rf'<a href="([^"]+)">{title}', html).group(1)
        assert (index.parent / href).resolve() == target.resolve(), title
    dom = rendered(site["profile"], site["docs_site"], "docs_site")
    assert "Learning platform data contracts" in dom


def _plant_mart(manifest: dict, template: str, name: str, version: int, columns: dict[str, str]) -> None:
    """A public mart version in the manifest, published in PLANTED_SCHEMA as <name>_v<version>."""
    node = copy.deepcopy(next(n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["name"] == template))
    unique_id = f"model.learning_platform.{name}.v{version}"
    node.update(unique_id=unique_id, name=name, version=version, latest_version=version, alias=f"{name}_v{version}",
                constraints=[], columns={c: {"name": c, "data_type": t, "constraints": []} for c, t in columns.items()})
    node["config"] = {**node["config"], "meta": {**node["config"].get("meta", {}), "publish_schema": PLANTED_SCHEMA}}
    manifest["nodes"][unique_id] = node


def test_planted_sequential_and_holdout_marts_appear_as_sections(warehouse, site, tmp_path):
    """A mart with the shape the sequential section reads (experiment_results_daily), and a
    coaching_message_performance version with the holdout lift: their sections draw them."""
    manifest = copy.deepcopy(quality.load_manifest(warehouse.target_path))
    results = warehouse.mart("experiment_results")
    performance = warehouse.mart("coaching_message_performance", 1)
    helps, useless = "growth_first_week", "nudge_pick_up"
    with warehouse.connect() as conn:
        conn.execute(f"drop schema if exists {PLANTED_SCHEMA} cascade")
        conn.execute(f"create schema {PLANTED_SCHEMA}")
        conn.execute(
            f"create table {PLANTED_SCHEMA}.experiment_results_daily_v1 as "
            "select r.experiment_key, r.metric_key, r.variant_key, date '2026-06-01' + d as analysis_date, "
            "r.relative_lift, r.relative_lift - 0.5 / sqrt(d + 1) as seq_ci_low, r.relative_lift + 0.5 / sqrt(d + 1) as seq_ci_high "
            f"from {results} as r cross join generate_series(0, 13) as d"
        )
        conn.execute(
            f"create table {PLANTED_SCHEMA}.coaching_message_performance_v2 as "
            "select p.*, l.lift, l.lift - 0.05 as lift_ci_low, l.lift + 0.05 as lift_ci_high "
            f"from {performance} as p cross join lateral (select case p.message_key when %s then 0.2 "
            "when %s then 0.0 else 0.01 end as lift) as l",
            (helps, useless),
        )
        conn.commit()
    try:
        _plant_mart(manifest, "experiment_results", "experiment_results_daily", 1,
                    {c: "text" for c in SEQUENTIAL.columns})
        v1 = next(n for n in manifest["nodes"].values() if n["name"] == "coaching_message_performance" and n.get("version") == 1)
        _plant_mart(manifest, "coaching_message_performance", "coaching_message_performance", 2,
                    {**{c: col.get("data_type") for c, col in v1["columns"].items()},
                     "lift": "double precision", "lift_ci_low": "double precision", "lift_ci_high": "double precision"})
        marts = Marts.load(warehouse.env, manifest)
        assert marts.get(SEQUENTIAL) and marts.get(HOLDOUT)
        index = build(warehouse.env, manifest=manifest, out_dir=tmp_path / "report", docs_site=site["docs_site"],
                      data_docs=site["data_docs"] / "index.html")
    finally:
        with warehouse.connect() as conn:
            conn.execute(f"drop schema if exists {PLANTED_SCHEMA} cascade")
            conn.commit()
    experiment = "onboarding_checklist"
    page = index.parent / f"experiment-{experiment}.html"
    html = page.read_text()
    assert SEQUENTIAL.describe() not in html
    parsed = assert_all_drawn(rendered(site["profile"], page, f"planted-sequential-{experiment}"), page.name)
    n_metrics = len(embedded_specs(html)["forest"]["datasets"].popitem()[1])
    assert parsed.charts["chart-sequential"]["marks"]["point"] == 14 * n_metrics  # one dot a day per metric
    coaching = index.parent / "coaching.html"
    html = coaching.read_text()
    assert HOLDOUT.describe() not in html
    assert f"Messages that help: {helps}." in html
    parsed = assert_all_drawn(rendered(site["profile"], coaching, "planted-holdout-coaching"), coaching.name)
    n_messages = len({r["message_key"] for r in spec_rows(embedded_specs(html)["holdout"])})
    assert parsed.charts["chart-holdout"]["marks"]["point"] == n_messages


def test_lp_report_writes_the_readouts(warehouse, tmp_path):
    out = tmp_path / "readouts"
    result = run_lp("report", "--out", str(out), "--target-path", warehouse.target_path, pg=warehouse.env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Readouts: {out / 'index.html'}" in result.stdout
    experiments = {r[0] for r in warehouse.query(f"select distinct experiment_key from {warehouse.mart('experiment_health')}")}
    assert {p.name for p in out.glob("experiment-*.html")} == {f"experiment-{e}.html" for e in experiments}
    assert (out / "coaching.html").exists()
    assert (out / "assets" / "vega-embed" / "build" / "vega-embed.min.js").exists()


def test_vendored_vega_lite_is_the_version_altair_writes_for():
    import altair as alt

    pinned = json.loads((PROJECT_ROOT / "package.json").read_text())["dependencies"]
    assert pinned["vega-lite"].split(".")[0] == alt.VEGALITE_VERSION.split(".")[0]
    assert pinned["vega-embed"].split(".")[0] == alt.VEGAEMBED_VERSION.split(".")[0]
    assert pinned["vega"].split(".")[0] == alt.VEGA_VERSION.split(".")[0]
