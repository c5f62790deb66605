"""Make `dvc plots show` / `dvc plots diff` render without internet (set-up runs this once).

DVC's HTML page loads Vega, Vega-Lite and Vega-Embed from a CDN, so an offline machine draws nothing. This
downloads the same versions DVC asks for from the npm registry (checked against the registry's sha512),
inlines them into an HTML template under .dvc/tmp/ (git-ignored), and points this checkout's DVC at it
(`plots.html_template` in .dvc/config.local). The page then needs no network at all.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import io
import subprocess
import sys
import tarfile
import urllib.request
from pathlib import Path

# name, version, file inside the package, npm integrity: the versions dvc_render's page loads
PACKAGES = [
    ("vega", "5.20.2", "build/vega.min.js",
     "sha512-qmH7aD9GGPpssVdxL1xgcdxTbQzyRUeRR16Os385ymvQhiwCYQNA6+eXUPAZDTVLfk0RXu6Jzj6kUE5jQ80EVw=="),
    ("vega-lite", "5.2.0", "build/vega-lite.min.js",
     "sha512-Yxcg8MvYfxHcG6BbkaKT0oVCIMIcE19UvqIsEwBmyd/7h2nzW7oRnID81T8UrY7hpDrIr6wa2JADOT2dhGNErw=="),
    ("vega-embed", "6.18.2", "build/vega-embed.min.js",
     "sha512-wcDyQPE4J5aiCDc3/suH5RQDvrKkjuLkhzUcbOLwEkNF8/+pp17tS0JghzEvAPNRg+5aG1/N2ydixq8Lk3dOlg=="),
]
TEMPLATE = Path(".dvc/tmp/vega/page.html")  # relative to the project root
CONFIG_VALUE = "tmp/vega/page.html"          # DVC reads plots.html_template relative to .dvc/

PAGE = """<!DOCTYPE html>
<html>
<head>
    {refresh_tag}
    <meta charset="utf-8">
    <title>headbench plots</title>
    %s
    <style>table { border-spacing: 15px; }</style>
</head>
<body>
    {plot_divs}
</body>
</html>
"""


def fetch(name: str, version: str, member: str, integrity: str) -> str:
    url = f"https://registry.npmjs.org/{name}/-/{name}-{version}.tgz"
    data = urllib.request.urlopen(url, timeout=60).read()
    algo, digest = integrity.split("-", 1)
    if base64.b64encode(hashlib.new(algo, data).digest()).decode() != digest:
        raise SystemExit(f"{url}: checksum mismatch, refusing to use it")
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return tar.extractfile(f"package/{member}").read().decode()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--root", default=".", help="project root")
    args = ap.parse_args()
    out = Path(args.root) / TEMPLATE
    if not out.is_file():
        scripts = []
        for pkg in PACKAGES:
            # "</script" inside the code would end the inline element early
            code = fetch(*pkg).replace("</script", "<\\/script")
            scripts.append(f"<script type=\"text/javascript\">/* {pkg[0]}@{pkg[1]} */\n{code}\n</script>")
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        tmp.write_text(PAGE % "\n".join(scripts))
        tmp.replace(out)
    subprocess.run(["dvc", "config", "--local", "plots.html_template", CONFIG_VALUE], cwd=args.root, check=True)
    print(f"offline plots page: {out} ({out.stat().st_size // 1024} KiB); dvc plots show/diff use it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
