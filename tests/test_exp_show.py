"""`dvc exp show` as `headbench show` gives it, rendered by DVC itself in a 120-column terminal: the CommonLit studies'
twelve variants, each one column with its Δ and verdict, one row per experiment. No training: the summary is made by
report.summary_metrics from a table whose cells are the widest the README promises to fit (|Δ| < 0.1, called)."""
import json
import re
import shlex
import textwrap

from ruamel.yaml import YAML

from conftest import ROOT, sh
from headbench.config import load_params
import pytest

pytestmark = pytest.mark.slow  # runs stage processes or the pipeline (README: the fast tier skips it)

MAKE_SUMMARY = textwrap.dedent("""\
    import pandas as pd
    from headbench.config import load_params
    from headbench.io import write_json
    from headbench.report.summary import summary_metrics

    p = load_params("params.yaml")
    sign = 1 if p.train.lr > 1e-4 else -1  # the experiment turns every verdict round
    rows = [dict(variant=v, oof_rmse=0.6, delta=0.0 if v == p.stats.baseline else sign * 0.0994, ci_low=0.0, ci_high=0.0,
                 verdict="baseline" if v == p.stats.baseline else "worse" if sign > 0 else "better", runs=3,
                 runs_used=3, round=1, runs_needed=0, floor=0.0, aa_control=v == "aa") for v in p.variants]
    write_json("metrics/summary.json", summary_metrics(pd.DataFrame(rows)))
""")


def readme_command() -> list[str]:
    line = next(line for line in (ROOT / "README.md").read_text().splitlines() if "# each variant's Δ and verdict" in line)
    return shlex.split(line.split("#")[0])


def test_the_readme_command_is_headbench_shows_for_the_default_variants():
    from headbench.commands.show import command

    assert readme_command() == [c for c in command(str(ROOT / "params.yaml"), False, []) if c != "--no-pager"]


def test_headbench_show_fits_the_commonlit_studies_twelve_variants_in_120_columns(tmp_path):
    from headbench.commands.show import command as show_command

    (tmp_path / "params.yaml").write_text((ROOT / "docs/results/study6/params.yaml").read_text())
    (tmp_path / "make_summary.py").write_text(MAKE_SUMMARY)
    YAML().dump({"stages": {"aggregate": {"cmd": "python make_summary.py", "deps": ["make_summary.py"],
                                          "params": ["train.lr", "variants", "stats"],
                                          "metrics": [{"metrics/summary.json": {"cache": False}}]}}},
                tmp_path / "dvc.yaml")
    sh("git init -q && dvc init -q && dvc repro -q && git add -A", tmp_path, timeout=300)
    sh("git -c user.email=t@t -c user.name=t commit -qm study", tmp_path, timeout=300)
    sh("dvc exp run -q -n lr-3e-5-e2 -S train.lr=5e-4", tmp_path, timeout=300)  # a 10-character name, as DVC's own are

    params = load_params(tmp_path / "params.yaml")
    compared = [v for v in params.variants if v != params.stats.baseline]
    assert len(params.variants) == 12
    command = show_command(str(tmp_path / "params.yaml"), False, [])
    lines = sh(shlex.join(command), tmp_path, timeout=300, COLUMNS="120").splitlines()
    assert max(len(line) for line in lines) <= 120, "\n".join(lines)
    assert "…" not in "\n".join(lines)  # DVC collapses columns that do not fit into an ellipsis
    header = next(line for line in lines if "Experiment" in line).split()
    assert header == ["Experiment", *compared]
    cells = {line.split()[-len(compared) - 1]: line.split()[-len(compared):] for line in lines
             if re.search(r"(workspace|master|main|\[lr-3e-5-e2\])\s", line)}
    experiment = cells.pop("[lr-3e-5-e2]")
    assert experiment == ["+99*"] * len(compared)  # worse everywhere, called
    assert cells["workspace"] == experiment
    assert next(v for k, v in cells.items() if k != "workspace") == ["-99*"] * len(compared)
    summary = json.loads((tmp_path / "metrics/summary.json").read_text())
    assert [summary[v] for v in compared] == experiment


def pasted_outputs() -> list[tuple[str, str, list[str]]]:
    """(folder, command, output lines) of every `$ dvc ...` in the code block marked `<!-- output: FOLDER -->` of
    docs/workflows.md, the page the README's Comparing experiments links for the full outputs."""
    text = (ROOT / "docs" / "workflows.md").read_text()
    folder, block = re.search(r"<!-- output: (\S+) -->\n```\n(.*?)```", text, re.S).groups()
    found = []
    for line in block.splitlines():
        if line.startswith("$ "):
            found.append((line[2:], []))
        else:
            found[-1][1].append(line.rstrip())
    return [(folder, cmd, out) for cmd, out in found]


def test_the_readme_pastes_committed_outputs():
    """Each output the README shows is, line for line (DVC's horizontal rules left out), a file committed beside it."""
    pasted = pasted_outputs()
    assert len(pasted) >= 3
    for folder, cmd, out in pasted:
        files = {f: [line.rstrip() for line in f.read_text().splitlines() if line.strip() and set(line.strip()) != {"─"}]
                 for f in (ROOT / folder).glob("*.txt")}
        assert any(lines == out for lines in files.values()), f"README's output of `{cmd}` is in no file of {folder}"
