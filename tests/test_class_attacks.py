"""Every attack of `check`'s tests, handed in as one student's file in a class with honest
batch-mates: `dl-course grade` fails each attacker, gives the honest students full marks, and
nothing outside the attackers' own sessions changes (their classmates' files, the pack, the
gradebook, the exports)."""

from __future__ import annotations

import csv
import sqlite3
import textwrap

import pytest

from conftest import Cli, make_pack, reference_source
from test_boundary import ATTACKS, _box_available
from test_cheats import CHEATS

# About 5 s for the whole class on two cores: part of the default run.
pytestmark = pytest.mark.skipif(not _box_available(), reason="no OS boundary on this machine (bwrap, namespaces)")

# Attacks on the class itself: the gradebook, the exports and a classmate's staged file.
CLASS_ATTACKS = {
    "gradebook_writer": """
        import glob, sqlite3, torch
        for db in glob.glob("{out}/gradebook.sqlite") + glob.glob("{out}/*.sqlite"):
            try:
                with sqlite3.connect(db) as c:
                    c.execute("UPDATE verdicts SET score = 0, passed = 0")
            except Exception:
                pass
        def subsequent_mask(size, device=None):
            return torch.zeros(1, size, size, dtype=torch.bool, device=device)
    """,
    "classmate_writer": """
        import glob, os, torch
        for path in glob.glob("{subs}/*/subsequent_mask.py") + glob.glob("/tmp/**/subsequent_mask.py", recursive=True):
            try:
                with open(path, "w") as f:
                    f.write("def subsequent_mask(size, device=None):\\n    return None\\n")
            except OSError:
                pass
        def subsequent_mask(size, device=None):
            return torch.zeros(1, size, size, dtype=torch.bool, device=device)
    """,
}

HONEST = ("ana", "zoe")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class_attacks")
    pack = make_pack(root / "pack")
    reference = (pack / "solutions" / "chapter09" / "subsequent_mask.py").read_bytes()
    subs, out, outside = root / "subs", root / "out", root / "outside.txt"
    attacks = {**ATTACKS, **CHEATS, **CLASS_ATTACKS}
    for name, source in attacks.items():
        text = textwrap.dedent(source)
        for key, value in {"{pack}": str(pack), "{port}": "9", "{outside}": str(outside),
                           "{workspace}": str(subs / "ana"), "{out}": str(out), "{subs}": str(subs)}.items():
            text = text.replace(key, value)
        (subs / name).mkdir(parents=True)
        (subs / name / "subsequent_mask.py").write_text(text)
    for name in HONEST:
        (subs / name).mkdir()
        (subs / name / "subsequent_mask.py").write_text(reference_source())
    proc = Cli(root, pack)("grade", str(subs), "--out", str(out), "--workers", "2", timeout=900)
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        book = dict(db.execute("SELECT student, score FROM verdicts").fetchall())
    with (out / "grades.csv").open() as f:
        table = {r["student"]: r for r in csv.DictReader(f)}
    return {"proc": proc, "attacks": attacks, "book": book, "csv": table, "outside": outside.exists(),
            "reference_intact": reference == (pack / "solutions" / "chapter09" / "subsequent_mask.py").read_bytes(),
            "honest_files": {n: (subs / n / "subsequent_mask.py").read_text() for n in HONEST}}


def test_no_attacker_passes_in_a_class(graded):
    passed = [name for name in graded["attacks"]
              if graded["csv"][name]["subsequent_mask"] not in ("", "0") and
              float(graded["csv"][name]["subsequent_mask"]) == 10]
    assert passed == [], graded["proc"].stdout[-3000:]


def test_honest_classmates_keep_full_marks_in_the_gradebook_and_the_csv(graded):
    assert graded["proc"].returncode in (0, 1), graded["proc"].stdout + graded["proc"].stderr
    for name in HONEST:
        assert graded["book"][name] == 10 and graded["csv"][name]["subsequent_mask"] == "10", name
        assert graded["honest_files"][name] == reference_source()


def test_nothing_outside_the_attackers_sessions_changed(graded):
    assert graded["reference_intact"] and not graded["outside"]
