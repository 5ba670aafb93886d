"""The dbt docs site, as a person sees it: rendered by headless Chromium, mart page and overview."""

from __future__ import annotations

import shutil
import subprocess

import pytest

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
        ("overview", ["Learning platform data contracts", "platform_reader"]),
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
