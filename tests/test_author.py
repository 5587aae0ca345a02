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
    assert "sound" in proc.stdout and "5/5 named" in proc.stdout


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
