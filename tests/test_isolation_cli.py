"""What the CLI says about isolation: `doctor` lists the layers; without a box, `check` says the
grade is advisory and class grading refuses unless told `--allow-unisolated`."""

from __future__ import annotations

from conftest import reference_source


def test_doctor_lists_the_layers(cli):
    proc = cli("doctor")
    assert proc.returncode == 0
    for layer in ("namespaces", "landlock", "seccomp", "unprivileged uid", "in-process fences"):
        assert layer in proc.stdout


def test_without_a_box_check_is_advisory_and_grade_refuses(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("DL_COURSE_NO_BOX", "1")
    assert cli("start", "chapter9", "--no-tui").returncode == 0
    (cli.cwd / "chapter09" / "subsequent_mask.py").write_text(reference_source())
    proc = cli("check", "subsequent_mask")
    assert proc.returncode == 0 and "advisory" in proc.stderr
    subs = tmp_path / "subs" / "ana"
    subs.mkdir(parents=True)
    (subs / "subsequent_mask.py").write_text(reference_source())
    refused = cli("grade", str(subs.parent), "--out", str(tmp_path / "out"))
    assert refused.returncode == 2 and "--allow-unisolated" in refused.stdout + refused.stderr
    assert not (tmp_path / "out" / "grades.csv").exists()
    allowed = cli("grade", str(subs.parent), "--out", str(tmp_path / "out"), "--allow-unisolated")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert (tmp_path / "out" / "grades.csv").exists()
