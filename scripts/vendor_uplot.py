#!/usr/bin/env python
"""Fetch uPlot from its published npm package into templates/vendor/ (run by hand, never at report time).

    python scripts/vendor_uplot.py            # the version pinned below
    python scripts/vendor_uplot.py --check    # only verify the committed files against the package

Uses ``npm pack`` (the npm registry's own client) and checks the tarball against the
integrity hash the registry publishes. Copies the minified IIFE build, its CSS and the
MIT licence; the report inlines the first two once per HTML file.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "1.6.32"
INTEGRITY = "sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw=="
FILES = {"package/dist/uPlot.iife.min.js": "uPlot.iife.min.js", "package/dist/uPlot.min.css": "uPlot.min.css", "package/LICENSE": "LICENSE"}
DEST = Path(__file__).resolve().parent.parent / "templates" / "vendor"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="compare the committed files with the package, change nothing")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(["npm", "pack", f"uplot@{VERSION}", "--json"], cwd=tmp, check=True, capture_output=True, text=True)
        tgz = Path(tmp) / json.loads(out.stdout)[0]["filename"]
        algo, want = INTEGRITY.split("-", 1)
        got = base64.b64encode(hashlib.new(algo, tgz.read_bytes()).digest()).decode()
        if got != want:
            print(f"integrity mismatch: {got} != {want}", file=sys.stderr)
            return 1
        with tarfile.open(tgz) as tar:
            for member, name in FILES.items():
                data = tar.extractfile(member).read()
                target = DEST / name
                if args.check:
                    if not target.is_file() or target.read_bytes() != data:
                        print(f"{target} differs from uplot@{VERSION}", file=sys.stderr)
                        return 1
                else:
                    DEST.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
    if not args.check:
        (DEST / "VERSION").write_text(f"uplot@{VERSION} {INTEGRITY}\n")
    print(f"uplot@{VERSION}: {'matches' if args.check else 'copied to'} {DEST}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
