"""The stage scripts' and commands' shared exit (headbench.cli.main): clear errors, exit codes mapped in one place,
and a fast exit that loses no write."""
import subprocess
import sys

CHILD = r"""
import atexit, sys
from pathlib import Path
from headbench.cli import main
from headbench.errors import CommandFailed, UserError
from headbench.io import write_json

out = Path(sys.argv[1])

def job():
    atexit.register(lambda: (out / "atexit.txt").write_text("ran"))
    write_json(out / "result.json", {"rows": list(range(10000))})
    for i in range(20000):
        print(f"line {i}")  # a pipe: block-buffered, so flushing at exit is what delivers the tail
    if sys.argv[2] == "fail":
        raise UserError(f"{out / 'input.csv'}: column 'target' is missing")
    if sys.argv[2] == "tool":
        raise CommandFailed("dvc repro failed (its output is above)", 3)
    if sys.argv[2] == "code":
        return 5

main(job)
"""


def run(tmp_path, how):
    return subprocess.run([sys.executable, "-c", CHILD, str(tmp_path), how], capture_output=True, text=True, timeout=60)


def test_the_fast_exit_loses_no_output_no_atexit_handler_and_no_buffered_line(tmp_path):
    res = run(tmp_path, "ok")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[-1] == "line 19999" and len(res.stdout.splitlines()) == 20000
    assert (tmp_path / "atexit.txt").read_text() == "ran"
    assert '"rows"' in (tmp_path / "result.json").read_text()


def test_a_user_error_is_one_line_and_exit_code_2(tmp_path):
    res = run(tmp_path, "fail")
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [f"error: {tmp_path / 'input.csv'}: column 'target' is missing"]
    assert len(res.stdout.splitlines()) == 20000


def test_a_failed_tool_passes_its_code_on_and_a_returned_code_is_the_exit_code(tmp_path):
    res = run(tmp_path, "tool")
    assert res.returncode == 3
    assert res.stderr.strip().splitlines() == ["error: dvc repro failed (its output is above)"]
    assert run(tmp_path, "code").returncode == 5   # e.g. `headbench show` passes on dvc exp show's code
