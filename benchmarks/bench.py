"""Speed of dl-course, as ratios to a bare `python -c "import torch"` measured in the same run.

    python benchmarks/bench.py [--repeat 5] [--json out.json] [--class]

Builds a temporary workspace with the reference solution of `subsequent_mask` in it, then times:
the commands that must never import torch (--help, list, progress, hint), a cold
`dl-course check subsequent_mask` (a new judge and learner process each time), the TUI's first
paint in a pseudo-terminal, a re-check on a warm judge (the TUI's and `--watch`'s path), the cold
check and the warm re-check again without the OS boundary (DL_COURSE_NO_BOX=1), and
`%check subsequent_mask` in a real Jupyter kernel (see notebook_timing.py): the first check after
`%load_ext`, a warm check (wall, and the grading time it reports), and checks back to back.

With --class, also `dl-course grade` over generated classes (a mix of correct, known-mistake
and broken files for gru_cell, subsequent_mask, positional_encoding, multi_head_attention) with
1 and 2 workers; the cost per submission-exercise after warm-up is the marginal one,
(time for 40 students − time for 20) / (80 submission-exercises), so the start of the run and
of the first judges cancel out.
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


def timed(cmd: list[str], cwd: Path, repeat: int, ok_codes=(0,), env: dict[str, str] | None = None) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              env=None if env is None else {**os.environ, **env})
        times.append(time.perf_counter() - t0)
        if proc.returncode not in ok_codes:
            sys.exit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--class", dest="grade_class", action="store_true",
                        help="also time `dl-course grade` on generated classes (a few minutes)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts for --class")
    args = parser.parse_args()
    exe = shutil.which("dl-course") or sys.exit("dl-course is not installed (pip install -e .)")
    from dl_course.course import load_pack

    pack = load_pack()
    from bench_workspace import reference_workspace

    with reference_workspace(exe, pack) as ws:
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
        from tui_timing import first_paint, warm_recheck

        rows.append(("TUI first paint (course map on screen)", first_paint(exe, ws, args.repeat)))
        rows.append(("re-check subsequent_mask (warm: TUI, --watch)", warm_recheck(pack, ws, "subsequent_mask",
                                                                                 args.repeat)))
        # The same two without the OS boundary (the in-process fences only): what the box costs.
        no_box = {"DL_COURSE_NO_BOX": "1"}
        rows.append(("  the cold check without the box", timed([exe, "check", "subsequent_mask", "--device", "cpu"],
                                                             ws, args.repeat, env=no_box)))
        os.environ.update(no_box)
        try:
            rows.append(("  the warm re-check without the box", warm_recheck(pack, ws, "subsequent_mask", args.repeat)))
        finally:
            del os.environ["DL_COURSE_NO_BOX"]
        from notebook_timing import kernel_checks

        kernel = kernel_checks(exe, ws, "subsequent_mask", args.repeat)
        rows.append(("%check in a kernel: first, after %load_ext", kernel["first_s"]))
        rows.append(("%check in a kernel: warm (grading itself)", kernel["grading_s"]))
        rows.append(("%check in a kernel: warm (wall)", kernel["warm_s"]))
        rows.append(("%check in a kernel: back to back (Run All)", kernel["back_to_back_s"]))
    print(f"{'command':<42} {'median s':>9} {'× torch':>8} {'- torch s':>10}")
    for name, secs in rows:
        print(f"{name:<42} {secs:>9.3f} {secs / torch_s:>8.2f} {secs - torch_s:>+10.3f}")
    print(f"\n(repeat={args.repeat}, {os.cpu_count()} CPUs, python {sys.version.split()[0]})")
    figures = {"torch_import_s": torch_s, "rows": [
        {"command": n, "median_s": s, "ratio_to_torch": s / torch_s} for n, s in rows]}
    if args.grade_class:
        figures["class"] = class_section(exe, pack, torch_s, args.workers)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


# -- grading a class --------------------------------------------------------------------------

CLASS_EXERCISES = ("gru_cell", "subsequent_mask", "positional_encoding", "multi_head_attention")


def _mistake_files(ex) -> list[str]:
    """One learner file per known mistake: mistakes.py with the variant bound to the learner's name."""
    import ast

    text = ex.mistakes.read_text(encoding="utf-8")
    out = []
    for node in ast.parse(text).body:
        for deco in getattr(node, "decorator_list", ()):
            if isinstance(deco, ast.Call) and getattr(deco.func, "id", "") == "mistake":
                provides = next((k.value.value for k in deco.keywords if k.arg == "provides"), node.name)
                out.append(text + f"\n\n{provides} = {node.name}\n" if provides != node.name else text)
    return out


def make_class(pack, root: Path, students: int, exercises: tuple[str, ...] = CLASS_EXERCISES) -> dict[str, int]:
    """A class of `students`: per student and exercise, correct (1 in 2), a known mistake (1 in 4)
    or broken (1 in 4: the untouched starter, or a syntax error). Returns how many of each."""
    kinds = {"correct": 0, "mistake": 0, "broken": 0}
    for i in range(students):
        for j, ex_id in enumerate(exercises):
            ex = pack.exercise(ex_id)
            folder = root / f"s{i:02d}" / pack.chapter_of(ex).folder
            folder.mkdir(parents=True, exist_ok=True)
            pick = (i + j) % 4
            if pick in (0, 1):
                source, kind = ex.solution.read_text(encoding="utf-8"), "correct"
            elif pick == 2:
                variants = _mistake_files(ex)
                source, kind = variants[(i // 4) % len(variants)], "mistake"
            elif i % 8 < 4:
                source, kind = ex.starter.read_text(encoding="utf-8"), "broken"
            else:
                source, kind = ex.solution.read_text(encoding="utf-8").replace("):", ")", 1), "broken"
            (folder / ex.file).write_text(source, encoding="utf-8")
            kinds[kind] += 1
    return kinds


def _grade(exe: str, subs: Path, out: Path, workers: int,
           exercises: tuple[str, ...] = CLASS_EXERCISES) -> tuple[float, list[dict]]:
    cmd = [exe, "grade", str(subs), "--out", str(out), "--workers", str(workers), "--device", "cpu", "--seed", "7"]
    for ex_id in exercises:
        cmd += ["--exercise", ex_id]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    secs = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    import csv

    with (out / "grades.csv").open() as f:
        return secs, list(csv.DictReader(f))


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if a > 0 and b > 0 else "–"  # a marginal time can come out ≤ 0 on a noisy machine


def class_section(exe: str, pack, torch_s: float, worker_counts: list[int]) -> dict:
    full, half = 40, 20
    n_ex = len(CLASS_EXERCISES)
    rows = []
    with tempfile.TemporaryDirectory(prefix="dl-course-bench-class-") as tmp:
        tmp = Path(tmp)
        kinds = make_class(pack, tmp / "full", full)
        make_class(pack, tmp / "half", half)
        for workers in worker_counts:
            t_full, grades = _grade(exe, tmp / "full", tmp / f"out-full-{workers}", workers)
            t_half, _ = _grade(exe, tmp / "half", tmp / f"out-half-{workers}", workers)
            passed = sum(float(r[e]) == pack.exercise(e).points for r in grades for e in CLASS_EXERCISES)
            marginal = (t_full - t_half) / ((full - half) * n_ex)
            rows.append({"workers": workers, "class_s": t_full, "half_class_s": t_half,
                         "per_submission_exercise_s": marginal, "ratio_to_torch": marginal / torch_s,
                         "overall_per_submission_exercise_s": t_full / (full * n_ex), "passed": passed})
    base = rows[0]["per_submission_exercise_s"]
    print(f"\ndl-course grade: {full} students × {n_ex} exercises = {full * n_ex} submission-exercises "
          f"({kinds['correct']} correct, {kinds['mistake']} known mistakes, {kinds['broken']} broken)")
    print(f"{'workers':>7} {'class s':>8} {'speed-up':>9} {'s / sub-ex warm':>16} {'× torch':>8} {'speed-up':>9} "
          f"{'s / sub-ex all':>15} {'passed':>7}")
    for r in rows:
        print(f"{r['workers']:>7} {r['class_s']:>8.1f} {rows[0]['class_s'] / r['class_s']:>8.2f}× "
              f"{r['per_submission_exercise_s']:>16.3f} {r['ratio_to_torch']:>8.3f} "
              f"{_ratio(base, r['per_submission_exercise_s']):>9} {r['overall_per_submission_exercise_s']:>15.3f} "
              f"{r['passed']:>7}")
    print("(class s: the 40-student class; s / sub-ex warm: (40 students − 20 students) / 80; all: class s / 160)")
    small = small_class(exe, pack, worker_counts)
    return {"students": full, "exercises": list(CLASS_EXERCISES), "kinds": kinds, "rows": rows, "small": small}


SMALL_CLASS = ("gru_cell", "subsequent_mask")


def small_class(exe: str, pack, worker_counts: list[int], students: int = 10) -> list[dict]:
    """A small class (10 students × 2 exercises), where judge start-up weighs most: more workers
    must not be slower. Each run gets a fresh --out, so it includes the up-front reference proof."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="dl-course-bench-small-") as tmp:
        tmp = Path(tmp)
        make_class(pack, tmp / "subs", students, SMALL_CLASS)
        for workers in worker_counts:
            secs, _ = _grade(exe, tmp / "subs", tmp / f"out-{workers}", workers, SMALL_CLASS)
            rows.append({"workers": workers, "class_s": secs})
    print(f"\ndl-course grade: {students} students × {len(SMALL_CLASS)} exercises")
    for r in rows:
        print(f"{r['workers']:>7} workers {r['class_s']:>8.1f} s")
    return rows


if __name__ == "__main__":
    main()
