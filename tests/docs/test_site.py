"""The documentation site builds with `mkdocs build --strict`, works offline, and the README's
links lead somewhere: so a broken link or a page left out of the nav fails `make test`."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MKDOCS = ROOT / ".venv" / "bin" / "mkdocs"
SCRIPT_SRC = re.compile(r"<script[^>]*\bsrc=\"([^\"]+)\"")
README_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(MKDOCS), "build", "--strict", "-f", str(config), "-d", str(site)],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    done = build(ROOT / "mkdocs.yml", target)
    assert done.returncode == 0, done.stderr
    return target


def test_every_page_is_built(site: Path) -> None:
    pages = sorted(path.stem for path in (ROOT / "docs").glob("*.md"))
    assert sorted(path.stem for path in site.glob("*.html") if path.stem != "404") == pages


def test_no_script_comes_from_outside(site: Path) -> None:
    sources = {src for page in site.rglob("*.html") for src in SCRIPT_SRC.findall(page.read_text())}
    assert sorted(src for src in sources if re.match(r"(https?:)?//", src)) == []
    assert (site / "assets" / "javascripts" / "mermaid.min.js").stat().st_size > 1_000_000


def test_mermaid_blocks_are_left_for_the_local_script(site: Path) -> None:
    index = (site / "index.html").read_text()
    assert index.count('<pre class="mermaid"><code>sequenceDiagram') == 1
    assert index.count('<script src="assets/javascripts/mermaid.min.js"></script>') == 1


def test_a_broken_link_fails_the_build(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Home\n\nSee [the missing page](missing.md).\n")
    config = tmp_path / "mkdocs.yml"
    config.write_text((ROOT / "mkdocs.yml").read_text().split("\nnav:")[0].replace(
        "docs_dir: docs", f"docs_dir: {docs}").replace(
        "extra_javascript:\n  - assets/javascripts/mermaid.min.js", ""))
    done = build(config, tmp_path / "site")
    assert done.returncode == 1
    assert "'missing.md'" in done.stderr


def test_the_readme_links_to_files_that_exist() -> None:
    targets = README_LINK.findall((ROOT / "README.md").read_text())
    local = [target for target in targets if not re.match(r"https?:", target)]
    assert [target for target in local if not (ROOT / target).exists()] == []
    pages = {"walkthrough", "consent", "processing-log", "operations", "configuration",
             "benchmarks", "design", "deployment"}  # what the issue asks the README to lead to
    assert pages - {Path(target).stem for target in local} == set()


def test_the_diagram_renders_offline_in_a_browser(site: Path) -> None:
    """Chromium opens the built site from disk with every non-file request refused: the vendored
    mermaid script draws the diagram (into mkdocs-material's closed shadow root, so its size
    tells), and no request tries to leave the machine."""
    from playwright.sync_api import sync_playwright

    from tests.browser.test_console_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

    outside: list[str] = []

    def local_only(route) -> None:  # noqa: ANN001 (playwright's Route)
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.route("**/*", local_only)
        page.goto((site / "index.html").as_uri())
        page.wait_for_function("() => typeof mermaid === 'object' && document.querySelector("
                               "'div.mermaid')?.getBoundingClientRect().height > 100",
                               timeout=20_000)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.locator("div.mermaid").screenshot(path=ARTIFACTS / "docs-diagram.png")
        assert page.locator("pre.mermaid").count() == 0  # every block was drawn
        browser.close()
    assert outside == []
