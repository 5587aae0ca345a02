"""A learner's path through the real CLI: start, fail, fix, pass, and everything around it."""

from __future__ import annotations

import json
import sqlite3
import threading

from conftest import by_id, reference_source


def test_start_scaffolds_and_says_what_next(cli):
    proc = cli("start", "chapter9")
    assert proc.returncode == 0, proc.stderr
    assert "Created a dl-course workspace" in proc.stdout
    assert (cli.cwd / "dl-course.toml").is_file()
    stub = cli.cwd / "chapter09" / "subsequent_mask.py"
    assert "NotImplementedError" in stub.read_text()
    assert "dl-course check subsequent_mask" in (cli.cwd / "chapter09" / "README.md").read_text()
    assert "dl-course check subsequent_mask" in proc.stdout


def test_chapter_aliases_and_unknown_chapter(cli):
    for alias in ("9", "ch9", "chapter09"):
        assert cli("start", alias).returncode == 0
    proc = cli("start", "chapter42")
    assert proc.returncode == 2
    assert "no chapter 'chapter42'" in proc.stderr and "chapter9" in proc.stderr


def test_start_twice_keeps_the_learners_edits(cli):
    cli("start", "chapter9")
    stub = cli.cwd / "chapter09" / "subsequent_mask.py"
    stub.write_text("# my work\n")
    proc = cli("start", "chapter9")
    assert proc.returncode == 0
    assert "kept" in proc.stdout
    assert stub.read_text() == "# my work\n"


def test_start_from_a_subfolder_finds_the_workspace(cli):
    cli("start", "chapter9")
    proc = cli("start", "9", cwd=cli.cwd / "chapter09")
    assert "Using the workspace in" in proc.stdout
    assert not (cli.cwd / "chapter09" / "dl-course.toml").exists()


def test_stub_fails_then_reference_passes(cli):
    cli("start", "chapter9")
    code, report = cli.json("check")
    assert code == 1
    result = by_id(report)["subsequent_mask"]
    assert result["passed"] is False and result["max_score"] == 10
    assert set(result) >= {"exercise", "passed", "score", "max_score", "diagnosis", "duration_s", "checks"}
    failing = [c for c in result["checks"] if c["status"] == "failed"][0]
    assert "NotImplementedError" in failing["message"]
    assert "subsequent_mask.py" in failing["message"] and "line" in failing["message"]
    assert [c["status"] for c in result["checks"]][-1] == "not_run"

    (cli.cwd / "chapter09" / "subsequent_mask.py").write_text(reference_source())
    code, report = cli.json("check", "subsequent_mask")
    assert code == 0, report
    result = by_id(report)["subsequent_mask"]
    assert result["passed"] and result["score"] == 10
    assert all(c["passed"] for c in result["checks"])
    assert [c["name"] for c in result["checks"]][:2] == ["loads", "defines"]


def test_human_output_names_the_failure_and_the_next_step(cli):
    cli("start", "chapter9")
    (cli.cwd / "chapter09" / "subsequent_mask.py").write_text(
        "import torch\n\ndef subsequent_mask(size, device=None):\n"
        "    return torch.ones(size, size, dtype=torch.bool, device=device).triu().unsqueeze(0)\n")
    proc = cli("check", "subsequent_mask", "--seed", "7")
    assert proc.returncode == 1
    out = proc.stdout
    assert "✗ values" in out
    assert "upper-triangular" in out  # the known mistake, named
    assert "What went wrong" in out
    assert "dl-course hint subsequent_mask" in out
    assert "--seed 7" in out


def test_known_mistake_is_diagnosed_in_json_and_hint_follows_it(cli):
    cli("start", "chapter9")
    (cli.cwd / "chapter09" / "subsequent_mask.py").write_text(
        "import torch\n\ndef subsequent_mask(size, device=None):\n"
        "    return torch.ones(size, size, dtype=torch.bool, device=device).triu().unsqueeze(0)\n")
    code, report = cli.json("check")
    assert code == 1
    assert by_id(report)["subsequent_mask"]["diagnosis"]["id"] == "upper_triangular"
    first = cli("hint", "subsequent_mask")
    assert "latest failure" in first.stdout and "first row" in first.stdout
    second = cli("hint", "subsequent_mask")
    assert "Hint 2 of" in second.stdout and "lower triangle" in second.stdout


def test_hints_run_out_politely(cli):
    cli("start", "chapter9")
    outputs = [cli("hint", "subsequent_mask").stdout for _ in range(6)]
    assert "Hint 1 of 5" in outputs[0]
    assert "No more hints" in outputs[-1]


def test_syntax_error_is_reported_with_its_line(cli):
    cli("start", "chapter9")
    (cli.cwd / "chapter09" / "subsequent_mask.py").write_text("import torch\n\ndef subsequent_mask(size:\n    pass\n")
    code, report = cli.json("check", "subsequent_mask")
    loads = by_id(report)["subsequent_mask"]["checks"][0]
    assert code == 1 and loads["name"] == "loads" and loads["status"] == "failed"
    assert "line 3" in loads["message"] and "SyntaxError" in loads["message"]
    assert loads["message"].count("line 3") == 1, loads["message"]  # said once, not again in brackets
    out = cli("check", "subsequent_mask").stdout
    assert "hint subsequent_mask" in out and "--seed" not in out  # no inputs to replay


def test_next_names_an_exercise_still_to_do(tmp_path):
    from conftest import Cli, make_pack

    pack = make_pack(tmp_path / "pack", {"second_mask": {}, "third_mask": {}})
    (tmp_path / "work").mkdir()
    cli = Cli(tmp_path / "work", pack)
    cli("start", "chapter9", "--no-tui")
    for name in ("subsequent_mask", "second_mask", "third_mask"):
        (cli.cwd / "chapter09" / f"{name}.py").write_text(reference_source())
    assert "Next: `dl-course check third_mask`" in cli("check", "second_mask").stdout
    # second_mask passed: after subsequent_mask comes third_mask, not second_mask again.
    assert "Next: `dl-course check third_mask`" in cli("check", "subsequent_mask").stdout
    assert "every exercise here passes" in cli("check", "third_mask").stdout


def test_missing_function_is_reported_by_name(cli):
    cli("start", "chapter9")
    (cli.cwd / "chapter09" / "subsequent_mask.py").write_text("import torch\n\ndef subsequent_masks(size):\n    pass\n")
    code, report = cli.json("check", "subsequent_mask")
    defines = by_id(report)["subsequent_mask"]["checks"][1]
    assert defines["status"] == "failed"
    assert "'subsequent_mask' is not defined" in defines["message"]


def test_solution_is_gated_until_a_pass_and_reveal_is_recorded(cli):
    cli("start", "chapter9")
    proc = cli("solution", "subsequent_mask")
    assert proc.returncode == 2 and "--reveal" in proc.stderr
    proc = cli("solution", "subsequent_mask", "--reveal")
    assert proc.returncode == 0 and "tril" in proc.stdout
    db = sqlite3.connect(cli.cwd / ".dl-course" / "progress.sqlite")
    assert db.execute("SELECT forced FROM reveals").fetchall() == [(1,)]


def test_reset_backs_up_the_learners_file(cli):
    cli("start", "chapter9")
    stub = cli.cwd / "chapter09" / "subsequent_mask.py"
    stub.write_text("# half-done work\n")
    proc = cli("reset", "subsequent_mask", "--yes")
    assert proc.returncode == 0
    backups = list((cli.cwd / ".dl-course" / "backups").iterdir())
    assert [b.read_text() for b in backups] == ["# half-done work\n"]
    assert "NotImplementedError" in stub.read_text()


def test_list_json_and_progress_survive_another_process(cli):
    cli("start", "chapter9")
    (cli.cwd / "chapter09" / "subsequent_mask.py").write_text(reference_source())
    assert cli("check").returncode == 0
    listing = json.loads(cli("list", "--json").stdout)
    row = listing["chapters"][0]["exercises"][0]
    assert row["id"] == "subsequent_mask" and row["status"] == "passed" and row["best_score"] == 10
    assert row["file"].endswith("chapter09/subsequent_mask.py")
    progress = cli("progress")
    assert "1 of 1 exercises passed" in progress.stdout


def test_check_outside_a_workspace_says_what_to_do(cli):
    proc = cli("check")
    assert proc.returncode == 2
    assert "dl-course start chapter9" in proc.stderr


def test_two_checks_at_once_leave_the_database_whole(cli):
    cli("start", "chapter9")
    (cli.cwd / "chapter09" / "subsequent_mask.py").write_text(reference_source())
    codes = []
    threads = [threading.Thread(target=lambda: codes.append(cli("check").returncode)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [0, 0]
    db = sqlite3.connect(cli.cwd / ".dl-course" / "progress.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert db.execute("SELECT COUNT(*) FROM attempts").fetchone() == (2,)


def test_a_damaged_database_gets_a_clear_error(cli):
    cli("start", "chapter9")
    db = cli.cwd / ".dl-course" / "progress.sqlite"
    db.parent.mkdir(exist_ok=True)
    db.write_bytes(b"this is not a database" * 100)
    proc = cli("progress")
    assert proc.returncode == 2
    assert "damaged" in proc.stderr and "Traceback" not in proc.stderr



def test_list_after_reset_says_reset_and_keeps_names_whole_at_80_columns(cli):
    cli("start", "chapter9")
    (cli.cwd / "chapter09" / "subsequent_mask.py").write_text(reference_source())
    assert cli("check", "subsequent_mask").returncode == 0
    assert cli("reset", "--yes", "subsequent_mask").returncode == 0
    code, listing = cli.json("list")
    [row] = [r for c in listing["chapters"] for r in c["exercises"]]
    assert row["status"] == "reset"
    import os
    import subprocess

    from conftest import EXE
    env = {k: v for k, v in os.environ.items() if k != "DL_COURSE_PACK"} | {"COLUMNS": "80",
                                                                            "DL_COURSE_PACK": str(cli.pack)}
    shown = subprocess.run([EXE, "list"], cwd=cli.cwd, env=env, capture_output=True, text=True).stdout
    assert "subsequent_mask " in shown and "reset" in shown  # whole, not broken across lines
    assert all(len(line) <= 80 for line in shown.splitlines())
