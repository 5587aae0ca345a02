"""Timings for Jupyter, used by bench.py: the wall time of `%check` in a real kernel (nbclient), as the
learner sees it (from sending the cell to its reply, messaging included).

    python benchmarks/notebook_timing.py [--repeat 5]      # these rows alone

`first`: the first check in a fresh kernel, `settle_s` seconds after `%load_ext dl_course` (the
learner reads and fills in a cell in between). `warm`: each next check `settle_s` seconds after the
last (the learner edits and saves in between), when the judge the previous check started is ready.
`back to back`: checks one after another with no pause (*Run All*), each waiting for the judge
the previous one started (every check gets a fresh judge).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def kernel_checks(exe: str, ws: Path, exercise_id: str, repeat: int, settle_s: float = 4.0) -> dict[str, float]:
    """Median wall seconds of `%check EXERCISE` in one kernel: warm and back to back, and the median
    grading time the check itself reports (`duration_s`). `ws` is a workspace whose chapter file
    for the exercise holds a passing solution (it is copied into the notebook's cell)."""
    import nbformat
    from nbclient import NotebookClient

    from dl_course.course import load_pack

    pack = load_pack()
    ex = pack.exercise(exercise_id)
    chapter = pack.chapter_of(ex)
    subprocess.run([exe, "notebook", chapter.id], cwd=ws, check=True, stdout=subprocess.DEVNULL)
    path = ws / f"{chapter.folder}.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("dl_course", {}).get("exercise") == exercise_id)
    cell.source = (ws / chapter.folder / ex.file).read_text(encoding="utf-8")
    nbformat.write(nb, str(path))

    v4 = nbformat.v4
    check = f"%check {exercise_id} --device cpu"
    report = ("import dl_course.jupyter as _j\n"
              "print(_j.last.passed, sum(r.duration_s for r in _j.last.results), _j.last.error)")
    session = v4.new_notebook(cells=[v4.new_code_cell("%load_ext dl_course"), v4.new_code_cell(check),
                                     v4.new_code_cell(report)])
    client = NotebookClient(session, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ws)}})
    times: dict[str, list[float]] = {"first": [], "warm": [], "back to back": []}
    grading: list[float] = []
    for run in range(repeat):
        kernel = NotebookClient(session, timeout=300, kernel_name="python3",
                                resources={"metadata": {"path": str(ws)}})
        with kernel.setup_kernel():
            kernel.execute_cell(session.cells[0], 0)
            time.sleep(settle_s)
            t0 = time.perf_counter()
            kernel.execute_cell(session.cells[1], 1)
            times["first"].append(time.perf_counter() - t0)
    with client.setup_kernel():
        client.execute_cell(session.cells[0], 0)
        for mode, pause in (("warm", settle_s), ("back to back", 0.0)):
            for _ in range(repeat):
                time.sleep(pause)
                session.cells[1].outputs = []
                t0 = time.perf_counter()
                client.execute_cell(session.cells[1], 1)
                times[mode].append(time.perf_counter() - t0)
                session.cells[2].outputs = []
                client.execute_cell(session.cells[2], 2)
                said = "".join(o.get("text", "") for o in session.cells[2].outputs).split()
                if not said or said[0] != "True":
                    raise SystemExit(f"%check {exercise_id} of the reference did not pass in the kernel: {said}")
                if mode == "warm":
                    grading.append(float(said[1]))
    return {"first_s": statistics.median(times["first"]), "warm_s": statistics.median(times["warm"]),
            "back_to_back_s": statistics.median(times["back to back"]), "grading_s": statistics.median(grading)}


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    exe = shutil.which("dl-course") or sys.exit("dl-course is not installed (pip install -e .)")
    from dl_course.course import load_pack

    pack = load_pack()
    from bench_workspace import reference_workspace

    with reference_workspace(exe, pack) as ws:
        got = kernel_checks(exe, ws, "subsequent_mask", args.repeat)
    print(f"%check subsequent_mask in a kernel: first {got['first_s']:.3f} s, warm {got['warm_s']:.3f} s "
          f"(grading {got['grading_s']:.3f} s), back to back {got['back_to_back_s']:.3f} s  "
          f"(repeat={args.repeat}, {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
