"""Load and validate params.yaml: the single source of every setting.

params.yaml is read with a YAML 1.2 parser (ruamel.yaml): `dvc exp run -S lr=4e-5` writes
`4e-05`, which a YAML 1.1 reader would return as a string. Every field is then cast and
checked here, so a nonsense value fails before anything trains, naming its key.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from headbench.errors import ParamError
from headbench.summary_keys import reserved

OPTIMISER_OPTIONS = ("llrd", "reinit_layers")
VARIANT_KEYS = ("head", "head_options", "encoder_dropout", "seed_offset", *OPTIMISER_OPTIONS)
# final: the model after the last step (no selection). best_on_valid: the best evaluation on the reported
# fold itself (Kaggle style), which selects on the rows it is scored on, so its figures are optimistic.
CHECKPOINTS = ("final", "best_on_valid")
MULTIPLICITY = ("bonferroni", "none")
QUESTIONS = {   # stats.question: what a verdict answers (headbench.stats.verdict)
    "new_rows": "new rows: trained on this data, does the variant score better on new rows like these?",
    "new_data": "new data: does the variant score better on a new data set of this size?",
}
TASKS = {       # task.type: what a row's target is (one place; data, heads, losses and metrics follow it)
    "regression": "one numeric target, or several (data.target_col a list); MSE loss; RMSE, or MCRMSE for several",
    "classification": "one column of class labels (strings or integers); cross-entropy loss; log-loss",
}
MAX_CLASSES = 1000
DUPLICATE_TEXTS = {   # data.duplicate_texts: a text on several rows would be trained on and scored in different folds
    "error": "refuse the file, naming the rows",
    "drop": "drop every row whose text occurs more than once (their targets may disagree), with a warning",
}
METRICS = {"rmse": "RMSE", "mcrmse": "MCRMSE", "log_loss": "log-loss"}   # primary metrics (lower is better): their labels


def primary_metric(task: str, outputs: int) -> str:
    """The task's primary metric: RMSE for one target, MCRMSE (mean column-wise RMSE) for several, log-loss for classes."""
    if task == "classification":
        return "log_loss"
    return "rmse" if outputs == 1 else "mcrmse"
SCHEDULERS = ("linear", "cosine", "constant")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")




def _require(cond: bool, key: str, msg: str) -> None:
    if not cond:
        raise ParamError(f"params.yaml: `{key}` {msg}")


def _num(value: Any, key: str, kind: type, *, lo=None, hi=None, lo_open=False, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or value is None:
        raise ParamError(f"params.yaml: `{key}` must be a {kind.__name__}, got {value!r}")
    try:
        out = kind(value)  # also accepts numeric strings such as '4e-05'
    except (TypeError, ValueError):
        raise ParamError(f"params.yaml: `{key}` must be a {kind.__name__}, got {value!r}") from None
    if kind is int and float(value) != out:
        raise ParamError(f"params.yaml: `{key}` must be an integer, got {value!r}")
    if kind is float and not math.isfinite(out):
        raise ParamError(f"params.yaml: `{key}` must be finite, got {value!r}")
    if lo is not None:
        ok = out > lo if lo_open else out >= lo
        _require(ok, key, f"must be {'>' if lo_open else '>='} {lo}, got {value!r}")
    if hi is not None:
        _require(out <= hi, key, f"must be <= {hi}, got {value!r}")
    return out


def _choice(value: Any, key: str, choices) -> str:
    _require(value in choices, key, f"must be one of {list(choices)}, got {value!r}")
    return value


def _section(raw: dict, key: str) -> dict:
    value = raw.get(key)
    _require(isinstance(value, dict), key, "must be a mapping")
    return value


def _no_unknown(section: dict, key: str, known) -> None:
    unknown = sorted(set(section) - set(known))
    _require(not unknown, key, f"has unknown keys {unknown}; valid keys: {sorted(known)}")


@dataclass(frozen=True)
class DataParams:
    path: str
    id_col: str
    text_col: str
    target_col: str | tuple[str, ...]   # one column, or several (multi-target regression)
    group_col: str | None = None
    duplicate_texts: str = "error"      # DUPLICATE_TEXTS

    @property
    def targets(self) -> tuple[str, ...]:
        return (self.target_col,) if isinstance(self.target_col, str) else tuple(self.target_col)


@dataclass(frozen=True)
class TaskParams:
    type: str = "regression"


@dataclass(frozen=True)
class CVParams:
    n_folds: int
    folds: tuple[int, ...]
    n_bins: int
    seed: int


@dataclass(frozen=True)
class ModelParams:
    name: str
    trust_remote_code: bool = False


@dataclass(frozen=True)
class TrainParams:
    max_length: int
    batch_size: int
    eval_batch_size: int
    pad_to_multiple_of: int | None
    epochs: int
    max_steps: int | None
    lr: float
    head_lr: float
    weight_decay: float
    warmup_ratio: float
    scheduler: str
    grad_accum_steps: int
    max_grad_norm: float | None
    eval_every: int
    checkpoint: str
    precision: str
    compile: bool
    num_threads: int | None
    save_checkpoint: bool
    resume: bool
    ema: float | None = None   # decay of an exponential moving average of the weights, scored as the run's model


@dataclass(frozen=True)
class Variant:
    name: str
    head: str
    head_options: dict = field(default_factory=dict)
    llrd: float | None = None
    reinit_layers: int = 0
    encoder_dropout: float | None = None  # None keeps the model's own dropout probabilities
    seed_offset: int = 0  # added to the run's seed: the same recipe with other randomness (an A/A control)


@dataclass(frozen=True)
class TrackingParams:
    enabled: bool
    experiment: str


@dataclass(frozen=True)
class StatsParams:
    baseline: str
    question: str
    confidence: float
    multiplicity: str
    margin: float
    futility: float


@dataclass(frozen=True)
class StudyParams:
    """The adaptive study's rounds: round 1 trains every variant on the partition of split seed ``cv.seed``;
    round r > 1 trains the variants still open (and the baseline) on a fresh partition, split seed
    split_seeds[r - 2], as listed in ``more``."""
    split_seeds: tuple[int, ...]
    more: tuple[tuple[str, int], ...]   # (variant, split seed)


@dataclass(frozen=True)
class DemoParams:
    path: str
    rows: int
    seed: int


@dataclass(frozen=True)
class PathsParams:
    """Where the stages read and write, relative to the project root (dvc.yaml reads the same keys)."""
    folds: str
    runs: str
    evaluation: str
    summary: str
    report: str
    detail: str
    plots: str


@dataclass(frozen=True)
class Params:
    data: DataParams
    task: TaskParams
    demo: DemoParams
    paths: PathsParams
    cv: CVParams
    seeds: tuple[int, ...]
    model: ModelParams
    train: TrainParams
    tracking: TrackingParams
    stats: StatsParams
    study: StudyParams
    variants: dict[str, Variant]

    @property
    def metric(self) -> str:
        """The primary metric's name (METRICS); lower is better."""
        return primary_metric(self.task.type, len(self.data.targets))

    @property
    def splits(self) -> list[int]:
        """The split seed of every partition the study may use, round 1's first."""
        return [self.cv.seed, *self.study.split_seeds]

    def splits_of(self, variant: str) -> list[int]:
        """The partitions a variant's runs use: round 1's, then the rounds the study gave it."""
        extra = {s for v, s in self.study.more if v == variant}
        return [self.cv.seed, *(s for s in self.study.split_seeds if s in extra)]

    def variant(self, name: str) -> Variant:
        if name not in self.variants:
            raise ParamError(f"params.yaml: unknown variant {name!r}; defined variants: {sorted(self.variants)}")
        return self.variants[name]


def _bool(value: Any, key: str) -> bool:
    _require(isinstance(value, bool), key, f"must be true or false, got {value!r}")
    return value


def _str(value: Any, key: str, allow_none=False) -> str | None:
    if value is None and allow_none:
        return None
    _require(isinstance(value, str) and value.strip() != "", key, f"must be a non-empty string, got {value!r}")
    return value


def _dataclass_keys(cls) -> list[str]:
    return [f.name for f in fields(cls)]


def _project_path(value: Any, key: str) -> str:
    """A relative path that stays inside the project (no absolute path, no '..')."""
    path = _str(value, key)
    _require(not Path(path).is_absolute() and ".." not in Path(path).parts, key,
             f"must be a path inside the project (relative, no '..'), got {path!r}")
    return path


def parse_demo(raw: dict) -> DemoParams:
    d = _section(raw, "demo")
    _no_unknown(d, "demo", _dataclass_keys(DemoParams))
    return DemoParams(path=_project_path(d.get("path"), "demo.path"), rows=_num(d.get("rows"), "demo.rows", int, lo=10),
                      seed=_num(d.get("seed"), "demo.seed", int, lo=0))


def parse_paths(raw: dict) -> PathsParams:
    d = _section(raw, "paths")
    _no_unknown(d, "paths", _dataclass_keys(PathsParams))
    return PathsParams(**{k: _project_path(d.get(k), f"paths.{k}") for k in _dataclass_keys(PathsParams)})


def parse_data(raw: dict) -> DataParams:
    d = _section(raw, "data")
    _no_unknown(d, "data", _dataclass_keys(DataParams))
    return DataParams(
        path=_str(d.get("path"), "data.path"),
        id_col=_str(d.get("id_col"), "data.id_col"),
        text_col=_str(d.get("text_col"), "data.text_col"),
        target_col=_targets(d.get("target_col")),
        group_col=_str(d.get("group_col"), "data.group_col", allow_none=True),
        duplicate_texts=_choice(d.get("duplicate_texts", "error"), "data.duplicate_texts", DUPLICATE_TEXTS),
    )


def _targets(value: Any) -> str | tuple[str, ...]:
    if not isinstance(value, list):
        return _str(value, "data.target_col")
    _require(len(value) > 0, "data.target_col", "must name a column, or a non-empty list of columns")
    cols = tuple(_str(v, "data.target_col") for v in value)
    dup = sorted({c for c in cols if cols.count(c) > 1})
    _require(not dup, "data.target_col", f"lists the column(s) {dup} more than once")
    return cols[0] if len(cols) == 1 else cols


def parse_task(raw: dict, data: DataParams) -> TaskParams:
    """The task section; without one, a regression (the params files written before it existed)."""
    if "task" not in raw:
        return TaskParams()
    t = _section(raw, "task")
    _no_unknown(t, "task", _dataclass_keys(TaskParams))
    kind = _choice(t.get("type"), "task.type", TASKS)
    if kind == "classification":
        _require(isinstance(data.target_col, str), "data.target_col",
                 f"must name one column of class labels for task.type classification, got {list(data.targets)}")
    return TaskParams(type=kind)


def parse_cv(raw: dict) -> CVParams:
    c = _section(raw, "cv")
    _no_unknown(c, "cv", _dataclass_keys(CVParams))
    n = _num(c.get("n_folds"), "cv.n_folds", int, lo=2)
    folds = c.get("folds")
    _require(isinstance(folds, list) and folds, "cv.folds", "must be a non-empty list of fold indices")
    folds = tuple(_num(f, "cv.folds", int) for f in folds)
    for f in folds:
        _require(0 <= f < n, "cv.folds", f"has fold {f} out of range: valid folds are 0..{n - 1} (cv.n_folds={n})")
    _require(len(set(folds)) == len(folds), "cv.folds", f"has duplicates: {list(folds)}")
    return CVParams(
        n_folds=n, folds=folds, n_bins=_num(c.get("n_bins"), "cv.n_bins", int, lo=1), seed=_num(c.get("seed"), "cv.seed", int)
    )


def parse_train(raw: dict) -> TrainParams:
    t = _section(raw, "train")
    _no_unknown(t, "train", _dataclass_keys(TrainParams))
    g = t.get
    return TrainParams(
        max_length=_num(g("max_length"), "train.max_length", int, lo=8),
        batch_size=_num(g("batch_size"), "train.batch_size", int, lo=1),
        eval_batch_size=_num(g("eval_batch_size"), "train.eval_batch_size", int, lo=1),
        pad_to_multiple_of=_num(g("pad_to_multiple_of"), "train.pad_to_multiple_of", int, lo=1, allow_none=True),
        epochs=_num(g("epochs"), "train.epochs", int, lo=1),
        max_steps=_num(g("max_steps"), "train.max_steps", int, lo=1, allow_none=True),
        lr=_num(g("lr"), "train.lr", float, lo=0, lo_open=True),
        head_lr=_num(g("head_lr"), "train.head_lr", float, lo=0, lo_open=True),
        weight_decay=_num(g("weight_decay"), "train.weight_decay", float, lo=0),
        warmup_ratio=_num(g("warmup_ratio"), "train.warmup_ratio", float, lo=0, hi=1),
        scheduler=_choice(g("scheduler"), "train.scheduler", SCHEDULERS),
        grad_accum_steps=_num(g("grad_accum_steps"), "train.grad_accum_steps", int, lo=1),
        max_grad_norm=_num(g("max_grad_norm"), "train.max_grad_norm", float, lo=0, lo_open=True, allow_none=True),
        eval_every=_num(g("eval_every"), "train.eval_every", int, lo=1),
        checkpoint=_choice(g("checkpoint"), "train.checkpoint", CHECKPOINTS),
        precision=_choice(g("precision"), "train.precision", PRECISIONS),
        compile=_bool(g("compile"), "train.compile"),
        num_threads=_num(g("num_threads"), "train.num_threads", int, lo=1, allow_none=True),
        save_checkpoint=_bool(g("save_checkpoint"), "train.save_checkpoint"),
        resume=_bool(g("resume"), "train.resume"),
        ema=_ema(g("ema"), g("resume")),
    )


def _ema(value, resume) -> float | None:
    decay = _num(value, "train.ema", float, lo=0, allow_none=True)
    if decay is not None:
        _require(decay < 1, "train.ema", f"must be a decay below 1 (or null: off), got {value!r}")
        _require(resume is not True, "train.ema", "cannot be combined with train.resume: the average is not saved at "
                 "epoch ends, so a resumed run would restart it")
    return decay


def parse_variant(name: str, v: Any) -> Variant:
    key = f"variants.{name}"
    _require(isinstance(v, dict), key, "must be a mapping with at least `head`")
    _no_unknown(v, key, VARIANT_KEYS)
    head = v.get("head")
    options = v.get("head_options") or {}
    _require(isinstance(options, dict), f"{key}.head_options", "must be a mapping")
    llrd = v.get("llrd")
    if llrd is not None:
        llrd = _num(llrd, f"{key}.llrd", float, lo=0, lo_open=True, hi=1)
    reinit = _num(v.get("reinit_layers", 0), f"{key}.reinit_layers", int, lo=0)
    encoder_dropout = _num(v.get("encoder_dropout"), f"{key}.encoder_dropout", float, lo=0, allow_none=True)
    if encoder_dropout is not None:
        _require(encoder_dropout < 1, f"{key}.encoder_dropout", f"must be < 1, got {encoder_dropout!r}")
    seed_offset = _num(v.get("seed_offset", 0), f"{key}.seed_offset", int, lo=0)
    return Variant(name=name, head=head, head_options=dict(options), llrd=llrd, reinit_layers=reinit,
                   encoder_dropout=encoder_dropout, seed_offset=seed_offset)


SECTIONS = ("data", "task", "demo", "paths", "cv", "seeds", "model", "train", "tracking", "stats", "study", "variants")
VARIANT_NAME = re.compile(r"[A-Za-z0-9_-]+")


def parse(raw: dict) -> Params:
    """Every setting but the heads' names and options, which the heads check themselves (headbench.model.heads.check_heads):
    only the stages that build models import them, so adding a head leaves split and demo_data fresh."""
    _require(isinstance(raw, dict), "<root>", "must be a mapping")
    _no_unknown(raw, "<root>", SECTIONS)
    seeds = raw.get("seeds")
    _require(isinstance(seeds, list) and seeds, "seeds", "must be a non-empty list of integers")
    seeds = tuple(_num(s, "seeds", int, lo=0) for s in seeds)
    _require(len(set(seeds)) == len(seeds), "seeds", f"has duplicates: {list(seeds)}")
    m = _section(raw, "model")
    _no_unknown(m, "model", _dataclass_keys(ModelParams))
    model = ModelParams(
        name=_str(m.get("name"), "model.name"),
        trust_remote_code=_bool(m.get("trust_remote_code", False), "model.trust_remote_code"),
    )
    tr = _section(raw, "tracking")
    _no_unknown(tr, "tracking", _dataclass_keys(TrackingParams))
    tracking = TrackingParams(
        enabled=_bool(tr.get("enabled"), "tracking.enabled"), experiment=_str(tr.get("experiment"), "tracking.experiment")
    )
    variants_raw = _section(raw, "variants")
    _require(len(variants_raw) > 0, "variants", "must define at least one variant")
    for name in variants_raw:
        _require(VARIANT_NAME.fullmatch(str(name)) is not None, f"variants.{name}",
                 "is not a valid variant name: use letters, digits, '_' and '-' (it names a folder under runs/)")
        _require(not reserved(str(name)), f"variants.{name}",
                 "is reserved for a study-wide key or a figure of metrics/summary.json (headbench/summary_keys.py); "
                 "rename the variant")
    variants = {str(k): parse_variant(str(k), v) for k, v in variants_raw.items()}
    st = _section(raw, "stats")
    _no_unknown(st, "stats", _dataclass_keys(StatsParams))
    stats = StatsParams(
        baseline=_choice(st.get("baseline"), "stats.baseline", list(variants)),
        question=_choice(st.get("question"), "stats.question", QUESTIONS),
        confidence=_num(st.get("confidence"), "stats.confidence", float, lo=0.5, lo_open=True, hi=0.999),
        multiplicity=_choice(st.get("multiplicity"), "stats.multiplicity", MULTIPLICITY),
        margin=_num(st.get("margin"), "stats.margin", float, lo=0, lo_open=True, hi=10),
        futility=_num(st.get("futility"), "stats.futility", float, lo=0, hi=0.5),
    )
    cv = parse_cv(raw)
    data = parse_data(raw)
    return Params(
        data=data, task=parse_task(raw, data), demo=parse_demo(raw), paths=parse_paths(raw), cv=cv, seeds=seeds, model=model, train=parse_train(raw),
        tracking=tracking, stats=stats, study=parse_study(raw, cv.seed, variants, stats.baseline), variants=variants,
    )


def parse_study(raw: dict, first: int, variants: dict, baseline: str) -> StudyParams:
    s = _section(raw, "study")
    _no_unknown(s, "study", _dataclass_keys(StudyParams))
    rounds = s.get("split_seeds")
    _require(isinstance(rounds, list), "study.split_seeds", "must be a list of integers (empty: one round)")
    rounds = tuple(_num(x, "study.split_seeds", int, lo=0) for x in rounds)
    _require(len(set(rounds)) == len(rounds) and first not in rounds, "study.split_seeds",
             f"must be distinct and differ from cv.seed ({first}): each round is a fresh partition; got {list(rounds)}")
    more = s.get("more")
    _require(isinstance(more, list), "study.more", "must be a list of {variant, split} (written by the study driver)")
    runs = []
    for i, r in enumerate(more):
        key = f"study.more[{i}]"
        _require(isinstance(r, dict) and set(r) == {"variant", "split"}, key, f"must be {{variant: NAME, split: N}}, got {r!r}")
        _require(r["variant"] in variants, f"{key}.variant", f"is not a variant: {r['variant']!r}")
        split = _num(r["split"], f"{key}.split", int, lo=0)
        _require(split in rounds, f"{key}.split", f"must be one of study.split_seeds {list(rounds)}, got {split}")
        runs.append((str(r["variant"]), split))
    _require(len(set(runs)) == len(runs), "study.more", "lists a run twice")
    for v, split in runs:  # a variant's rounds come in order, and the baseline is in every round a variant is
        earlier = rounds[:rounds.index(split)]
        _require(all((v, e) in runs for e in earlier), "study.more", f"gives {v!r} split {split} but not the earlier rounds' {list(earlier)}")
        _require((baseline, split) in runs, "study.more", f"gives {v!r} split {split} but not the baseline {baseline!r}")
    return StudyParams(split_seeds=rounds, more=tuple(runs))


def _plain(obj: Any) -> Any:
    """ruamel's commented containers -> plain dicts/lists (for JSON, MLflow and hashing)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    return obj


def read_yaml(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise ParamError(f"{path}: params file not found")
    try:
        return _plain(YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8")))
    except Exception as exc:  # ruamel raises several parser error types
        raise ParamError(f"{path}: not valid YAML: {exc}") from None


def load_params(path: str | Path = "params.yaml") -> Params:
    """Every setting, checked, except the head names and options (see parse)."""
    return parse(read_yaml(path))
