"""Every relative link of the README and the docs/ pages points at a committed file, the README links each page, and
every backticked repository path in a Markdown page exists."""
import re
import shutil

import pytest

from conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
INDEXES = [ROOT / "docs" / "results" / "README.md", ROOT / "scripts" / "README.md", ROOT / "dev" / "README.md"]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("page", PAGES + INDEXES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page):
    targets = [t for t in LINK.findall(page.read_text()) if not t.startswith(("http://", "https://"))]
    missing = [t for t in targets if not (page.parent / t).exists()]
    assert not missing, f"{page.relative_to(ROOT)} links to missing {missing}"


def test_the_readme_links_every_docs_page():
    linked = set(LINK.findall((ROOT / "README.md").read_text()))
    assert {f"docs/{p.name}" for p in PAGES[1:]} <= linked


PATH_PREFIXES = ("src/", "scripts/", "stages/", "tests/", "docs/")
TICKED = re.compile(r"`([^`\s]+)`")
PLACEHOLDER = re.compile(r"[<>*{}$\[\]|=]|\.\.\.")


def ticked_paths(text: str, packages: set[str]) -> list[tuple[str, str]]:
    """(as written, resolved against the root) for each backticked repository path: one under src/, scripts/,
    stages/, tests/ or docs/, or a module path inside the package (`stats/verdict.py`). A `::test` or `:function`
    suffix is dropped; a path with a placeholder (`<variant>`, `*`) is skipped."""
    out = []
    for tok in TICKED.findall(text):
        path = re.split(r"::|:(?=[A-Za-z_])", tok)[0].rstrip(".,;:")
        if PLACEHOLDER.search(path):
            continue
        if path.startswith(PATH_PREFIXES):
            out.append((tok, path))
        elif path.endswith(".py") and path.split("/")[0] in packages:
            out.append((tok, f"src/headbench/{path}"))
    return out


def markdown_pages(root) -> list:
    return [p for p in sorted(root.rglob("*.md")) if not {".venv", ".git", ".dvc", "node_modules"} & set(p.parts)]


def stale_paths(root) -> list[str]:
    packages = {p.name for p in (root / "src" / "headbench").iterdir() if p.is_dir() and not p.name.startswith("_")}
    return [f"{page.relative_to(root)}: `{tok}`" for page in markdown_pages(root)
            for tok, path in ticked_paths(page.read_text(), packages) if not (root / path).exists()]


def test_backticked_paths_exist():
    assert not stale_paths(ROOT)


def test_a_renamed_module_is_caught(tmp_path):
    """The scratch copy of the check the issue asks for: rename a module, and the pages that cite it fail."""
    for part in ("src", "docs", "scripts", "stages", "tests"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "README.md").write_text("See `stats/verdict.py` and `src/headbench/stats/compare.py::compare_oof`.\n")
    assert stale_paths(tmp_path) == []
    (tmp_path / "src/headbench/stats/verdict.py").rename(tmp_path / "src/headbench/stats/verdicts.py")
    stale = stale_paths(tmp_path)
    assert "README.md: `stats/verdict.py`" in stale
    assert any(s.startswith("docs/") and "verdict.py" in s for s in stale)  # the docs cite it too
