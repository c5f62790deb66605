"""Every figure in a results table of the README or a docs/ page is backed by a committed file under docs/results/.

A table that holds measured numbers is preceded by `<!-- figures: PATH [PATH ...] -->` (files or folders under
docs/results/). Each decimal number in the table must equal, at the precision printed, a number in one of
those files. A table with decimal numbers and no such line fails, so a figure cannot enter the README
without the output behind it."""
import json
import re
from pathlib import Path

import pytest

from conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
NUMBER = re.compile(r"[-+]?\d+\.\d+(?:e[-+]?\d+)?")
MARKER = re.compile(r"<!-- figures: (.+?) -->")


def tables() -> list[tuple[str, list[str], list[str]]]:
    """(page:line, source paths, table lines) for every Markdown table of the README and the docs/ pages."""
    return [(f"{page.relative_to(ROOT)}:{line}", sources, rows) for page in PAGES for line, sources, rows in page_tables(page)]


def page_tables(page: Path) -> list[tuple[int, list[str], list[str]]]:
    lines = page.read_text().splitlines()
    found, i = [], 0
    while i < len(lines):
        if lines[i].startswith("|"):
            start = i
            while i < len(lines) and lines[i].startswith("|"):
                i += 1
            before = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
            marker = MARKER.search(before)
            found.append((start + 1, marker.group(1).split() if marker else [], lines[start:i]))
        i += 1
    return found


def numbers(text: str) -> list[str]:
    return NUMBER.findall(text.replace("\u2212", "-"))


def source_files(paths: list[str]) -> list[Path]:
    files = []
    for p in paths:
        path = ROOT / p
        assert path.exists() and path.resolve().is_relative_to(ROOT / "docs" / "results"), f"{p}: not under docs/results/"
        files += [path] if path.is_file() else sorted(f for f in path.rglob("*") if f.suffix in (".json", ".jsonl", ".csv", ".md"))
    return files


def row_label(row: str) -> str:
    """A row's name: its first cell without Markdown emphasis or a parenthesised remark ("baseline_aa **(A/A)**")."""
    return row.strip("|").split("|")[0].replace("*", "").split(" (")[0].strip()


def source_numbers(files: list[Path], label: str | None = None, whole: bool = True) -> list[float]:
    """Every number in ``files``; with ``label``, only those of the files and lines that name it. A row whose name
    no source mentions may use every number only when ``whole`` (the table names single files, not folders).

    A folder of study outputs holds thousands of numbers, so a figure would match one of them by chance: a row
    named after a variant must match that variant's own lines (a CSV row) or files (``evaluation/<variant>.json``)."""
    named = re.compile(rf"(?<![\w-]){re.escape(label)}(?![\w-])") if label and label[0].isalpha() else None
    values, scoped = [], []
    for f in files:
        text = f.read_text()
        values += [float(x) for x in numbers(text)]
        if named is None:
            continue
        if named.search(f.relative_to(ROOT).with_suffix("").as_posix()):
            scoped += [float(x) for x in numbers(text)]
        elif f.suffix == ".json":
            scoped += [float(x) for sub in subtrees(json.loads(text), label) for x in numbers(json.dumps(sub))]
        else:
            scoped += [float(x) for line in text.splitlines() if named.search(line) for x in numbers(line)]
    return scoped or (values if whole else [])


def subtrees(obj, key: str) -> list:
    """The values stored under ``key`` anywhere in a parsed JSON document."""
    if isinstance(obj, dict):
        return ([obj[key]] if key in obj else []) + [t for v in obj.values() for t in subtrees(v, key)]
    if isinstance(obj, list):
        return [t for v in obj for t in subtrees(v, key)]
    return []


def test_the_readme_has_a_results_table_with_sources():
    assert any(src for _, src, _ in page_tables(ROOT / "README.md"))


@pytest.mark.parametrize("line, sources, rows", tables(), ids=lambda x: x if isinstance(x, str) else "")
def test_every_figure_in_a_table_is_in_its_source_files(line, sources, rows):
    figures = [n for row in rows for n in numbers(row)]
    if not figures:
        return
    assert sources, f"{line}: a table with figures {figures[:4]}... names no source (<!-- figures: ... -->)"
    files = source_files(sources)
    whole = all((ROOT / p).is_file() for p in sources)  # a folder is too big to match a row's figures by chance
    missing = []
    for row in rows:
        values = source_numbers(files, row_label(row), whole)
        for fig in numbers(row):
            decimals = len(fig.split(".")[1].split("e")[0])
            if not any(abs(v - float(fig)) <= 0.5 * 10 ** -decimals + 1e-12 for v in values):
                missing.append(fig)
    assert not missing, f"{line}: {missing} not found in {sources}"
