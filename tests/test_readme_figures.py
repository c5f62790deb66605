"""Every figure in a README results table is backed by a committed file under docs/results/.

A table that holds measured numbers is preceded by `<!-- figures: PATH [PATH ...] -->` (files or folders under
docs/results/). Each decimal number in the table must equal, at the precision printed, a number in one of
those files. A table with decimal numbers and no such line fails, so a figure cannot enter the README
without the output behind it."""
import re

import pytest

from conftest import ROOT

README = (ROOT / "README.md").read_text()
NUMBER = re.compile(r"[-+]?\d+\.\d+(?:e[-+]?\d+)?")
MARKER = re.compile(r"<!-- figures: (.+?) -->")


def tables() -> list[tuple[int, list[str], list[str]]]:
    """(line number, source paths, table lines) for every Markdown table in the README."""
    lines = README.splitlines()
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


def source_numbers(paths: list[str]) -> list[float]:
    values = []
    for p in paths:
        path = ROOT / p
        assert path.exists() and path.resolve().is_relative_to(ROOT / "docs" / "results"), f"{p}: not under docs/results/"
        files = [path] if path.is_file() else [f for f in path.rglob("*") if f.suffix in (".json", ".jsonl", ".csv", ".md")]
        for f in files:
            values += [float(x) for x in numbers(f.read_text())]
    return values


def test_the_readme_has_results_tables_with_sources():
    assert sum(bool(src) for _, src, _ in tables()) >= 3


@pytest.mark.parametrize("line, sources, rows", tables(), ids=lambda x: str(x) if isinstance(x, int) else "")
def test_every_figure_in_a_table_is_in_its_source_files(line, sources, rows):
    figures = [n for row in rows for n in numbers(row)]
    if not figures:
        return
    assert sources, f"README.md line {line}: a table with figures {figures[:4]}... names no source (<!-- figures: ... -->)"
    values = source_numbers(sources)
    missing = []
    for fig in figures:
        decimals = len(fig.split(".")[1].split("e")[0])
        if not any(abs(v - float(fig)) <= 0.5 * 10 ** -decimals + 1e-12 for v in values):
            missing.append(fig)
    assert not missing, f"README.md line {line}: {missing} not found in {sources}"
