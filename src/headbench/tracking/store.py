"""Where runs are tracked: the project root (also from a queued experiment's temp copy), the store URI, whether
tracking is on, and the tags every tracked run carries."""
from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request
import warnings

from pathlib import Path

from headbench.errors import TrackingError

DISABLE_ENV = "HEADBENCH_TRACKING"
DVC_TAGS = ("DVC_EXP_NAME", "DVC_EXP_BASELINE_REV", "DVC_STAGE")
_warned = False


def project_root(start: str | Path | None = None) -> Path:
    """The repository the user works in, also when `dvc exp run --queue` runs in a temp copy
    under `<repo>/.dvc/tmp/exps/...` (whose DVC_ROOT is the temp copy)."""
    root = Path(os.environ.get("DVC_ROOT") or start or os.getcwd()).resolve()
    parts = root.parts
    for i in range(len(parts) - 3):
        if parts[i : i + 3] == (".dvc", "tmp", "exps"):
            return Path(*parts[:i])
    return root


def local_store(root: Path) -> str:
    """The default MLflow store: a SQLite file at the project root (git-ignored)."""
    return f"sqlite:///{Path(root) / 'mlflow.db'}"


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or local_store(project_root())


def tracking_enabled(enabled_in_params: bool) -> bool:
    global _warned
    env_off = os.environ.get(DISABLE_ENV, "").strip().lower() in ("0", "false", "off", "no")
    if enabled_in_params and not env_off:
        return True
    if not _warned:
        why = f"{DISABLE_ENV}={os.environ.get(DISABLE_ENV)}" if env_off else "tracking.enabled is false in params.yaml"
        warnings.warn(f"MLflow tracking is disabled ({why}): this run is not logged to MLflow", stacklevel=2)
        _warned = True
    return False


def check_reachable(uri: str, timeout: float = 5.0) -> None:
    """Fail fast, before training, when a tracking server does not answer."""
    if not uri.startswith(("http://", "https://")):
        return
    try:
        urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=timeout).read()
    except (urllib.error.URLError, OSError) as exc:
        raise TrackingError(
            f"MLflow tracking server {uri} cannot be reached ({exc}). Start it, fix MLFLOW_TRACKING_URI, "
            f"or disable tracking (tracking.enabled: false in params.yaml, or {DISABLE_ENV}=0)."
        ) from None


def git_commit(root: Path) -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def dvc_tags() -> dict:
    """DVC_EXP_NAME, DVC_EXP_BASELINE_REV, DVC_STAGE as tags `dvc.exp_name` etc., where DVC set them."""
    return {f"dvc.{k[4:].lower()}": os.environ[k] for k in DVC_TAGS if os.environ.get(k)}


def flatten(d: dict, prefix: str = "") -> dict:
    """{"delta": {"mean": x}} -> {"delta.mean": x}: the names `dvc exp show` gives the same figures."""
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = json.dumps(v) if isinstance(v, (list, tuple)) else v
    return out


