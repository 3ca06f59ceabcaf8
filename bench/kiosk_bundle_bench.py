"""Kiosk bundle: start-up time to the first frame, and the bundle's size on disk.

Runs dist/cloudtab-kiosk (build it first with scripts/build-kiosk) through its
smoke mode (kiosk/smoke.py) several times with SDL's offscreen driver, and the
same smoke mode from source with the venv's Python as the baseline. "First
frame" counts from just before the process is started to the window's first
``on_flip``. Size: the bundle folder as ``du -sh`` would count it.

Usage: python -m bench kiosk_bundle_bench   (or python bench/kiosk_bundle_bench.py)
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "dist" / "cloudtab-kiosk"
RUNS = 5


def first_frame(command: list[str], env: dict[str, str]) -> float:
    """Seconds from process start to the first frame, from the smoke report.

    Raises RuntimeError if the smoke run fails.
    """
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-") as tmp:
        shot = Path(tmp) / "shot.png"
        t0 = time.time()
        result = subprocess.run(
            [*command, str(shot)],
            check=False,
            capture_output=True,
            text=True,
            timeout=180,
            cwd=tmp,
            env={**env, "HOME": tmp, "CLOUDTAB_KIOSK_SMOKE_T0": repr(t0)},
        )
        report_file = shot.with_suffix(".json")
        report: dict[str, Any] = json.loads(report_file.read_text()) if report_file.is_file() else {}
        if result.returncode != 0 or not report.get("ok"):
            raise RuntimeError(f"smoke run failed: {report.get('error') or result.stderr[-500:]}")
        return float(report["first_frame_seconds"])


def disk_usage(folder: Path) -> int:
    """Bytes in allocated blocks, like du (symlinks not followed)."""
    return sum(p.lstat().st_blocks * 512 for p in folder.rglob("*") if not p.is_symlink())


def run() -> list[dict[str, Any]]:
    exe = BUNDLE / "cloudtab-kiosk"
    if not exe.is_file():
        raise RuntimeError(f"{exe} is missing: run scripts/build-kiosk first")
    base_env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "SDL_VIDEODRIVER": "offscreen"}
    source_env = {**base_env, "PYTHONPATH": f"{ROOT}:{ROOT / 'generated'}"}
    bundle_cmd = [str(exe), "--smoke-test"]
    source_cmd = [sys.executable, "-m", "kiosk.smoke"]
    first_frame(bundle_cmd, base_env)  # warm the page cache: measure warm starts only
    bundle_times, source_times = [], []
    for _ in range(RUNS):  # interleaved so background load hits both alike
        bundle_times.append(first_frame(bundle_cmd, base_env))
        source_times.append(first_frame(source_cmd, source_env))
    bundle_s = statistics.median(bundle_times)
    source_s = statistics.median(source_times)
    size_mib = disk_usage(BUNDLE) / (1 << 20)
    return [
        {
            "figure": "kiosk bundle: first frame (median of 5, offscreen); baseline: the same app from source",
            "value": round(bundle_s, 2),
            "unit": "s",
            "baseline": round(source_s, 2),
            "ratio": round(bundle_s / source_s, 2),
            "target": "< 5 s",
        },
        {
            "figure": "kiosk bundle: size on disk (dist/cloudtab-kiosk)",
            "value": round(size_mib),
            "unit": "MiB",
            "baseline": None,
            "ratio": None,
            "target": "< 200 MiB",
        },
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
