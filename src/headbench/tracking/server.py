"""A local MLflow server, so that several workers log to one store without locking its SQLite file."""
from __future__ import annotations

import subprocess
import time
import urllib.request
from pathlib import Path

from headbench.errors import TrackingError


def start_mlflow_server(root: Path, port: int) -> tuple[subprocess.Popen, str]:
    """`mlflow server` on 127.0.0.1:``port`` over root/mlflow.db and root/mlartifacts; (process, URI) once healthy."""
    uri = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(["mlflow", "server", "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
                             "--artifacts-destination", str(root / "mlartifacts"), "--host", "127.0.0.1", "--port", str(port),
                             "--workers", "1"], cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(120):
        try:
            urllib.request.urlopen(uri + "/health", timeout=1).read()
            return proc, uri
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.5)
    proc.terminate()
    raise TrackingError(f"the MLflow server on port {port} did not start")
