"""Find the students in a SUBMISSIONS folder and match their files to exercises.

One entry per student, named after the entry:

    SUBMISSIONS/
      ana/chapter09/subsequent_mask.py     a workspace (any depth: ana/course/chapter09/... too)
      ben/subsequent_mask.py               a flat folder
      carla.zip                            a zip of either (a top folder inside is fine)
      dora/chapter09.ipynb                 a notebook (from `dl-course notebook`), in a folder or zip

Files are matched to exercises by file name; where several files could be the same exercise,
the one inside the exercise's chapter folder (e.g. `chapter09/`) wins, then the shallowest.
Symbolic links are never followed. A zip is never extracted to disk under its own member
names: matched members are read into memory (with size caps), so a member called
`../../etc/x` or a link cannot write or read anything outside.

An exercise with no `.py` file is looked for in the student's notebooks: its tagged cell,
put together with the code cells above it exactly as `dl-course check NOTEBOOK` does (see
`dl_course.notebook`), becomes the file graded.
"""

from __future__ import annotations

import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from dl_course.course.model import Exercise, Pack
from dl_course.errors import CourseError

__all__ = ["StudentFile", "Student", "collect", "collect_one", "FILE_CAP", "ZIP_CAP"]

FILE_CAP = 1024 * 1024
NOTEBOOK_CAP = 16 * 1024 * 1024
"""The largest notebook read (outputs and pictures make them big)."""
"""The largest exercise file read (bytes); a bigger one is reported and not graded."""
ZIP_CAP = 64 * 1024 * 1024
"""The most a zip may declare uncompressed, in all (a zip bomb is refused, not opened)."""
_ZIP_MEMBERS = 20_000
_WALK_FILES = 20_000
_SKIP_DIRS = {"__pycache__", "__MACOSX", "node_modules", ".git", ".dl-course", ".ipynb_checkpoints"}


@dataclass(frozen=True)
class StudentFile:
    """One file a student handed in for one exercise."""

    exercise: str
    path: str
    """Where it was, relative to the student's entry (e.g. `chapter09/subsequent_mask.py`)."""
    data: bytes | None
    """Its bytes, or None when it was refused (see `problem`)."""
    problem: str | None = None
    notebook: object | None = None
    """For an exercise taken from a notebook: the put-together file (`notebook.Assembled`)."""
    support_of: tuple[str, ...] = ()
    """For a notebook: the exercises whose cells are included (their support files are needed)."""


@dataclass
class Student:
    name: str
    source: Path
    """The folder or zip it came from."""
    files: dict[str, StudentFile] = field(default_factory=dict)
    """By exercise id: the file chosen for that exercise."""
    notes: list[str] = field(default_factory=list)
    """What the instructor should know (ambiguous files, refused zip members, …)."""
    problem: str | None = None
    """Why nothing of this entry could be read (an unreadable zip), else None."""


def collect(root: Path, pack: Pack, exercises: list[Exercise], skip: tuple[Path, ...] = ()
            ) -> tuple[list[Student], list[str]]:
    """Every student under `root`, sorted by name, and notes about entries that were ignored."""
    root = Path(root)
    if not root.is_dir():
        raise CourseError(f"{root}: not a folder; SUBMISSIONS is a folder with one entry (a folder or a .zip) "
                          "per student")
    skip_real = {os.path.realpath(p) for p in skip}
    students: list[Student] = []
    ignored: list[str] = []
    seen: dict[str, Path] = {}
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if entry.name.startswith(".") or entry.name in _SKIP_DIRS or os.path.realpath(entry) in skip_real:
            continue
        if entry.is_symlink():
            ignored.append(f"{entry.name}: a symbolic link, not followed")
            continue
        if entry.is_dir():
            name = entry.name
        elif entry.is_file() and entry.suffix.lower() == ".zip":
            name = entry.stem
        else:
            ignored.append(f"{entry.name}: not a folder or a .zip; one entry per student is expected")
            continue
        if name in seen:
            ignored.append(f"{entry.name}: student {name!r} already comes from {seen[name].name}; ignored")
            continue
        seen[name] = entry
        students.append(collect_one(entry, pack, exercises, name))
    return students, ignored


def collect_one(entry: Path, pack: Pack, exercises: list[Exercise], name: str | None = None) -> Student:
    """One student's entry: a folder (any layout) or a zip of one."""
    student = Student(name or entry.stem, entry)
    if entry.is_dir():
        candidates = _walk(entry, student)
        reader = _folder_reader(entry)
    else:
        try:
            archive = zipfile.ZipFile(entry)
        except (zipfile.BadZipFile, OSError) as e:
            student.problem = f"{entry.name} cannot be read as a zip ({e})"
            return student
        with archive:
            candidates = _zip_members(archive, student)
            if student.problem:
                return student
            chosen = _choose(candidates, pack, exercises, student)
            for ex_id, path in chosen.items():
                student.files[ex_id] = _read_member(archive, candidates[path], ex_id, path)
            notebooks = [p for p in candidates if p.lower().endswith(".ipynb")]
            if notebooks and len(student.files) < len(exercises):
                def read_notebook(rel: str) -> bytes:
                    info = candidates[rel]
                    if info.file_size > NOTEBOOK_CAP:
                        raise ValueError(f"over the {NOTEBOOK_CAP:,}-byte limit")
                    with archive.open(info) as f:
                        data = f.read(NOTEBOOK_CAP + 1)
                    if len(data) > NOTEBOOK_CAP:
                        raise ValueError(f"over the {NOTEBOOK_CAP:,}-byte limit")
                    return data

                _from_notebooks(notebooks, read_notebook, pack, exercises, student)
        return student
    chosen = _choose(candidates, pack, exercises, student)
    for ex_id, path in chosen.items():
        student.files[ex_id] = reader(ex_id, path)
    notebooks = [p for p in candidates if p.lower().endswith(".ipynb")]
    if notebooks and len(student.files) < len(exercises):
        def read_notebook(rel: str) -> bytes:
            path = entry / rel
            if path.stat().st_size > NOTEBOOK_CAP:
                raise ValueError(f"over the {NOTEBOOK_CAP:,}-byte limit")
            return path.read_bytes()

        _from_notebooks(notebooks, read_notebook, pack, exercises, student)
    return student


def _walk(folder: Path, student: Student) -> dict[str, None]:
    """Relative POSIX paths of the regular files under `folder` (links not followed)."""
    found: dict[str, None] = {}
    for here, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
        rel_dir = Path(here).relative_to(folder)
        for f in sorted(files):
            full = Path(here) / f
            if full.is_symlink():
                student.notes.append(f"{(rel_dir / f).as_posix()}: a symbolic link, not followed")
                continue
            found[(rel_dir / f).as_posix()] = None
            if len(found) >= _WALK_FILES:
                student.notes.append(f"more than {_WALK_FILES} files; the rest were not looked at")
                return found
    return found


def _folder_reader(folder: Path):
    def read(ex_id: str, rel: str) -> StudentFile:
        path = folder / rel
        try:
            size = path.stat().st_size
            if size > FILE_CAP:
                return StudentFile(ex_id, rel, None, f"{rel} is {size:,} bytes, over the {FILE_CAP:,}-byte limit")
            with path.open("rb") as f:
                data = f.read(FILE_CAP + 1)
        except OSError as e:
            return StudentFile(ex_id, rel, None, f"{rel} cannot be read ({e.strerror or e})")
        if len(data) > FILE_CAP:
            return StudentFile(ex_id, rel, None, f"{rel} is over the {FILE_CAP:,}-byte limit")
        return StudentFile(ex_id, rel, data)

    return read


def _zip_members(archive: zipfile.ZipFile, student: Student) -> dict[str, zipfile.ZipInfo]:
    infos = archive.infolist()
    if len(infos) > _ZIP_MEMBERS:
        student.problem = f"the zip holds {len(infos):,} members (at most {_ZIP_MEMBERS:,} are read)"
        return {}
    declared = sum(i.file_size for i in infos)
    if declared > ZIP_CAP:
        student.problem = f"the zip would unpack to {declared:,} bytes (more than {ZIP_CAP:,}); not opened"
        return {}
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        if info.is_dir():
            continue
        raw = info.filename.replace("\\", "/")
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            student.notes.append(f"{raw}: a symbolic link inside the zip, ignored")
            continue
        parts = PurePosixPath(raw).parts
        if raw.startswith("/") or (parts and parts[0].endswith(":")) or ".." in parts:
            student.notes.append(f"{raw}: an unsafe path inside the zip, ignored")
            continue
        if any(p.startswith(".") or p in _SKIP_DIRS for p in parts[:-1]):
            continue
        members[PurePosixPath(*parts).as_posix()] = info
    return members


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, ex_id: str, rel: str) -> StudentFile:
    if info.file_size > FILE_CAP:
        return StudentFile(ex_id, rel, None, f"{rel} is {info.file_size:,} bytes, over the {FILE_CAP:,}-byte limit")
    try:
        with archive.open(info) as f:
            data = f.read(FILE_CAP + 1)  # never trust the declared size alone
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as e:
        return StudentFile(ex_id, rel, None, f"{rel} cannot be read from the zip ({e})")
    if len(data) > FILE_CAP:
        return StudentFile(ex_id, rel, None, f"{rel} is over the {FILE_CAP:,}-byte limit")
    return StudentFile(ex_id, rel, data)


def _from_notebooks(notebooks: list[str], read, pack: Pack, exercises: list[Exercise], student: Student) -> None:
    """Fill in, from the student's notebooks, the exercises that have no `.py` file."""
    try:
        from dl_course import notebook as nb
    except ImportError:  # an installation without notebook support
        student.notes.append(f"{notebooks[0]}: notebooks are not read by this installation of dl-course")
        return
    import tempfile

    chapter_names = {pack.chapter_of(e).folder for e in exercises}
    # A notebook named after its chapter (chapter09.ipynb) first, then the shallowest.
    order = sorted(notebooks, key=lambda r: (PurePosixPath(r).stem not in chapter_names, r.count("/"), r))
    wanted = {e.id for e in exercises}
    for rel in order:
        display = f"{student.name}/{rel}"
        try:
            data = read(rel)
            with tempfile.TemporaryDirectory(prefix="dl-course-nb-") as tmp:
                path = Path(tmp) / "notebook.ipynb"
                path.write_bytes(data)
                cells = nb.read_cells(path, display)
            tagged = nb.exercise_cells(cells, pack, display)
        except (CourseError, OSError, ValueError) as e:
            student.notes.append(f"{rel}: not read ({e})")
            continue
        for ex_id, cell in tagged.items():
            if ex_id not in wanted or ex_id in student.files:
                continue
            try:
                assembled = nb.assemble(cells, cell, display)
            except CourseError as e:  # a syntax error in a cell: reported on this exercise
                student.files[ex_id] = StudentFile(ex_id, rel, None, str(e))
                continue
            included = tuple(dict.fromkeys(c.exercise for c, _, _ in assembled.spans if c.exercise))
            student.files[ex_id] = StudentFile(ex_id, rel, assembled.source.encode("utf-8"), None, assembled,
                                               included)


def _choose(paths, pack: Pack, exercises: list[Exercise], student: Student) -> dict[str, str]:
    """For each exercise, the path of the student's file for it (if any)."""
    by_name: dict[str, list[Exercise]] = {}
    for ex in exercises:
        by_name.setdefault(PurePosixPath(ex.file).name, []).append(ex)
    options: dict[str, list[tuple[tuple[int, int, str], str]]] = {}
    for rel in paths:
        p = PurePosixPath(rel)
        for ex in by_name.get(p.name, ()):
            folder = pack.chapter_of(ex).folder
            want = PurePosixPath(folder, ex.file).parts
            in_chapter = p.parts[-len(want):] == want
            if not in_chapter and len(by_name[p.name]) > 1:
                continue  # the same file name in two chapters: only the chapter folder tells them apart
            options.setdefault(ex.id, []).append(((0 if in_chapter else 1, len(p.parts), rel), rel))
    chosen = {}
    for ex_id, found in options.items():
        found.sort()
        chosen[ex_id] = found[0][1]
        if len(found) > 1:
            others = ", ".join(r for _, r in found[1:4])
            student.notes.append(f"{ex_id}: graded {found[0][1]}; also found {others}")
    return chosen
