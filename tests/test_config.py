import pytest

from headbench.config import ParamError, load_params, parse, read_yaml
from headbench.model.heads import check_heads, load_checked_params
from conftest import ROOT


STUDY6 = ROOT / "docs/results/study6/params.yaml"


@pytest.fixture
def raw():
    """The repository's params with the CommonLit studies' variants too (docs/results/study6/params.yaml)."""
    raw = read_yaml(ROOT / "params.yaml")
    raw["variants"].update(read_yaml(STUDY6)["variants"])
    return raw


def test_repo_params_are_valid():
    p = check_heads(parse(read_yaml(ROOT / "params.yaml")))
    assert list(p.variants) == ["baseline", "aa", "mean", "reinit6"] and p.variants["reinit6"].reinit_layers == 6


def test_the_commented_commonlit_variants_are_study6s_and_valid_when_uncommented():
    from ruamel.yaml import YAML

    raw = read_yaml(ROOT / "params.yaml")
    text = (ROOT / "params.yaml").read_text()
    lines = [line[1:] for line in text[text.index("\nvariants:"):].splitlines() if line.startswith("#  ")]
    raw["variants"].update(YAML(typ="safe", pure=True).load("\n".join(lines)))
    p = check_heads(parse(raw))
    study6 = load_checked_params(STUDY6)
    assert {k: v for k, v in p.variants.items() if k != "reinit6"} == study6.variants


def test_dvc_exp_style_float_is_read_as_number(tmp_path):
    # `dvc exp run -S train.lr=4e-5` writes 4e-05, which YAML 1.1 readers return as a string
    text = (ROOT / "params.yaml").read_text().replace("lr: 5.0e-5", "lr: 4e-05")
    (tmp_path / "params.yaml").write_text(text)
    assert load_params(tmp_path / "params.yaml").train.lr == pytest.approx(4e-5)


@pytest.mark.parametrize(
    "path, value, key",
    [
        (("train", "lr"), -1e-5, "train.lr"),
        (("train", "batch_size"), 0, "train.batch_size"),
        (("train", "epochs"), "three", "train.epochs"),
        (("train", "scheduler"), "wobbly", "train.scheduler"),
        (("cv", "n_folds"), 1, "cv.n_folds"),
        (("cv", "folds"), [0, 7], "cv.folds"),
        (("variants", "baseline", "head"), "transformer_magic", "variants.baseline.head"),
        (("variants", "llrd", "llrd"), 1.5, "variants.llrd.llrd"),
        (("variants", "llrd", "llrd"), 0, "variants.llrd.llrd"),
        (("variants", "reinit1", "reinit_layers"), -1, "variants.reinit1.reinit_layers"),
        (("variants", "baseline", "encoder_dropout"), 1.0, "variants.baseline.encoder_dropout"),
        (("variants", "baseline", "encoder_dropout"), -0.1, "variants.baseline.encoder_dropout"),
        (("variants", "baseline", "encoder_dropout"), "none", "variants.baseline.encoder_dropout"),
        (("variants", "conv1d", "head_options", "kernal_size"), 3, "variants.conv1d.head_options"),
        (("variants", "lstm", "head_options", "lstm_size"), 0, "variants.lstm.head_options.lstm_size"),
        (("variants", "lstm", "head_options", "bidirectional"), "yes", "variants.lstm.head_options.bidirectional"),
        (("variants", "wlayers", "head_options", "pooling"), "max", "variants.wlayers.head_options.pooling"),
        (("variants", "conv1d", "head_options", "dropout"), 1.5, "variants.conv1d.head_options.dropout"),
        (("variants", "conv1d", "head_options", "channels"), 2.5, "variants.conv1d.head_options.channels"),
        (("variants", "baseline", "lr_decay"), 0.9, "variants.baseline"),
        (("stats", "baseline"), "nope", "stats.baseline"),
        (("train", "warmup_steps"), 10, "train"),
        (("train", "checkpoint"), "best", "train.checkpoint"),
        (("stats", "multiplicity"), "bonferonni", "stats.multiplicity"),
        (("variants", "aa", "seed_offset"), -3, "variants.aa.seed_offset"),
        (("variants", "aa", "seed_offset"), 1.5, "variants.aa.seed_offset"),
        (("trian",), {"lr": 1e-4}, "<root>"),  # a typo'd section must not be silently ignored
        (("variants", "../../escape"), {"head": "cls"}, "variants.../../escape"),
        (("variants", "a b"), {"head": "cls"}, "variants.a b"),
        (("variants", "better"), {"head": "cls"}, "variants.better"),  # a study-wide key of metrics/summary.json
        (("variants", "delta"), {"head": "cls"}, "variants.delta"),  # its group of every variant's delta
        (("paths", "runs"), "../elsewhere", "paths.runs"),  # outputs stay inside the project
        (("paths", "summary"), "/tmp/summary.json", "paths.summary"),
        (("paths", "reprot"), "reports/x.md", "paths"),
        (("demo", "rows"), "many", "demo.rows"),
        (("train", "ema"), 1.0, "train.ema"),
        (("train", "ema"), -0.5, "train.ema"),
        (("stats", "question"), "new_stuff", "stats.question"),
        (("stats", "variance"), "moderated", "stats"),          # a key of the design before partitions
        (("study", "split_seeds"), [42, 43], "study.split_seeds"),  # cv.seed's partition again is no fresh one
        (("study", "round_seeds"), [43], "study"),
        (("study", "more"), [{"variant": "max", "seed": 43}], "study.more[0]"),
    ],
)
def test_bad_param_names_its_key(raw, path, value, key):
    node = raw
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    with pytest.raises(ParamError) as err:
        check_heads(parse(raw))
    assert f"`{key}" in str(err.value)


def test_unknown_head_lists_valid_heads(raw):
    raw["variants"]["baseline"]["head"] = "nope"
    with pytest.raises(ParamError, match=r"valid heads: \['attention', 'cls', 'concat_cls', 'conv1d'"):
        check_heads(parse(raw))


def test_stages_that_build_no_model_read_params_without_importing_torch(raw, tmp_path):
    """load_params leaves the head checks to the stages that build models (headbench.model.heads.load_checked_params),
    which would import torch (~3 s per stage); everything else is still checked."""
    import subprocess
    import sys

    from ruamel.yaml import YAML

    raw["variants"]["baseline"]["head"] = "nope"
    YAML().dump(raw, tmp_path / "params.yaml")
    code = ("import sys; from headbench.config import load_params; p = load_params(sys.argv[1]); "
            "print(p.variants['baseline'].head, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "params.yaml")], capture_output=True, text=True)
    assert out.stdout.split() == ["nope", "False"], out.stderr
    with pytest.raises(ParamError, match="valid heads"):
        load_checked_params(tmp_path / "params.yaml")
    raw["variants"]["baseline"]["llrd"] = 2
    with pytest.raises(ParamError, match="variants.baseline.llrd"):
        parse(raw)


def test_unknown_variant_lists_defined_ones(raw):
    with pytest.raises(ParamError, match="defined variants"):
        parse(raw).variant("nope")


def test_combined_variant_is_one_line(raw):
    raw["variants"]["conv1d_llrd_reinit2"] = {"head": "conv1d", "llrd": 0.9, "reinit_layers": 2}
    v = parse(raw).variants["conv1d_llrd_reinit2"]
    assert (v.head, v.llrd, v.reinit_layers, v.encoder_dropout) == ("conv1d", 0.9, 2, None)
    raw["variants"]["mean_nodrop"] = {"head": "mean", "encoder_dropout": 0}
    assert parse(raw).variants["mean_nodrop"].encoder_dropout == 0.0


def test_missing_params_file(tmp_path):
    with pytest.raises(ParamError, match="params file not found"):
        load_params(tmp_path / "nope.yaml")


def test_ema_with_resume_is_refused_naming_both(raw):
    raw["train"].update(ema=0.98, resume=True)
    with pytest.raises(ParamError, match=r"`train.ema` cannot be combined with train.resume"):
        parse(raw)


@pytest.mark.parametrize("name", ["question", "metric", "rmse", "mcrmse", "log_loss", "accuracy", "macro_f1", "rmse_V"])
def test_a_variant_named_like_a_key_of_the_summary_is_refused(raw, name):
    raw["variants"][name] = {"head": "mean"}
    with pytest.raises(ParamError, match=rf"`variants.{name}` is reserved for a study-wide key or a figure"):
        parse(raw)
