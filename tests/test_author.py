"""Instructor tools: `author new` scaffolds a pack entry that `validate` rejects until filled in;
`validate` proves a finished exercise sound and catches a mistake that is not named."""

from __future__ import annotations

from conftest import Cli


def test_new_exercise_scaffolds_four_parts_and_fails_validation(small_pack, tmp_path):
    cli = Cli(tmp_path, None)
    proc = cli("author", "new", "chapter9/scaled_sum", "--course", str(small_pack))
    assert proc.returncode == 0, proc.stderr
    for rel in ("exercises/chapter09/scaled_sum/exercise.toml", "exercises/chapter09/scaled_sum/starter.py",
                "solutions/chapter09/scaled_sum.py", "grader/chapter09/scaled_sum/test_scaled_sum.py",
                "grader/chapter09/scaled_sum/mistakes.py"):
        assert (small_pack / rel).is_file(), rel
    assert '"scaled_sum"' in (small_pack / "curriculum/chapter09/chapter.toml").read_text()
    again = cli("author", "new", "chapter9/scaled_sum", "--course", str(small_pack))
    assert again.returncode == 2 and "already exists" in again.stderr

    proc = cli("author", "validate", "scaled_sum", "--course", str(small_pack), timeout=600)
    assert proc.returncode == 1
    assert "NOT sound" in proc.stdout
    assert "the reference does not pass" in proc.stdout
    # One account of the author's own `raise NotImplementedError`, naming the file and line, not a
    # wall of pytest and pluggy frames repeated for every known mistake.
    out = " ".join(proc.stdout.split())
    assert "NotImplementedError" in out and "solutions/chapter09/scaled_sum.py\", line" in out, out
    assert "pluggy" not in out and "_pytest" not in out and "Traceback" not in out, out
    assert out.count("NotImplementedError") <= 3, out


def test_validate_proves_subsequent_mask_sound(small_pack, tmp_path):
    cli = Cli(tmp_path, small_pack)
    proc = cli("author", "validate", "subsequent_mask", timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "sound" in proc.stdout and "6/6 named" in proc.stdout


def test_validate_fails_when_a_mistake_is_not_caught(small_pack, tmp_path):
    mistakes = small_pack / "grader" / "chapter09" / "subsequent_mask" / "mistakes.py"
    mistakes.write_text(mistakes.read_text() + '''

@mistake("not_really_a_mistake", "This variant is right.", provides="subsequent_mask")
def right_after_all(size, device=None):
    return torch.ones(size, size, dtype=torch.bool, device=device).tril().unsqueeze(0)
''')
    cli = Cli(tmp_path, small_pack)
    proc = cli("author", "validate", "subsequent_mask", timeout=600)
    assert proc.returncode == 1
    assert "mistake not_really_a_mistake passes every check" in proc.stdout


def test_new_on_an_empty_or_new_folder_starts_a_pack_a_learner_can_use(tmp_path):
    cli = Cli(tmp_path, None)
    proc = cli("author", "new", "chapter9/my_ex", "--course", "new-pack")
    assert proc.returncode == 0, proc.stderr
    pack = tmp_path / "new-pack"
    for rel in ("curriculum/chapter09/chapter.toml", "curriculum/chapter09/00-overview.md",
                "exercises/chapter09/my_ex/exercise.toml", "solutions/chapter09/my_ex.py",
                "grader/chapter09/my_ex/test_my_ex.py", "grader/chapter09/my_ex/mistakes.py"):
        assert (pack / rel).is_file(), rel
    assert "author validate my_ex --course new-pack" in " ".join(proc.stdout.split())
    # A second chapter in the same pack, then the pack works for a learner.
    assert cli("author", "new", "ch10/vit", "--course", "new-pack").returncode == 0
    work = tmp_path / "work"
    work.mkdir()
    learner = Cli(work, pack)
    assert learner("start", "chapter10", "--no-tui").returncode == 0
    assert (work / "chapter10" / "vit.py").is_file()
    # A folder with other things in it is not turned into a pack.
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "notes.txt").write_text("mine\n")
    proc = cli("author", "new", "chapter9/a", "--course", "junk")
    assert proc.returncode == 2 and "not empty" in proc.stderr
    assert sorted(p.name for p in (tmp_path / "junk").iterdir()) == ["notes.txt"]
