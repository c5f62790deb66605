import subprocess
import sys

import pytest

from conftest import ROOT
from headbench.commands import COMMANDS, parse, parser
from headbench.commands.show import command, keep_pattern


def test_every_command_has_help_and_the_console_script_lists_them():
    out = subprocess.run([sys.executable, "-c", "from headbench.commands import main; main(['--help'])"],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0
    for name in COMMANDS:
        assert name in out.stdout
        with pytest.raises(SystemExit) as exit_:
            parser().parse_args([name, "--help"])
        assert exit_.value.code == 0


def test_show_keeps_exactly_the_compared_variants_cells():
    cmd = command(str(ROOT / "params.yaml"), False, ["-A"])
    pattern = cmd[cmd.index("--keep") + 1]
    assert pattern == keep_pattern(["baseline", "aa", "mean", "reinit6"], "baseline") == "^(Experiment|aa|mean|reinit6)$"
    assert cmd[-1] == "-A"
    assert "equivalent" in keep_pattern(["baseline", "x"], "baseline", words=True)


def test_show_passes_dvcs_own_options_through():
    args = parse(["show", "-A", "--sort-by", "delta.llrd"])
    assert args.dvc_args == ["-A", "--sort-by", "delta.llrd"] and not args.words
    with pytest.raises(SystemExit):
        parse(["predict", "x.csv", "--nope"])
