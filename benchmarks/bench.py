"""Speed of dl-course, as ratios to a bare `python -c "import torch"` measured in the same run.

    python benchmarks/bench.py [--repeat 5] [--json out.json]

Builds a temporary workspace with the reference solution of `subsequent_mask` in it, then times:
the commands that must never import torch (--help, list, progress, hint), and a cold
`dl-course check subsequent_mask` (a new judge and learner process each time).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(cmd: list[str], cwd: Path, repeat: int, ok_codes=(0,)) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times.append(time.perf_counter() - t0)
        if proc.returncode not in ok_codes:
            sys.exit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    exe = shutil.which("dl-course") or sys.exit("dl-course is not installed (pip install -e .)")
    from dl_course.course import load_pack

    pack = load_pack()
    with tempfile.TemporaryDirectory(prefix="dl-course-bench-") as tmp:
        ws = Path(tmp)
        subprocess.run([exe, "start", "chapter9"], cwd=ws, check=True, stdout=subprocess.DEVNULL)
        ex = pack.exercise("subsequent_mask")
        shutil.copy(ex.solution, ws / "chapter09" / ex.file)
        rows = []
        torch_s = timed([sys.executable, "-c", "import torch"], ws, args.repeat)
        rows.append(("python -c 'import torch'", torch_s))
        for name, cmd, ok in [
            ("dl-course --help", [exe, "--help"], (0,)),
            ("dl-course list", [exe, "list"], (0,)),
            ("dl-course progress", [exe, "progress"], (0,)),
            ("dl-course hint subsequent_mask", [exe, "hint", "subsequent_mask"], (0,)),
            ("dl-course check subsequent_mask (cold)", [exe, "check", "subsequent_mask", "--device", "cpu"], (0,)),
        ]:
            rows.append((name, timed(cmd, ws, args.repeat, ok)))
    print(f"{'command':<42} {'median s':>9} {'× torch':>8} {'- torch s':>10}")
    for name, secs in rows:
        print(f"{name:<42} {secs:>9.3f} {secs / torch_s:>8.2f} {secs - torch_s:>+10.3f}")
    print(f"\n(repeat={args.repeat}, {os.cpu_count()} CPUs, python {sys.version.split()[0]})")
    if args.json:
        args.json.write_text(json.dumps({"torch_import_s": torch_s, "rows": [
            {"command": n, "median_s": s, "ratio_to_torch": s / torch_s} for n, s in rows]}, indent=2))


if __name__ == "__main__":
    main()
