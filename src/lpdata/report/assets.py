"""Local copies of the JavaScript, CSS and fonts the project's static pages load, so that every
page works offline (no CDN).

package.json pins them (exact versions; package-lock.json holds their integrity hashes) and
`npm ci` installs them into node_modules/ (`make assets`, or `ensure_installed()` the first time a
page is written). The readouts load Vega, Vega-Lite and vega-embed (the versions Altair's charts
are written for); the Great Expectations Data Docs load Bootstrap, jQuery, Font Awesome,
bootstrap-table and the rest from CDNs, and `localise_data_docs` points those links at copies
beside the Data Docs after GE writes them.
"""

from __future__ import annotations

import fcntl
import json
import re
import shutil
import subprocess
from pathlib import Path

from .. import PROJECT_ROOT

NODE_MODULES = PROJECT_ROOT / "node_modules"
PACKAGE_LOCK = PROJECT_ROOT / "package-lock.json"
NPM_CI = ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"]

# What the readouts load, in this order (vega-lite and vega-embed expect the globals of the ones before).
REPORT_SCRIPTS = ["vega/build/vega.min.js", "vega-lite/build/vega-lite.min.js", "vega-embed/build/vega-embed.min.js"]

# The Data Docs' remote assets: a pattern of the URL GE's templates write -> the local copy, a path
# in node_modules, or ("static", path) for a file GE itself writes to the site's static/ folder.
# Versions in the URLs are not matched: the copy is the version package.json pins (bootstrap 4.6
# for GE's 4.3, vega 6 for GE's vega 5: GE's own charts are written by Altair 6, for Vega-Lite 6).
DATA_DOCS_ASSETS: list[tuple[str, str | tuple[str, str]]] = [
    (r"/npm/vega@[^/\"']*$", "vega/build/vega.min.js"),
    (r"/npm/vega-lite@[^/\"']*$", "vega-lite/build/vega-lite.min.js"),
    (r"/npm/vega-embed@[^/\"']*$", "vega-embed/build/vega-embed.min.js"),
    (r"/jquery-3[.\d]*(\.min)?\.js$", "jquery/dist/jquery.min.js"),
    (r"/popper(\.min)?\.js$", "popper.js/dist/umd/popper.min.js"),
    (r"/bootstrap(\.min)?\.css$", "bootstrap/dist/css/bootstrap.min.css"),
    (r"/bootstrap(\.min)?\.js$", "bootstrap/dist/js/bootstrap.min.js"),
    (r"/bootstrap-table(\.min)?\.css$", "bootstrap-table/dist/bootstrap-table.min.css"),
    (r"/bootstrap-table(\.min)?\.js$", "bootstrap-table/dist/bootstrap-table.min.js"),
    (r"/bootstrap-table-filter-control(\.min)?\.css$",
     "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.css"),
    (r"/bootstrap-table-filter-control(\.min)?\.js$",
     "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.js"),
    (r"/bootstrap-datepicker(\.min)?\.css$", "bootstrap-datepicker/dist/css/bootstrap-datepicker.min.css"),
    (r"/bootstrap-datepicker(\.min)?\.js$", "bootstrap-datepicker/dist/js/bootstrap-datepicker.min.js"),
    (r"/font-awesome/[^/]+/css/all(\.min)?\.css$", "@fortawesome/fontawesome-free/css/all.min.css"),
    (r"/bootstrap-prefers-dark(\.min)?\.css$", "@forevolve/bootstrap-dark/dist/css/bootstrap-prefers-dark.css"),
    # GE's logo from its web assets bucket: the copy GE writes to static/images
    (r"/(full_logo_dark|logo-long)\.png$", ("static", "images/logo-long.png")),
]
VENDOR_DIR = "static/vendor"  # inside the Data Docs folder
_REMOTE = re.compile(r"^(https?:)?//", re.I)
_TAG = re.compile(r"<(script|link|img)\b[^>]*>", re.I | re.S)
_URL_ATTR = re.compile(r"""\b(src|href)\s*=\s*(["'])(.*?)\2""", re.I | re.S)
# the CDN tags carry subresource integrity and CORS attributes; a file:// page cannot load a
# local copy with crossorigin set (its origin is opaque), and the hashes are the CDN files'
_SRI_ATTRS = re.compile(r"""\s+(integrity|crossorigin)(\s*=\s*(["']).*?\3)?""", re.I | re.S)
_CSS_URL = re.compile(r"""url\(\s*(["']?)([^"')]+)\1\s*\)""", re.I)


def _locked_versions(lock: Path) -> dict[str, str]:
    packages = json.loads(lock.read_text()).get("packages", {})
    return {path: spec.get("version", "") for path, spec in packages.items() if path.startswith("node_modules/")}


def _installed() -> bool:
    """node_modules holds what package-lock.json pins (npm records what it installed in
    node_modules/.package-lock.json) and every file the pages load."""
    installed = NODE_MODULES / ".package-lock.json"
    needed = REPORT_SCRIPTS + [p for _, p in DATA_DOCS_ASSETS if isinstance(p, str)]
    return (
        installed.exists()
        and _locked_versions(installed) == _locked_versions(PACKAGE_LOCK)
        and all((NODE_MODULES / p).exists() for p in needed)
    )


def ensure_installed() -> Path:
    """node_modules as package-lock.json pins it: `npm ci` when it is missing or differs from the lock.
    A file lock keeps concurrent callers (pytest workers, two lp commands) from installing at once."""
    if _installed():
        return NODE_MODULES
    if shutil.which("npm") is None:
        raise RuntimeError(
            "the pages' JavaScript and CSS are not installed and npm is not on PATH: install Node.js and npm "
            "(Debian: apt-get install nodejs npm), then `make assets`"
        )
    with open(PROJECT_ROOT / ".npm-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _installed():
            print("installing the pages' assets (npm ci, package-lock.json)", flush=True)
            result = subprocess.run(NPM_CI, cwd=PROJECT_ROOT, capture_output=True, text=True)
            if result.returncode != 0 or not _installed():
                raise RuntimeError(f"`{' '.join(NPM_CI)}` failed:\n{(result.stdout + result.stderr)[-3000:]}")
    return NODE_MODULES


def _css_references(css: Path) -> list[Path]:
    """Local files a stylesheet loads (fonts, images), relative to it."""
    refs = []
    for _, url in _CSS_URL.findall(css.read_text(errors="replace")):
        url = url.strip()
        if url.startswith(("data:", "#")) or _REMOTE.match(url):
            continue
        refs.append((css.parent / url.split("?")[0].split("#")[0]).resolve())
    return refs


def vendor(paths: list[str], dest: Path) -> list[Path]:
    """Copy node_modules files (and what their stylesheets load) to dest, keeping their node_modules
    paths, so that relative references between them hold. Returns the copies of `paths`."""
    ensure_installed()
    root = NODE_MODULES.resolve()
    todo = [root / p for p in paths]
    seen: set[Path] = set()
    while todo:
        src = todo.pop()
        if src in seen:
            continue
        seen.add(src)
        if not src.is_relative_to(root) or not src.exists():
            raise RuntimeError(f"{src} is not an installed asset (node_modules)")
        target = dest / src.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
        if src.suffix == ".css":
            todo.extend(_css_references(src))
    return [dest / p for p in paths]


def _site_path(url: str) -> str | None:
    """The local copy of a remote asset, as a path from the Data Docs root; None if there is none."""
    path = url.split("?")[0].split("#")[0]
    for pattern, local in DATA_DOCS_ASSETS:
        if re.search(pattern, path):
            return "/".join(local) if isinstance(local, tuple) else f"{VENDOR_DIR}/{local}"
    return None


def _remote_asset(tag: str) -> re.Match | None:
    """The src/href of a script, stylesheet or image tag that loads from the network, else None
    (a local file, or a <link> that is not a stylesheet)."""
    match = _URL_ATTR.search(tag)
    if not match or not _REMOTE.match(match.group(3)):
        return None
    if tag.lower().startswith("<link") and not re.search(r"""rel\s*=\s*["']?stylesheet""", tag, re.I):
        return None
    return match


def remote_assets(html: str) -> list[str]:
    """The remote scripts, stylesheets and images a page loads (what it needs network for)."""
    return [m.group(3) for m in map(_remote_asset, (t.group(0) for t in _TAG.finditer(html))) if m]


def localise_data_docs(docs_dir: Path) -> list[str]:
    """Point every remote script, stylesheet and image of the Data Docs site in docs_dir at a local
    copy in its static/ folder, so that the pages render without network. Returns the remote
    assets it has no copy for (none, unless GE's templates changed: the readout tests say so)."""
    docs_dir = Path(docs_dir)
    vendor([p for _, p in DATA_DOCS_ASSETS if isinstance(p, str)], docs_dir / VENDOR_DIR)
    unmapped: list[str] = []

    def rewrite_tag(tag: str, to_root: str) -> str:
        match = _remote_asset(tag)
        local = match and _site_path(match.group(3))
        if not match:
            return tag
        if local is None:
            unmapped.append(match.group(3))
            return tag
        return _SRI_ATTRS.sub("", tag[: match.start(3)] + to_root + local + tag[match.end(3):])

    def rewrite_css_url(m: re.Match, to_root: str) -> str:
        local = _site_path(m.group(2)) if _REMOTE.match(m.group(2)) else None
        return f"url('{to_root}{local}')" if local else m.group(0)

    def rewrite_page(html: str, to_root: str) -> str:
        html = _TAG.sub(lambda m: rewrite_tag(m.group(0), to_root), html)
        return _CSS_URL.sub(lambda m: rewrite_css_url(m, to_root), html)  # the pages' <style> blocks

    for page in sorted(docs_dir.rglob("*.html")):
        to_root = "../" * (len(page.relative_to(docs_dir).parts) - 1)
        _rewrite_file(page, lambda html: rewrite_page(html, to_root))
    for css in sorted((docs_dir / "static" / "styles").glob("*.css")):  # static/styles/: the root is ../../
        _rewrite_file(css, lambda text: _CSS_URL.sub(lambda m: rewrite_css_url(m, "../../"), text))
    return sorted(set(unmapped))


def _rewrite_file(path: Path, change) -> None:
    text = path.read_text()
    new = change(text)
    if new != text:
        path.write_text(new)
