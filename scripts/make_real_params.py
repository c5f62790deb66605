"""Write a params file for a real CommonLit run: params.yaml with the data path and the stated reductions."""
import argparse

from ruamel.yaml import YAML

ap = argparse.ArgumentParser(description=__doc__)
ap.add_argument("out")
ap.add_argument("--data", default="../shared/data/commonlit/train.csv")
ap.add_argument("--epochs", type=int, required=True)
ap.add_argument("--max-length", type=int, required=True)
ap.add_argument("--eval-every", type=int, required=True)
ap.add_argument("--folds", type=int, nargs="+", help="folds to train (default: all)")
ap.add_argument("--seeds", type=int, nargs="+")
ap.add_argument("--variants", nargs="+", help="keep only these variants")
ap.add_argument("--cv-seed", type=int, help="split seed of round 1's partition")
ap.add_argument("--split-seeds", type=int, nargs="*", help="study.split_seeds: the later rounds' partitions")
ap.add_argument("--all-partitions", action="store_true",
                help="plan every variant on every later partition now (study.more): a fixed design, not adaptive")
ap.add_argument("--ema", type=float, help="train.ema")
ap.add_argument("--num-threads", type=int, help="train.num_threads")
ap.add_argument("--margin", type=float, help="stats.margin")
ap.add_argument("--add", nargs=2, action="append", default=[], metavar=("NAME", "YAML"),
                help="add a variant, e.g. --add nodrop '{head: cls, encoder_dropout: 0}'")
args = ap.parse_args()

yaml = YAML()
with open("params.yaml") as f:
    p = yaml.load(f)
p["data"]["path"] = args.data
p["train"].update(epochs=args.epochs, max_length=args.max_length, eval_every=args.eval_every, save_checkpoint=False)
if args.folds:
    p["cv"]["folds"] = args.folds
if args.seeds:
    p["seeds"] = args.seeds
if args.variants:
    for name in [v for v in p["variants"] if v not in args.variants]:
        del p["variants"][name]
for name, spec in args.add:
    p["variants"][name] = yaml.load(spec)
if args.cv_seed is not None:
    p["cv"]["seed"] = args.cv_seed
if args.split_seeds is not None:
    p["study"]["split_seeds"] = args.split_seeds
if args.all_partitions:
    p["study"]["more"] = [{"variant": v, "split": s} for s in p["study"]["split_seeds"] for v in p["variants"]]
if args.ema is not None:
    p["train"]["ema"] = args.ema
if args.num_threads is not None:
    p["train"]["num_threads"] = args.num_threads
if args.margin is not None:
    p["stats"]["margin"] = args.margin
with open(args.out, "w") as f:
    yaml.dump(p, f)
