"""Try every bad input / fault through the real stage CLIs and print what the user sees (a Markdown table).

Each case runs in a scratch folder that already holds outputs (folds.csv, a finished run); the last column
says whether they are byte-identical afterwards. Usage: python scripts/results/fault_table.py [> table.md]
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
GOOD = "id,excerpt,target\n" + "".join(f"r{i},A short passage number {i} about cats.,{i / 10 - 1}\n" for i in range(30))


def data_cases():
    return {
        "missing file": None,
        "malformed CSV (unclosed quote)": 'id,excerpt,target\na,"never closed,1\nb,fine,2\n',
        "missing column (no target)": "id,excerpt\na,hello\n",
        "empty text": "id,excerpt,target\na,hello,1\nb,,2\n",
        "whitespace-only text": "id,excerpt,target\na,hello,1\nb,   ,2\n",
        "NaN target": "id,excerpt,target\na,hello,1\nb,world,\n",
        "target column of strings": "id,excerpt,target\na,hello,easy\nb,world,hard\n",
        "duplicate ids": "id,excerpt,target\na,hello,1\na,world,2\n",
        "duplicate texts": "id,excerpt,target\na,hello,1\nb,hello,2\n",
        "not UTF-8 (latin-1)": "id,excerpt,target\na,caf\xe9,1\n".encode("latin-1"),
        "empty file (0 bytes)": "",
        "header only": "id,excerpt,target\n",
        "BOM + Windows line endings (accepted)": ("\ufeff" + GOOD.replace("\n", "\r\n")).encode("utf-8"),
    }


def param_cases():
    return {
        "unknown variant key (`hed`)": ("variants", lambda r: r["variants"].update(typo={"hed": "cls"})),
        "unknown head": ("variants", lambda r: r["variants"].update(baseline={"head": "pooler"})),
        "LLRD decay 1.5": ("variants", lambda r: r["variants"].update(baseline={"head": "cls", "llrd": 1.5})),
        "negative re-init K": ("variants", lambda r: r["variants"].update(baseline={"head": "cls", "reinit_layers": -1})),
        "re-init K above the layer count": ("train", lambda r: r["variants"].update(baseline={"head": "cls", "reinit_layers": 7})),
        "negative learning rate": ("variants", lambda r: r["train"].update(lr=-1e-5)),
        "batch size 0": ("variants", lambda r: r["train"].update(batch_size=0)),
        "max length above the model's limit": ("train", lambda r: r["train"].update(max_length=4096)),
        "K folds < 2": ("variants", lambda r: r["cv"].update(n_folds=1, folds=[0])),
        "K folds > rows": ("split", lambda r: r["cv"].update(n_folds=50, folds=[0])),
        "model that cannot be loaded offline": ("train", lambda r: r["model"].update(name="roberta-base")),
        "MLflow server unreachable": ("train", lambda r: r["tracking"].update(enabled=True)),
        "typo'd section (`trian:`)": ("variants", lambda r: r.update(trian={"lr": 1e-4})),
        "variant name escaping runs/ (`../../escape`)": ("variants", lambda r: r["variants"].update({"../../escape": {"head": "cls"}})),
        "unknown checkpoint rule": ("variants", lambda r: r["train"].update(checkpoint="best")),
        "unknown multiplicity correction": ("variants", lambda r: r["stats"].update(multiplicity="bonferonni")),
        "negative seed_offset": ("variants", lambda r: r["variants"].update(aa={"head": "cls", "seed_offset": -1})),
        "head option of the wrong type (`bidirectional: yes`)": ("variants", lambda r: r["variants"].update(
            baseline={"head": "lstm", "head_options": {"bidirectional": "yes"}})),
        "variant named like a summary key (`better`)": ("variants", lambda r: r["variants"].update(better={"head": "cls"})),
        "output path outside the project (`paths.runs: ../elsewhere`)": ("variants", lambda r: r["paths"].update(runs="../elsewhere")),
    }


LABELS = "id,excerpt,V,A,genre\n" + "".join(f"r{i},A short passage number {i} about cats.,{i / 10},{i % 7},{'news' if i % 3 else 'letters'}\n"
                                            for i in range(30))


def _task(kind, target):
    return lambda r: (r.update(task={"type": kind}), r["data"].update(target_col=target))


def task_cases():
    """(data, params change, stage) per task fault; the stage is `split` unless a fold file is given (then `train`)."""
    letters_in_fold0 = "id,fold\n" + "".join(f"r{i},{0 if i % 3 == 0 else 1 + i % 4}\n" for i in range(30))
    return {
        "NaN in one of several targets (`target_col: [V, A]`)": (LABELS.replace(",0.5,5,", ",0.5,,"), _task("regression", ["V", "A"]), None),
        "duplicate target columns (`target_col: [V, V]`)": (LABELS, _task("regression", ["V", "V"]), None),
        "non-numeric regression target (the class column)": (LABELS, _task("regression", "genre"), None),
        "a list of targets for classification": (LABELS, _task("classification", ["genre", "V"]), None),
        "unknown task type (`ranking`)": (LABELS, _task("ranking", "V"), None),
        "single-class target": (LABELS.replace(",letters\n", ",news\n"), _task("classification", "genre"), None),
        "more than 1,000 classes": ("id,excerpt,label\n" + "".join(f"r{i},passage {i},c{i}\n" for i in range(1001)),
                                    _task("classification", "label"), None),
        "a class absent from a training fold": (LABELS, _task("classification", "genre"), letters_in_fold0),
    }


def intermediate_cases(train, evaluate, run):
    """Files the stages wrote, edited by hand or left from elsewhere, read back by the next stage."""
    return {
        "folds.csv with a fold written by hand (9 of 5)": ("folds.csv", lambda t: t.replace(",0\n", ",9\n", 1), train),
        "folds.csv left from other data (an id not in the data)": ("folds.csv", lambda t: t + "zz,1\n", train),
        "folds.csv with one id twice": ("folds.csv", lambda t: t + t.splitlines()[1] + "\n", train),
        "a run's oof.csv with a prediction edited to nan": (f"{run}/oof.csv", lambda t: t.rsplit(",", 1)[0] + ",nan\n", evaluate),
        "a run's oof.csv copied from another fold": (f"{run}/oof.csv", lambda t: t.replace(",0,1,", ",3,1,"), evaluate),
        "a run's metrics.json truncated": (f"{run}/metrics.json", lambda t: t[: len(t) // 2], evaluate),
    }


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.name not in {"params.yaml", "data.csv"}:
            h.update(p.relative_to(folder).as_posix().encode() + p.read_bytes())
    return h.hexdigest()


def main():
    base = Path(tempfile.mkdtemp(prefix="faults-"))
    raw = YAML(typ="safe").load((ROOT / "params.yaml").read_text())
    raw["data"]["path"] = "data.csv"
    raw["tracking"]["enabled"] = False
    raw["train"].update(max_length=32, batch_size=8, epochs=1, max_steps=1, eval_every=1, save_checkpoint=False, num_threads=1)
    raw["variants"] = {"baseline": {"head": "cls"}}
    raw["cv"]["folds"], raw["seeds"] = [0], [1]  # the one scratch run below is the whole study
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "MLFLOW_TRACKING_URI": "http://127.0.0.1:9"}
    env.pop("HEADBENCH_TRACKING", None)

    def stage(wd, *args):
        cmd = [sys.executable, "-m", "headbench", "predict"] if args[0] == "predict.py" else [sys.executable, str(ROOT / "stages" / args[0])]
        return subprocess.run([*cmd, *args[1:]], cwd=wd, env=env, capture_output=True, text=True, timeout=600)

    seed = base / "seed"
    seed.mkdir()
    (seed / "data.csv").write_text(GOOD)
    YAML().dump(raw, seed / "params.yaml")
    for cmd in (("split.py", "--out", "folds.csv"), ("train.py", "--variant", "baseline", "--fold", "0", "--seed", "1", "--folds", "folds.csv")):
        res = stage(seed, *cmd)
        assert res.returncode == 0, f"setting up the scratch outputs failed: {cmd}\n{res.stderr[-2000:]}"

    rows = []
    def record(name, wd, res, before):
        msg = (res.stderr.strip().splitlines() or [""])[-1] if res.returncode else "accepted: " + (res.stdout.strip().splitlines() or [""])[-1]
        rows.append(f"| {name} | {res.returncode} | {msg.replace('|', '/')[:220]} | {'yes' if digest(wd) == before else 'NO'} |")

    for name, content in data_cases().items():
        wd = base / f"d{len(rows)}"
        shutil.copytree(seed, wd)
        (wd / "data.csv").unlink()
        if content is not None:
            (wd / "data.csv").write_bytes(content.encode() if isinstance(content, str) else content)
        record(f"data: {name}", wd, stage(wd, "split.py", "--out", "folds.csv"), digest(seed))
    for name, (where, mutate) in param_cases().items():
        wd = base / f"p{len(rows)}"
        shutil.copytree(seed, wd)
        r = YAML(typ="safe").load((wd / "params.yaml").read_text())
        mutate(r)
        YAML().dump(r, wd / "params.yaml")
        before = digest(wd)
        cmd = ("split.py", "--out", "folds.csv") if where == "split" else ("train.py", "--variant", "baseline", "--fold", "0", "--seed", "1", "--folds", "folds.csv")
        record(f"params: {name}", wd, stage(wd, *cmd), before)
    for name, (content, mutate, folds) in task_cases().items():
        wd = base / f"t{len(rows)}"
        shutil.copytree(seed, wd)
        (wd / "data.csv").write_text(content)
        r = YAML(typ="safe").load((wd / "params.yaml").read_text())
        mutate(r)
        YAML().dump(r, wd / "params.yaml")
        if folds:
            (wd / "folds.csv").write_text(folds)
        before = digest(wd)
        cmd = ("train.py", "--variant", "baseline", "--fold", "0", "--seed", "1", "--folds", "folds.csv") if folds else \
            ("split.py", "--out", "folds.csv")
        record(f"task: {name}", wd, stage(wd, *cmd), before)
    wd = base / "fold"
    shutil.copytree(seed, wd)
    record("params: fold index out of range (`--fold 9`)", wd, stage(wd, "train.py", "--variant", "baseline", "--fold", "9", "--seed", "1", "--folds", "folds.csv"), digest(wd))
    train = ("train.py", "--variant", "baseline", "--fold", "0", "--seed", "1", "--folds", "folds.csv")
    evaluate = ("evaluate.py", "--variant", "baseline")
    run = f"runs/baseline/split{raw['cv']['seed']}-fold0-seed1"
    for name, (path, edit, cmd) in intermediate_cases(train, evaluate, run).items():
        wd = base / f"i{len(rows)}"
        shutil.copytree(seed, wd)
        (wd / path).write_text(edit((wd / path).read_text()))
        record(f"intermediate: {name}", wd, stage(wd, *cmd), digest(wd))
    wd = base / "overwrite"
    shutil.copytree(seed, wd)
    record("overwrite: `predict data.csv --output data.csv`", wd,
           stage(wd, "predict.py", "data.csv", "--output", "data.csv", "--runs", "runs"), digest(wd))
    print("| fault | exit | what the user sees (last stderr line) | existing outputs intact |\n|---|---|---|---|")
    print("\n".join(rows))
    shutil.rmtree(base)


if __name__ == "__main__":
    main()
