"""`dl-course grade`: a generated class graded end to end through the real CLI.

The class uses a small pack: `subsequent_mask` and a clone, `quick_mask`, with a 3-second time
limit (so a hang costs little). Students cover every kind of entry and submission an
instructor meets: a workspace, a nested workspace, a flat folder, a zip (with a hostile
member), a known mistake, a syntax error, a hang, a cheat, a fork bomb, a snoop that reads
another student's file, and nobody home.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

from conftest import EXE, Cli, make_pack, reference_source

MISTAKES = {
    "upper_triangular": "torch.ones(size, size, dtype=torch.bool, device=device).triu().unsqueeze(0)",
    "no_diagonal": "torch.ones(size, size, dtype=torch.bool, device=device).tril(-1).unsqueeze(0)",
    "float_mask": "torch.ones(size, size, device=device).tril().unsqueeze(0)",
}


def wrong(name: str) -> str:
    return f"import torch\n\ndef subsequent_mask(size, device=None):\n    return {MISTAKES[name]}\n"


GOOD = reference_source()
HANG = "def subsequent_mask(size, device=None):\n    while True:\n        pass\n"
CHEAT = textwrap.dedent("""
    import torch
    torch.allclose = lambda *a, **k: True
    torch.testing.assert_close = lambda *a, **k: None
    def subsequent_mask(size, device=None):
        return torch.zeros(1, size, size, dtype=torch.bool, device=device)
""")
FORK_BOMB = "import os\nwhile True:\n    os.fork()\n"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def make_class(root: Path) -> Path:
    subs = root / "submissions"
    write(subs / "ana" / "chapter09" / "subsequent_mask.py", GOOD)           # a workspace, all good
    write(subs / "ana" / "chapter09" / "quick_mask.py", GOOD)
    write(subs / "ana" / "dl-course.toml", "format_version = 1\n")
    write(subs / "ana" / ".dl-course" / "backups" / "quick_mask-1.py", HANG)  # never graded: hidden folder
    write(subs / "ben" / "subsequent_mask.py", wrong("upper_triangular"))     # flat, two known mistakes
    write(subs / "ben" / "quick_mask.py", wrong("no_diagonal"))
    write(subs / "cleo" / "work" / "course" / "chapter09" / "subsequent_mask.py", GOOD)  # nested workspace
    write(subs / "cleo" / "work" / "course" / "chapter09" / "quick_mask.py", wrong("float_mask"))
    write(subs / "cleo" / "old" / "subsequent_mask.py", HANG)                 # outside chapter09: loses
    write(subs / "dan" / "subsequent_mask.py", "def subsequent_mask(size, device=None)\n    return size\n")
    write(subs / "eve" / "subsequent_mask.py", GOOD)                          # hangs in one exercise only
    write(subs / "eve" / "quick_mask.py", HANG)
    write(subs / "fay" / "chapter09" / "subsequent_mask.py", CHEAT)
    write(subs / "fay" / "chapter09" / "quick_mask.py", FORK_BOMB)
    (subs / "gus").mkdir()                                                     # handed in nothing
    write(subs / "gus" / "notes.txt", "I ran out of time\n")
    write(subs / "hal" / "subsequent_mask.py", textwrap.dedent(f"""
        # Reads another student's file (and would copy it)
        SOURCE = open({str(subs / 'ana' / 'chapter09' / 'subsequent_mask.py')!r}).read()
        exec(SOURCE)
    """))
    write(subs / "jon" / "quick_mask.py", textwrap.dedent("""
        # Copies a classmate's work from where the grader stages it, if it can.
        import glob, os, tempfile
        mine = os.path.dirname(os.path.realpath(__file__))
        stolen, refused = [], 0
        # Staged as .../RUN/SLOT/chapter09/quick_mask.py: the classmates are the other slots.
        runs = {os.path.dirname(os.path.dirname(mine))}
        runs |= set(glob.glob(os.path.join(tempfile.gettempdir(), "dl-course-class*", "*")))
        for base in runs:
            for slot in range(40):
                for name in ("subsequent_mask.py", "quick_mask.py"):
                    path = os.path.join(base, str(slot), "chapter09", name)
                    if os.path.dirname(os.path.realpath(path)) == mine:
                        continue
                    try:
                        stolen.append(open(path).read())
                    except PermissionError:
                        refused += 1
                    except OSError:
                        pass
        if not stolen:
            raise PermissionError(f"refused {refused} times")
        exec(stolen[0])
    """))
    # Kills its learner process group (the judge's zygote with it): the rest of its batch must
    # still get fair verdicts.
    # (Behind the boundary the signal reaches nothing: its session is PID 1 of its own namespace.)
    write(subs / "kim" / "subsequent_mask.py", "import ctypes\nctypes.CDLL(None).kill(0, 9)\nraise SystemExit(3)\n")
    # Rewrites the gradebook (sqlite3 raises no `open` audit event) and the exports, where --out
    # is (it can read it off the judge's command line or guess it), then fails to import so its
    # own verdict is "infra": the class's grades must be untouched.
    out = root / "grades"
    write(subs / "zed" / "subsequent_mask.py", textwrap.dedent(f"""
        import sqlite3
        try:
            db = sqlite3.connect({str(out / 'gradebook.sqlite')!r})
            db.execute("UPDATE verdicts SET score = 0, passed = 0")
            db.commit()
        except Exception:
            pass
        for name in ("grades.csv", "grades.json"):
            try:
                open({str(out)!r} + "/" + name, "w").write("student,zed")
            except OSError:
                pass
        raise RuntimeError("done")
    """))
    with zipfile.ZipFile(subs / "ivy.zip", "w") as z:                          # a zip with a top folder
        z.writestr("ivy/chapter09/subsequent_mask.py", GOOD)
        z.writestr("ivy/chapter09/quick_mask.py", wrong("upper_triangular"))
        z.writestr("../../quick_mask.py", GOOD)                                # hostile: must be ignored
    write(subs / "stray.py", GOOD)                                             # not a student entry
    return subs


# student -> (subsequent_mask, quick_mask, total, not submitted); 4 scored checks each, partial credit.
EXPECTED = {
    "ana": ("10", "10", "20", ""),
    "ben": ("7.5", "7.5", "15", ""),
    "cleo": ("10", "5", "15", ""),
    "dan": ("0", "0", "0", "quick_mask"),
    "eve": ("10", "0", "10", ""),  # a hang earns nothing
    "fay": ("7.5", "0", "7.5", ""),
    "gus": ("0", "0", "0", "subsequent_mask quick_mask"),
    "hal": ("0", "0", "0", "quick_mask"),
    "ivy": ("10", "7.5", "17.5", ""),
    "jon": ("0", "0", "0", "subsequent_mask"),
    "kim": ("0", "0", "0", "quick_mask"),
    "zed": ("0", "0", "0", "quick_mask"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    pack = make_pack(root / "pack", {"quick_mask": {"time_limit_s": 3}})
    subs = make_class(root)
    cli = Cli(root, pack)
    proc = cli("grade", str(subs), "--out", str(root / "grades"), "--workers", "2", "--seed", "4242", timeout=600)
    return root, pack, subs, cli, proc


def rows(out: Path) -> dict[str, dict[str, str]]:
    with (out / "grades.csv").open() as f:
        return {r["student"]: r for r in csv.DictReader(f)}


def verdicts(out: Path) -> list[tuple]:
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        return db.execute("SELECT student, exercise, code_hash, version, passed, score, diagnosis, failing_check "
                          "FROM verdicts ORDER BY student, exercise").fetchall()


def test_every_row_of_the_csv(graded):
    root, _, _, _, proc = graded
    assert proc.returncode == 0, proc.stdout + proc.stderr
    table = rows(root / "grades")
    assert list(table) == sorted(EXPECTED)
    header = list(next(iter(table.values())))
    assert header == ["student", "subsequent_mask", "quick_mask", "total", "out_of", "not_submitted", "not_graded"]
    for student, (mask, quick, total, missing) in EXPECTED.items():
        row = table[student]
        assert (row["subsequent_mask"], row["quick_mask"], row["total"], row["out_of"], row["not_submitted"],
                row["not_graded"]) == (mask, quick, total, "20", missing, ""), student
    assert "ignored stray.py" in proc.stdout
    assert "unsafe path" in proc.stdout  # the zip's ../../quick_mask.py
    assert not (root / "quick_mask.py").exists() and not (root.parent / "quick_mask.py").exists()


def test_each_failure_is_reported_on_its_student(graded):
    root, *_ = graded
    report = json.loads((root / "grades" / "grades.json").read_text())
    by = {s["student"]: s["exercises"] for s in report["students"]}

    def first_failure(student, exercise):
        result = by[student][exercise]["result"]
        return next(c for c in result["checks"] if c["status"] == "failed")

    assert by["dan"]["subsequent_mask"]["result"]["checks"][0]["name"] == "loads"
    assert "SyntaxError" in first_failure("dan", "subsequent_mask")["message"]
    assert "line 1" in first_failure("dan", "subsequent_mask")["message"]
    assert "timed out after 3 s" in first_failure("eve", "quick_mask")["message"]
    assert by["eve"]["subsequent_mask"]["result"]["passed"]  # the hang sank only its own exercise
    assert "starting other processes is not allowed" in first_failure("fay", "quick_mask")["message"]
    assert first_failure("fay", "subsequent_mask")["name"] == "values"  # the patched allclose fooled nobody
    hal = first_failure("hal", "subsequent_mask")
    # Behind the boundary the classmate's file is not there at all; without it, reading is refused.
    assert hal["name"] == "loads" and ("PermissionError" in hal["message"] or "FileNotFoundError" in hal["message"])
    assert by["gus"]["subsequent_mask"]["status"] == "missing" and by["gus"]["subsequent_mask"]["result"] is None
    assert by["cleo"]["subsequent_mask"]["file"] == "cleo/work/course/chapter09/subsequent_mask.py"
    assert by["ivy"]["quick_mask"]["file"] == "ivy.zip/ivy/chapter09/quick_mask.py" or \
        by["ivy"]["quick_mask"]["file"] == "ivy/ivy/chapter09/quick_mask.py"
    assert by["ben"]["quick_mask"]["result"]["diagnosis"]["id"] == "no_diagonal"
    jon = first_failure("jon", "quick_mask")
    assert jon["name"] == "loads" and "PermissionError: refused" in jon["message"]
    kim = first_failure("kim", "subsequent_mask")["message"]
    assert "before answering" in kim or "exit(3)" in kim  # killed itself (no box) or nothing (box), alone
    zed = first_failure("zed", "subsequent_mask")
    assert zed["name"] == "loads" and "RuntimeError: done" in zed["message"]
    checks = [c for s in by.values() for e in s.values() if e["result"] for c in e["result"]["checks"]]
    assert not [c for c in checks if c["status"] == "error"], "a grader failure was left in the gradebook"


def test_the_csv_tells_not_graded_from_not_submitted():
    """0 with the id under not_submitted: nothing was handed in. Blank with the id under not_graded:
    handed in, no verdict yet (a grader failure the next run retries). Never the same cell."""
    from dl_course.classroom.export import grades_csv
    from dl_course.classroom.gradebook import RosterEntry
    from dl_course.grading.result import ExerciseResult

    class Ex:
        def __init__(self, id, points):
            self.id, self.points = id, points

    a, b = Ex("a", 10), Ex("b", 20)
    done = ExerciseResult.failed("a", "A", 10, "x")
    done.error, done.score = None, 4.0
    table = {"ana": {"a": (RosterEntry("ana", "a", "submitted", "h", "v", "ana/a.py"), done),
                     "b": (RosterEntry("ana", "b", "submitted", "h", "v", "ana/b.py"), None)},
             "ben": {"a": (RosterEntry("ben", "a", "missing", None, "v", None), None)}}
    lines = list(csv.DictReader(grades_csv(table, [a, b]).splitlines()))
    assert [(r["student"], r["a"], r["b"], r["total"], r["out_of"], r["not_submitted"], r["not_graded"])
            for r in lines] == [("ana", "4", "", "4", "30", "", "b"), ("ben", "0", "0", "0", "30", "a b", "")]


def test_misconception_counts(graded):
    root, _, _, _, proc = graded
    report = json.loads((root / "grades" / "misconceptions.json").read_text())
    ex = {e["exercise"]: e for e in report["exercises"]}
    mask, quick = ex["subsequent_mask"], ex["quick_mask"]
    assert (mask["submitted"], mask["passed"], mask["not_submitted"]) == (10, 4, 2)
    assert (quick["submitted"], quick["passed"], quick["not_submitted"]) == (7, 1, 5)
    counts = {e: {m["id"]: m["count"] for m in ex[e]["mistakes"]} for e in ex}
    assert counts["subsequent_mask"] == {"upper_triangular": 1, "no_diagonal": 0, "float_mask": 0, "no_batch_dim": 0,
                                         "ignores_device": 0, "sees_next": 0}
    assert counts["quick_mask"] == {"upper_triangular": 1, "no_diagonal": 1, "float_mask": 1, "no_batch_dim": 0,
                                    "ignores_device": 0, "sees_next": 0}
    # Candidates for new mistakes are wrong answers; code that gave none (a file that does not load,
    # a time-out, a crash) is kept apart.
    by_check = {g["check"]: sorted(g["students"]) for g in mask["unexplained"]["by_check"]}
    assert by_check == {"values": ["fay"]}
    by_reason = {g["reason"]: sorted(g["students"]) for g in mask["stopped"]["by_reason"]}
    assert by_reason == {"does not load": ["dan", "hal", "kim", "zed"]}
    assert quick["unexplained"]["count"] == 0
    by_reason = {g["reason"]: sorted(g["students"]) for g in quick["stopped"]["by_reason"]}
    assert by_reason == {"does not load": ["fay", "jon"], "its process ended (a time-out or a crash)": ["eve"]}
    md = (root / "grades" / "misconceptions.md").read_text()
    assert "| `upper_triangular` | 1 |" in md and "1 failure no known mistake explains" in md
    assert "4 submissions gave no answer to study" in md and "3 submissions gave no answer to study" in md
    assert "What the class got wrong" in proc.stdout


def test_a_rerun_grades_only_what_changed(graded):
    root, _, subs, cli, _ = graded
    before = verdicts(root / "grades")
    assert len(before) == 17
    write(subs / "ben" / "subsequent_mask.py", GOOD)  # ben fixes one file
    proc = cli("grade", str(subs), "--out", str(root / "grades"), "--workers", "2", "-e", "subsequent_mask,quick_mask",
               timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "exercises: subsequent_mask, quick_mask" in proc.stdout
    assert "to grade now: 1   already in the gradebook: 16" in proc.stdout
    after = verdicts(root / "grades")
    assert len(after) == 18 and set(before) <= set(after)
    assert rows(root / "grades")["ben"]["subsequent_mask"] == "10"
    assert rows(root / "grades")["ben"]["total"] == "17.5"


def _run_group(pgid: int) -> list[int]:
    """The pids of the judges in a process group."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid and b"dl_course.grading.judge" in \
                        (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except (OSError, ProcessLookupError):
                pass
    return found


def _count(out: Path) -> list:
    try:
        return verdicts(out) if (out / "gradebook.sqlite").exists() else []
    except sqlite3.Error:
        return []


def test_an_interrupted_run_resumes_losing_nothing(tmp_path):
    pack = make_pack(tmp_path / "pack")
    subs = tmp_path / "submissions"
    for i in range(5):
        write(subs / f"s{i}" / "subsequent_mask.py", GOOD if i % 2 == 0 else wrong("no_diagonal"))
    out = tmp_path / "grades"
    env = {k: v for k, v in os.environ.items() if k != "DL_COURSE_PACK"} | {"DL_COURSE_PACK": str(pack)}
    # One judge per submission, one at a time. Once the first verdict is in, kill the next judge
    # as it starts (a killed worker); once two more are in, kill the whole run (-9).
    run = subprocess.Popen([EXE, "grade", str(subs), "--out", str(out), "--workers", "1", "--batch-size", "1"],
                           cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)
    deadline = time.monotonic() + 120
    old: set[int] = set()
    killed_judge = False
    while time.monotonic() < deadline and run.poll() is None:
        done = len(_count(out))
        if not killed_judge:
            judges = set(_run_group(run.pid))
            if done == 0:
                old |= judges
            elif judges - old:
                os.kill(min(judges - old), signal.SIGKILL)
                killed_judge = True
        elif done >= 3:
            break
        time.sleep(0.02)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    assert killed_judge
    kept = verdicts(out)
    assert 1 <= len(kept) < 5, "the run was meant to be cut short"
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM verdicts WHERE error IS NOT NULL").fetchone()[0] == 0, \
            "the killed judge left a verdict"
    proc = Cli(tmp_path, pack)("grade", str(subs), "--out", str(out), "--workers", "1", timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"to grade now: {5 - len(kept)}   already in the gradebook: {len(kept)}" in proc.stdout
    final = verdicts(out)
    assert len(final) == 5 and set(kept) <= set(final)
    assert [r["subsequent_mask"] for r in rows(out).values()] == ["10", "7.5", "10", "7.5", "10"]


def test_gradescope_results_json(tmp_path):
    pack = make_pack(tmp_path / "pack", {"quick_mask": {}})
    upload = tmp_path / "autograder" / "submission"
    write(upload / "subsequent_mask.py", GOOD)
    write(upload / "quick_mask.py", wrong("upper_triangular"))
    results = tmp_path / "autograder" / "results" / "results.json"
    proc = Cli(tmp_path, pack)("gradescope", "--submission", str(upload), "--results", str(results),
                               "--visibility", "after_due_date")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    answer = json.loads(results.read_text())
    tests = {t["name"].split(":")[0]: t for t in answer["tests"]}
    assert set(tests) == {"subsequent_mask", "quick_mask"}
    assert (tests["subsequent_mask"]["score"], tests["subsequent_mask"]["max_score"]) == (10.0, 10.0)
    assert (tests["quick_mask"]["score"], tests["quick_mask"]["max_score"]) == (7.5, 10.0)
    assert "known mistake: upper_triangular" in tests["quick_mask"]["output"]
    assert "✗ values" in tests["quick_mask"]["output"]
    assert tests["quick_mask"]["output"].count("failing case") == 1, tests["quick_mask"]["output"]
    assert all(t["visibility"] == "after_due_date" for t in answer["tests"])
    assert answer["score"] == 17.5


def test_a_broken_reference_is_refused_once_up_front_and_a_fixed_one_grades(tmp_path):
    pack = make_pack(tmp_path / "pack", {"quick_mask": {}})
    reference = pack / "solutions" / "chapter09" / "quick_mask.py"
    good = reference.read_text()
    reference.write_text("def subsequent_mask(size, device=None):\n    raise NotImplementedError\n")
    subs = tmp_path / "subs"
    for student in ("ana", "bob"):
        write(subs / student / "subsequent_mask.py", GOOD)
        write(subs / student / "quick_mask.py", GOOD)
    cli, out = Cli(tmp_path, pack), tmp_path / "out"
    for _ in range(2):  # the same clear refusal each time, not "run it again to retry"
        proc = cli("grade", str(subs), "--out", str(out))
        text = " ".join(proc.stderr.split())
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "reference fails its own checks" in text and "quick_mask" in text and "NotImplementedError" in text
        assert "--exercise subsequent_mask" in text and "retry" not in proc.stdout + proc.stderr
        assert not (out / "grades.csv").exists()
    reference.write_text(good)
    proc = cli("grade", str(subs), "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert [(r["student"], r["quick_mask"]) for r in rows] == [("ana", "10"), ("bob", "10")]


def test_a_submissions_folder_with_nothing_to_grade_is_an_error(tmp_path, small_pack):
    write(tmp_path / "subs" / "ana" / "notes.txt", "nothing\n")
    proc = Cli(tmp_path, small_pack)("grade", str(tmp_path / "subs"))
    assert proc.returncode == 2
    assert "no exercise files found" in proc.stderr and "subsequent_mask.py" in proc.stderr


@pytest.mark.slow
def test_dask_cluster_gives_the_same_gradebook(graded, tmp_path):
    distributed = pytest.importorskip("distributed")
    root, pack, subs, cli, _ = graded
    local = tmp_path / "local"
    remote = tmp_path / "dask"
    proc = cli("grade", str(subs), "--out", str(local), "--workers", "2", "--seed", "99", timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        proc = cli("grade", str(subs), "--out", str(remote), "--scheduler", cluster.scheduler_address,
                   "--seed", "99", timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "on tcp://" in proc.stdout or "graded" in proc.stdout
    assert verdicts(remote) == verdicts(local)
    assert (remote / "grades.csv").read_text() == (local / "grades.csv").read_text()
    assert json.loads((remote / "misconceptions.json").read_text()) == \
        json.loads((local / "misconceptions.json").read_text())


def test_notebooks_are_graded_cell_by_cell(tmp_path):
    pytest.importorskip("dl_course.notebook")
    nbformat = pytest.importorskip("nbformat")
    v4 = nbformat.v4

    def cell(exercise_id, source):
        return v4.new_code_cell(source, metadata={"tags": [f"dl-course:{exercise_id}"]})

    pack = make_pack(tmp_path / "pack", {"quick_mask": {}})
    subs = tmp_path / "submissions"
    (subs / "nora").mkdir(parents=True)
    helper = v4.new_code_cell("import torch\n\ndef lower(size, device=None):\n"
                              "    return torch.ones(size, size, dtype=torch.bool, device=device).tril()\n")
    nbformat.write(v4.new_notebook(cells=[
        v4.new_markdown_cell("# Chapter 9"), helper,
        cell("subsequent_mask", "def subsequent_mask(size, device=None):\n    return lower(size, device).unsqueeze(0)\n"),
        cell("quick_mask", wrong("upper_triangular")),
    ]), str(subs / "nora" / "chapter09.ipynb"))
    nb = v4.new_notebook(cells=[cell("subsequent_mask", "def subsequent_mask(size, device=None)\n    pass\n"),
                                cell("quick_mask", GOOD)])
    with zipfile.ZipFile(subs / "otto.zip", "w") as z:  # a notebook in a zip; a .py file beats its cell
        z.writestr("otto/chapter09.ipynb", nbformat.writes(nb))
        z.writestr("otto/chapter09/quick_mask.py", wrong("no_diagonal"))
    out = tmp_path / "grades"
    proc = Cli(tmp_path, pack)("grade", str(subs), "--out", str(out), "--workers", "1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    table = rows(out)
    assert (table["nora"]["subsequent_mask"], table["nora"]["quick_mask"]) == ("10", "7.5")
    assert (table["otto"]["subsequent_mask"], table["otto"]["quick_mask"]) == ("0", "7.5")
    report = json.loads((out / "grades.json").read_text())
    by = {s["student"]: s["exercises"] for s in report["students"]}
    assert by["nora"]["quick_mask"]["file"] == "nora/chapter09.ipynb"
    assert by["nora"]["quick_mask"]["result"]["diagnosis"]["id"] == "upper_triangular"
    assert by["otto"]["quick_mask"]["result"]["diagnosis"]["id"] == "no_diagonal"
    assert by["otto"]["subsequent_mask"]["status"] == "refused"
    assert "cell 1" in by["otto"]["subsequent_mask"]["note"] and "SyntaxError" in by["otto"]["subsequent_mask"]["note"]


def test_zips_are_read_safely(tmp_path, small_pack):
    from dl_course.classroom import collect
    from dl_course.course import load_pack

    pack = load_pack(small_pack)
    subs = tmp_path / "subs"
    subs.mkdir()
    with zipfile.ZipFile(subs / "mal.zip", "w") as z:
        z.writestr("/abs/subsequent_mask.py", "x = 1\n")
        z.writestr("a/../../subsequent_mask.py", "x = 2\n")
        link = zipfile.ZipInfo("link/subsequent_mask.py")
        link.external_attr = (0o120777 << 16)
        z.writestr(link, "/etc/passwd")
    with zipfile.ZipFile(subs / "big.zip", "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("subsequent_mask.py", "#" * (collect.FILE_CAP + 10))
    with zipfile.ZipFile(subs / "bomb.zip", "w", compression=zipfile.ZIP_DEFLATED) as z:
        for i in range(5):
            z.writestr(f"pad{i}.txt", b"\0" * (collect.ZIP_CAP // 4))
    (subs / "junk.zip").write_bytes(b"not a zip")
    (subs / "lnk").mkdir()
    (subs / "lnk" / "subsequent_mask.py").symlink_to(small_pack / "solutions" / "chapter09" / "subsequent_mask.py")
    students, ignored = collect.collect(subs, pack, list(pack.exercises.values()))
    by = {s.name: s for s in students}
    assert by["mal"].files == {}
    assert sum("unsafe path" in n for n in by["mal"].notes) == 2 and any("symbolic link" in n for n in by["mal"].notes)
    assert by["big"].files["subsequent_mask"].data is None and "limit" in by["big"].files["subsequent_mask"].problem
    assert "unpack to" in by["bomb"].problem and by["bomb"].files == {}
    assert "cannot be read as a zip" in by["junk"].problem
    assert by["lnk"].files == {} and any("symbolic link" in n for n in by["lnk"].notes)
    assert not list(tmp_path.rglob("abs")) and not (tmp_path / "subsequent_mask.py").exists()


def test_the_exercise_version_covers_what_decides_a_verdict(tmp_path):
    from dl_course.classroom.gradebook import exercise_version
    from dl_course.course import load_pack

    root = make_pack(tmp_path / "pack")
    ex = load_pack(root).exercise("subsequent_mask")
    first = exercise_version(load_pack(root), ex, "cpu")
    assert exercise_version(load_pack(root), ex, "cpu") == first
    assert exercise_version(load_pack(root), ex, "all") != first
    seen = {first}
    for path in (ex.suite, ex.mistakes, ex.solution, ex.manifest):
        path.write_text(path.read_text() + "\n# changed\n")
        version = exercise_version(load_pack(root), ex, "cpu")
        assert version not in seen, path
        seen.add(version)
    ex.starter.write_text(ex.starter.read_text() + "\n# the starter decides nothing\n")
    assert exercise_version(load_pack(root), ex, "cpu") in seen


def test_a_worker_with_another_copy_of_the_pack_refuses_the_work(tmp_path):
    from dl_course.classroom.tasks import grade_batch

    pack = make_pack(tmp_path / "pack")
    item = {"key": ["ana", "subsequent_mask", "abc", "not-this-version"], "exercise": "subsequent_mask", "slot": 0,
            "files": {"subsequent_mask.py": GOOD.encode()}, "display": "ana/subsequent_mask.py"}
    other = dict(item, key=["ana", "nope", "abc", "x"], exercise="nope")
    answers = grade_batch({"course": str(pack), "device": "cpu", "seed": 1, "run": "t", "hide": [],
                           "items": [item, other]})
    assert [a["key"] for a in answers] == [item["key"], other["key"]]
    assert "result" not in answers[0] and "install the same course pack" in answers[0]["infra"]
    assert "no exercise nope" in answers[1]["infra"]


def test_batches_follow_the_class_size_and_the_workers(tmp_path):
    """A judge's start is worth about 20 submission-exercises: a small class is one batch whatever
    the workers; a larger one spreads over the workers; a large one in batches of at most 40."""
    from types import SimpleNamespace

    from dl_course.classroom.run import batches

    def sizes(n, workers):
        plan = SimpleNamespace(items=[{"key": [str(i)]} for i in range(n)], submissions=tmp_path, course=None,
                               gradebook=SimpleNamespace(folder=tmp_path), device="cpu", seed=1)
        return [len(t["items"]) for t in batches(plan, workers)]

    assert sizes(20, 2) == [20] and sizes(20, 8) == [20] and sizes(5, 4) == [5]
    assert sizes(40, 2) == [20, 20] and sizes(60, 8) == [20, 20, 20]
    assert sizes(160, 2) == [40, 40, 40, 40] and max(sizes(1000, 4)) <= 40
    assert sizes(0, 2) == []
