"""Make the folder a GPU check travels with (at most 64 MiB): the packaged MiniLM in fp16 (upcast on load by the
check), the CommonLit CSV, and the ruamel.yaml wheel (the GPU machine's Python lacks it). Then, on that machine:

    PYTHONPATH=$(ls gpu_carry/ruamel*.whl) python3 dev/gpucheck.py --out $OUT/gpu_check \\
        --model gpu_carry/minilm-fp16 --data gpu_carry/train.csv

    python dev/gpu_carry.py --data CSV [--out gpu_carry]     # gpu_carry/ is git-ignored; it travels with the check
"""
import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import torch  # noqa: E402
from transformers import AutoModel, AutoTokenizer  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from headbench.model.encoder import resolve_model_path  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--out", default="gpu_carry")
ap.add_argument("--model", default="sentence-transformers/all-MiniLM-L6-v2")
ap.add_argument("--data", required=True, help="the CSV the check trains on")
args = ap.parse_args()
out = Path(args.out)
shutil.rmtree(out, ignore_errors=True)
(out / "minilm-fp16").mkdir(parents=True)
src = resolve_model_path(args.model)
AutoModel.from_pretrained(src, dtype=torch.float16).save_pretrained(out / "minilm-fp16")
AutoTokenizer.from_pretrained(src).save_pretrained(out / "minilm-fp16")
shutil.copy(args.data, out / "train.csv")
subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary", ":all:", "-d", str(out),
                "ruamel.yaml==0.19.1"], check=True)
size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
print(f"{out}: {size / 2**20:.1f} MiB")
if size > 64 * 2**20:
    sys.exit(f"{out} is over the 64 MiB a run can carry")
