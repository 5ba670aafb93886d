"""The dbt docs site, as a person sees it: rendered by headless Chromium, mart page and overview.

The overview (models/docs/overview.md) is the landing page: it links each consumer's lineage (the
graph filtered to an exposure's upstream) and each public mart's latest version.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess

import pytest
import yaml

from lpdata import PROJECT_ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = PROJECT_ROOT / "artifacts" / "docs_screenshots"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
    "--virtual-time-budget=15000",
]


@pytest.fixture(scope="module")
def docs_site(warehouse, tmp_path_factory):
    if CHROMIUM is None:
        pytest.fail("chromium is not installed: `make env` installs it (apt package chromium)")
    warehouse.dbt("docs", "generate", "--static")
    page = PROJECT_ROOT / warehouse.target_path / "static_index.html"
    assert page.exists() and page.stat().st_size > 100_000
    return page, tmp_path_factory.mktemp("chromium-profile")


def _chromium(profile, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("page_id", "expected"),
    [
        ("model/model.learning_platform.dim_learners.v2", ["One row per learner account", "is_active_30d", "bigint"]),
        ("model/model.learning_platform.fct_course_progress.v1", ["One row per learner × course", "pct_complete"]),
        ("overview", ["Learning platform data contracts", "platform_reader", "Start here", "coach service send list"]),
    ],
)
def test_docs_page_renders_in_a_browser(docs_site, page_id, expected):
    page, profile = docs_site
    url = f"{page.as_uri()}#!/{page_id}"
    dom = _chromium(profile, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    for text in expected:
        assert text in dom.stdout, f"{text!r} not rendered on {page_id}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / (page_id.split("/")[-1].replace("model.learning_platform.", "") + ".png")
    result = _chromium(profile, f"--screenshot={shot}", url)
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.exists() and shot.stat().st_size > 20_000


OVERVIEW = PROJECT_ROOT / "models" / "docs" / "overview.md"
MODEL_LINK = re.compile(r"\(#!/model/model\.learning_platform\.([a-z0-9_]+)\.v(\d+)\)")
LINEAGE_LINK = re.compile(r"\(#!/overview\?g_v=1&g_i=%2Bexposure:([a-z0-9_]+)\)")


def _marts_latest_version() -> dict[str, int]:
    """Every versioned mart of models/marts and its latest version, as dbt resolves it (the
    model's latest_version, else its highest version)."""
    latest = {}
    for path in sorted((PROJECT_ROOT / "models" / "marts").glob("*/_*__models.yml")):
        for model in yaml.safe_load(path.read_text()).get("models") or []:
            versions = [int(v["v"]) for v in model.get("versions") or []]
            if versions:
                latest[model["name"]] = int(model.get("latest_version") or max(versions))
    return latest


def _exposures() -> list[str]:
    names = []
    for path in sorted((PROJECT_ROOT / "models" / "marts").glob("*/_*__exposures.yml")):
        names += [e["name"] for e in yaml.safe_load(path.read_text()).get("exposures") or []]
    return names


def test_overview_links_every_public_mart_at_its_latest_version():
    """A new version of a mart (or a new mart) must move the overview's link with it: the link of
    a superseded version would open a deprecated page."""
    latest = _marts_latest_version()
    assert latest, "no versioned marts found"
    linked = {}
    for name, version in MODEL_LINK.findall(OVERVIEW.read_text()):
        linked.setdefault(name, set()).add(int(version))
    stale = {name: sorted(vs) for name, vs in linked.items() if vs != {latest.get(name)}}
    assert not stale, (
        f"models/docs/overview.md links versions that are not the latest: {stale}; latest: "
        f"{ {name: latest.get(name) for name in stale} }"
    )
    missing = sorted(set(latest) - set(linked))
    assert not missing, f"models/docs/overview.md does not link the latest version of {missing}"


def test_overview_links_the_lineage_of_every_exposure():
    exposures = _exposures()
    assert exposures, "no exposures found"
    linked = LINEAGE_LINK.findall(OVERVIEW.read_text())
    assert sorted(set(linked)) == sorted(set(exposures)), (
        f"lineage links {sorted(set(linked))} differ from the exposures {sorted(set(exposures))}"
    )


# Appended to a copy of the site: writes the nodes (not edges) the graph shows (the docs app's own graph
# service, through Angular's injector) into the DOM, where --dump-dom can read them.
GRAPH_PROBE = """
<script>
setInterval(function () {
  try {
    var graph = window.angular.element(document.querySelector('[ng-app]')).injector().get('graph');
    var ids = graph.graph.elements.filter(function (e) { return e.data && e.data.unique_id && !e.data.source; })
      .map(function (e) { return e.data.unique_id; });
    var out = document.getElementById('lp-graph-nodes');
    if (!out) { out = document.createElement('pre'); out.id = 'lp-graph-nodes'; document.body.appendChild(out); }
    out.textContent = JSON.stringify({orientation: graph.orientation, nodes: ids});
  } catch (err) {}
}, 250);
</script>
"""


@pytest.fixture(scope="module")
def probed_site(docs_site, tmp_path_factory):
    page, profile = docs_site
    probed = tmp_path_factory.mktemp("probed-site") / "index.html"
    text = page.read_text()
    at = text.rindex("</body>")
    probed.write_text(text[:at] + GRAPH_PROBE + text[at:])
    return probed, profile


def _upstream(manifest: dict, unique_id: str) -> set[str]:
    """The node and everything it depends on, transitively (manifest parent_map)."""
    seen, todo = {unique_id}, [unique_id]
    while todo:
        for parent in manifest["parent_map"].get(todo.pop(), []):
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


@pytest.mark.parametrize("exposure", _exposures())
def test_overview_lineage_link_opens_the_graph_of_that_exposure_only(warehouse, probed_site, exposure):
    """The overview's link opens the lineage graph filtered to the exposure and its upstream:
    every node it shows is upstream of the exposure, and the exposure's marts are there."""
    probed, profile = probed_site
    manifest = warehouse.artifact("manifest.json")
    exposure_id = f"exposure.learning_platform.{exposure}"
    url = f"{probed.as_uri()}#!/overview?g_v=1&g_i=%2Bexposure:{exposure}"
    dom = _chromium(profile, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    found = re.search(r'<pre id="lp-graph-nodes">(.*?)</pre>', dom.stdout, re.S)
    assert found, f"the graph of {exposure} did not open"
    shown = json.loads(html.unescape(found.group(1)))
    nodes = set(shown["nodes"])
    assert shown["orientation"] == "fullscreen", shown
    assert exposure_id in nodes
    marts = set(manifest["exposures"][exposure_id]["depends_on"]["nodes"])
    assert marts and marts <= nodes, f"{sorted(marts - nodes)} missing from the graph of {exposure}"
    outside = nodes - _upstream(manifest, exposure_id)
    assert not outside, f"the graph of {exposure} shows nodes it does not depend on: {sorted(outside)[:10]}"
    # and not the whole project: another product's marts stay out
    all_marts = {uid for uid, n in manifest["nodes"].items() if n["resource_type"] == "model" and n.get("access") == "public"}
    assert len(nodes & all_marts) < len(all_marts)
    if exposure == "coach_service_send_list":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOTS / f"lineage_{exposure}.png"
        result = _chromium(profile, f"--screenshot={shot}", url)
        assert result.returncode == 0, result.stderr[-2000:]
        assert shot.exists() and shot.stat().st_size > 20_000
