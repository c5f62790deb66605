"""Predict a CSV (same columns as params.yaml's data section; the target is optional) with trained checkpoints."""
from pathlib import Path

from headbench.errors import StudyError
from headbench.model.heads import load_checked_params
from headbench.io import write_csv, write_json
from headbench.engine.predict import predict_csv


def add_arguments(ap) -> None:
    ap.add_argument("input", help="CSV to score")
    ap.add_argument("--variants", nargs="+", help="variants whose fold models are averaged (default: stats.baseline)")
    ap.add_argument("--output", default="predictions.csv")
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--runs", help="default: paths.runs")


def run(args) -> None:
    params = load_checked_params(args.params)
    args.variants = args.variants or [params.stats.baseline]
    read = {Path(f).resolve(): f for f in (args.input, args.params, params.data.path)}
    for out in (args.output, args.output + ".metrics.json"):
        if Path(out).resolve() in read:
            raise StudyError(f"--output {args.output}: would write over {read[Path(out).resolve()]}, which predict reads; "
                             "choose another file")
    preds, score = predict_csv(args.input, params.data, args.runs or params.paths.runs, args.variants, params.train.eval_batch_size,
                               params.task.type)
    write_csv(args.output, preds)
    print(f"wrote {args.output}: {len(preds)} predictions from {args.variants}")
    if score is not None:
        metric = params.metric
        write_json(args.output + ".metrics.json", {metric: score, "rows": len(preds)})
        print(f"{metric} against the file's targets (lower is better): {score:.4f}")
