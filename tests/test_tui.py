"""The TUI, driven with Textual's Pilot in a temporary workspace: the learner's main path."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from dl_course import service
from dl_course.tui.app import CourseApp
from dl_course.tui.screens import ExerciseScreen, MapScreen, ReaderScreen, TextScreen
from dl_course.tui.screens.modals import ConfirmScreen

from conftest import BUILTIN, reference_source

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def workspace(tmp_path: Path, small_pack: Path) -> Path:
    ws = tmp_path / "work"
    ws.mkdir()
    service.start("chapter9", str(small_pack), cwd=ws)
    return ws


def make_app(ws: Path, pack: Path, **kw) -> CourseApp:
    return CourseApp(service.open_course(str(pack), cwd=ws), **kw)


def screen_text(app) -> str:
    """Everything the current screen's text widgets hold, as plain text (tables included)."""
    import io

    from rich.console import Console
    from textual.widgets import Label, Static

    parts = []
    for widget in app.screen.query("*"):
        if isinstance(widget, (Static, Label)):
            content = widget.content
            if hasattr(content, "plain") or isinstance(content, str):
                parts.append(getattr(content, "plain", str(content)))
            else:
                console = Console(width=200, file=io.StringIO(), color_system=None)
                console.print(content)
                parts.append(console.file.getvalue())
        elif hasattr(widget, "render") and type(widget).__name__ == "ExerciseRow":
            console = Console(width=200, file=io.StringIO(), color_system=None)
            console.print(widget.render())
            parts.append(console.file.getvalue())
    return "\n".join(parts)


def shown_lines(app) -> list[str]:
    """What the terminal shows, line by line, as the learner sees it (the composed screen)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def wait_for(pilot, condition, timeout: float = 60.0) -> None:
    waited = 0.0
    while not condition():
        await pilot.pause(0.1)
        waited += 0.1
        if waited > timeout:
            raise AssertionError(f"timed out; the screen shows:\n{screen_text(pilot.app)}")


async def open_exercise(pilot, exercise_id: str) -> ExerciseScreen:
    app = pilot.app
    view = app.screen.query_one("#course-map")
    ids = [getattr(item, "row", {}).get("id") for item in view.children]
    view.index = ids.index(exercise_id)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, ExerciseScreen))
    return app.screen


async def check(pilot) -> None:
    """Press c and wait until the new verdict is on screen (not merely received)."""
    from dl_course.tui.widgets import ResultView

    screen = pilot.app.screen
    before = screen.result
    await pilot.press("c")

    def shown() -> bool:
        if screen.checking or screen.result is None or screen.result is before:
            return False
        return any(view.result is screen.result and view.children for view in screen.query(ResultView))

    await wait_for(pilot, shown)
    await pilot.pause()


def test_learner_path(workspace: Path, small_pack: Path) -> None:
    """Open chapter 9, read, open the exercise, fail, fix, pass, hints in order, the solution."""
    target = workspace / "chapter09" / "subsequent_mask.py"

    async def run() -> None:
        app = make_app(workspace, small_pack)
        async with app.run_test(size=(100, 32)) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, MapScreen)
            assert "Chapter 9" in screen_text(app)
            # The chapter row opens the reader; n moves to the next section.
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ReaderScreen))
            reader = app.screen
            assert "1/" in reader.sub_title
            await pilot.press("n")
            await pilot.pause()
            assert reader.current == 1 and "2/" in reader.sub_title
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MapScreen))

            screen = await open_exercise(pilot, "subsequent_mask")
            assert "chapter09/subsequent_mask.py" in screen_text(app)
            await check(pilot)
            assert not screen.result.passed
            shown = screen_text(app)
            assert "not yet" in shown and "not written yet" in shown, shown

            # The solution is locked before a pass: it asks first.
            await pilot.press("s")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("n")
            await wait_for(pilot, lambda: isinstance(app.screen, ExerciseScreen))

            # Hints come one at a time, in order, under the result; those seen can be read again.
            from dl_course.tui.screens.exercise import HintPanel

            await pilot.press("h")
            await pilot.pause()
            panel = screen.query_one(HintPanel)
            assert panel.border_title.startswith("Hint 1 of"), panel.border_title
            first = panel.text
            await pilot.press("h")
            await pilot.pause()
            assert panel.border_title.startswith("Hint 2 of") and panel.text != first
            await pilot.press("H")  # back to the first
            await pilot.pause()
            assert panel.border_title.startswith("Hint 1 of") and panel.text == first
            assert "Hint 1 of" in "\n".join(shown_lines(app))  # scrolled into sight
            await pilot.press("h")  # forward again through the seen one: no new hint is spent
            await pilot.pause()
            assert panel.border_title.startswith("Hint 2 of")
            assert len(app.ctx.progress.hints_shown("subsequent_mask")) == 2
            await pilot.press("escape")  # Esc closes the hint first
            await pilot.pause()
            assert isinstance(app.screen, ExerciseScreen) and not screen.query(HintPanel)
            await pilot.press("H")  # and reopens the last one seen
            await pilot.pause()
            assert screen.query_one(HintPanel).border_title.startswith("Hint 2 of")
            await pilot.press("x")
            await pilot.pause()

            target.write_text(reference_source())
            await check(pilot)
            assert screen.result.passed, screen_text(app)
            assert "passed" in screen_text(app)

            await pilot.press("s")
            await wait_for(pilot, lambda: isinstance(app.screen, TextScreen))
            assert "Reference solution" in app.screen.title_text
            assert "def subsequent_mask" in app.screen.markdown
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, ExerciseScreen))

            # Reset: the panel and the map stop saying "passed" (the code that passed is gone).
            await pilot.press("r")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            await wait_for(pilot, lambda: "starter again" in screen_text(app))
            assert "passed" not in screen_text(app), screen_text(app)
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MapScreen))
            await pilot.pause()
            row = next(line for line in shown_lines(app) if "subsequent_mask" in line)
            assert "reset" in row and "passed" not in row, row
            # Coming back says so too.
            await open_exercise(pilot, "subsequent_mask")
            assert "starter again" in screen_text(app) and "passed" not in screen_text(app)

    asyncio.run(run())


def test_wrong_answer_shows_diagnosis_and_figure(workspace: Path, small_pack: Path) -> None:
    """A known mistake: its explanation stands out, and the mask is drawn beside the reference, with
    its caption whole at 80 columns; coming back to the exercise (in this run or the next) shows all
    of it again; a hint opens under the picture, never over it."""
    target = workspace / "chapter09" / "subsequent_mask.py"
    target.write_text("import torch\n\ndef subsequent_mask(size, device=None):\n"
                      "    return torch.ones(1, size, size, dtype=torch.bool, device=device).triu()\n")

    from dl_course.tui.screens.exercise import HintPanel
    from dl_course.tui.widgets import FigurePair, Heatmap

    def whole_last_check(app, screen) -> None:
        shown = screen_text(app)
        assert "What went wrong" in shown and "upper_triangular" in shown, shown
        assert "Your last check" in shown, shown
        assert screen.query(FigurePair), "no figure drawn on coming back"

    async def run() -> None:
        app = make_app(workspace, small_pack)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            screen = await open_exercise(pilot, "subsequent_mask")
            await check(pilot)
            shown = screen_text(app)
            assert "What went wrong" in shown and "upper_triangular" in shown, shown
            await pilot.pause()
            pairs = list(screen.query(FigurePair))
            assert pairs, "no figure drawn"
            got = pairs[0].query_one(".got", Heatmap)
            assert got.marks and any(any(row) for row in got.marks)  # the differing cells are marked
            assert "differ" in got.title

            # The caption wraps at a space: every word of it is on screen, none cut (also where
            # the terminal is narrower than the caption).
            caption = pairs[0].query_one(".figure-title")
            await pilot.resize_terminal(50, 24)
            await pilot.pause(0.2)
            caption.scroll_visible(animate=False)
            await pilot.pause(0.2)
            region = caption.region
            assert len(str(caption.content)) > region.width and region.height > 1
            lines = shown_lines(app)[region.y:region.bottom]
            words = " ".join(line[region.x:region.right] for line in lines).split()
            assert words == str(caption.content).split(), (words, str(caption.content))
            await pilot.resize_terminal(80, 24)
            await pilot.pause(0.2)

            # Back to the map and in again: the box and the picture are still there.
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MapScreen))
            screen = await open_exercise(pilot, "subsequent_mask")
            await pilot.pause()
            whole_last_check(app, screen)

            # A hint goes under the picture: the picture stays in sight, nothing covers it.
            await pilot.press("h")
            await pilot.pause(0.3)
            assert isinstance(app.screen, ExerciseScreen)
            panel = screen.query_one(HintPanel)
            figure = screen.query_one(FigurePair)
            assert panel.region.y >= figure.region.bottom, (panel.region, figure.region)
            assert "Hint 1 of" in "\n".join(shown_lines(app))

    async def later() -> None:
        app = make_app(workspace, small_pack, warm=False)
        async with app.run_test(size=(100, 40)) as pilot:
            await pilot.pause()
            screen = await open_exercise(pilot, "subsequent_mask")
            await pilot.pause()
            whole_last_check(app, screen)
            # Once the file changes, the last check is still shown, and it says the file has changed.
            target.write_text(target.read_text() + "# edited\n")
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MapScreen))
            await open_exercise(pilot, "subsequent_mask")
            await pilot.pause()
            assert "changed since this check" in screen_text(app)

    asyncio.run(run())
    asyncio.run(later())


def test_reset_asks_and_backs_up(workspace: Path, small_pack: Path) -> None:
    target = workspace / "chapter09" / "subsequent_mask.py"
    target.write_text("# my work\n")

    async def run() -> None:
        app = make_app(workspace, small_pack, warm=False)
        async with app.run_test(size=(100, 32)) as pilot:
            await pilot.pause()
            await open_exercise(pilot, "subsequent_mask")
            await pilot.press("r")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("n")
            await pilot.pause()
            assert target.read_text() == "# my work\n"
            await pilot.press("r")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            await pilot.pause()

    asyncio.run(run())
    starter = (BUILTIN / "exercises" / "chapter09" / "subsequent_mask" / "starter.py").read_text()
    assert target.read_text() == starter
    backups = list((workspace / ".dl-course" / "backups").rglob("*subsequent_mask*"))
    assert backups and backups[0].read_text() == "# my work\n"


def test_reading_position_and_theme_are_kept(workspace: Path, small_pack: Path) -> None:
    async def first() -> None:
        app = make_app(workspace, small_pack, warm=False)
        async with app.run_test(size=(100, 32)) as pilot:
            await pilot.pause()
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ReaderScreen))
            await pilot.press("n", "n")
            await pilot.pause()
            await pilot.press("pagedown", "pagedown")
            await pilot.pause(0.3)
            await pilot.press("t")
            await pilot.pause()
            assert not app.current_theme.dark
            await pilot.press("escape")
            await pilot.pause()

    async def second() -> tuple[int, bool]:
        app = make_app(workspace, small_pack, warm=False)
        async with app.run_test(size=(100, 32)) as pilot:
            await pilot.pause()
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ReaderScreen))
            await pilot.pause(0.3)
            return app.screen.current, app.current_theme.dark

    asyncio.run(first())
    section, dark = asyncio.run(second())
    assert section == 2 and not dark


def test_help_and_no_workspace(tmp_path: Path, small_pack: Path) -> None:
    """Outside a workspace the lessons still open, and the map says how to start."""
    async def run() -> None:
        app = CourseApp(service.open_course(str(small_pack), cwd=tmp_path), warm=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert "dl-course start chapter9" in screen_text(app)
            await pilot.press("question_mark")
            await wait_for(pilot, lambda: isinstance(app.screen, TextScreen))
            assert "check your file" in app.screen.markdown
            await pilot.press("escape")
            await pilot.pause()
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ReaderScreen))

    asyncio.run(run())


def test_training_reports_reach_the_loss_plot(tmp_path: Path, small_pack: Path) -> None:
    """A suite's structured training reports cross from the judge to on_metric, and the plot grows."""
    from dl_course.course import load_pack
    from dl_course.grading.runner import Submission, grade
    from dl_course.tui.widgets import LossPlot

    suite = small_pack / "grader" / "chapter09" / "subsequent_mask" / "test_subsequent_mask.py"
    suite.write_text(suite.read_text() + '''

def test_trains(grade):
    """Reports its training"""
    for step in (1, 2, 3):
        grade.progress({"text": f"step {step}/3", "step": step, "steps": 3, "loss": 1.0 / step,
                        "losses": [1.0 / step]})
''')
    pack = load_pack(str(small_pack))
    ex = pack.exercise("subsequent_mask")
    learner = tmp_path / "subsequent_mask.py"
    learner.write_text(reference_source())
    events, lines = [], []
    [result] = grade(pack, [Submission(ex, learner, learner.name)], device="cpu", on_metric=events.append,
                     on_progress=lines.append)
    assert result.passed, result
    assert [e["step"] for e in events] == [1, 2, 3] and events[-1]["loss"] == pytest.approx(1 / 3)
    assert any("step 3/3" in line for line in lines)  # the text still reaches the status line

    async def run() -> None:
        app = make_app(tmp_path, small_pack, warm=False)
        async with app.run_test(size=(100, 32)) as pilot:
            await pilot.pause()
            app.push_screen(ExerciseScreen(ex))
            await pilot.pause()
            for event in events:
                app.screen._metric(event)
                await pilot.pause()
            plot = app.screen.query_one(LossPlot)
            assert plot.losses == pytest.approx([1.0, 0.5, 1 / 3])
            label = plot.query_one(".loss-label").render()
            assert "step 3/3" in str(label) and "0.3333" in str(label)

    asyncio.run(run())


def test_drawing_never_imports_torch(workspace: Path, small_pack: Path) -> None:
    """The map, a lesson and an exercise panel are drawn without torch in the process."""
    import subprocess
    import sys

    script = f"""
import asyncio, sys
from dl_course import service
from dl_course.tui.app import CourseApp

async def main():
    app = CourseApp(service.open_course({str(small_pack)!r}, cwd=__import__("pathlib").Path({str(workspace)!r})),
                    warm=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause(0.3)
        await pilot.press("escape", "down", "enter")
        await pilot.pause(0.3)
        print(type(app.screen).__name__)

asyncio.run(main())
print("torch" in sys.modules)
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["ExerciseScreen", "False"], proc.stdout


def test_leaving_while_a_check_runs(workspace: Path, small_pack: Path) -> None:
    """The learner goes back to the map mid-check: the app keeps going and says how it went."""
    async def run() -> None:
        app = make_app(workspace, small_pack)
        async with app.run_test(size=(100, 32)) as pilot:
            await pilot.pause()
            screen = await open_exercise(pilot, "subsequent_mask")
            await pilot.press("c", "escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MapScreen))
            await wait_for(pilot, lambda: not screen.checking)
            await pilot.pause(0.2)
            assert any("not yet" in str(n.message) for n in app._notifications)
            # The map shows the attempt once it is back in front.
            await open_exercise(pilot, "subsequent_mask")
            await pilot.press("escape")
            await pilot.pause(0.2)
            assert "failed" in screen_text(app)

    asyncio.run(run())


def test_watch_checks_on_save(workspace: Path, small_pack: Path) -> None:
    target = workspace / "chapter09" / "subsequent_mask.py"

    async def run() -> None:
        app = make_app(workspace, small_pack)
        async with app.run_test(size=(100, 32)) as pilot:
            await pilot.pause()
            screen = await open_exercise(pilot, "subsequent_mask")
            await pilot.press("w")
            await pilot.pause(0.5)  # the watcher is up
            assert screen.watching
            target.write_text(reference_source())
            await wait_for(pilot, lambda: screen.result is not None and not screen.checking)
            assert screen.result.passed
            await pilot.press("w")
            assert not screen.watching

    asyncio.run(run())


def test_start_a_chapter_from_the_map(tmp_path: Path, small_pack: Path) -> None:
    """In an empty folder, s on a chapter creates the workspace and its files, as `dl-course start`."""
    (tmp_path / "chapter09").mkdir()
    mine = tmp_path / "chapter09" / "subsequent_mask.py"
    mine.write_text("# already mine\n")

    async def run() -> None:
        app = CourseApp(service.open_course(str(small_pack), cwd=tmp_path), warm=False, course=str(small_pack),
                        cwd=tmp_path)
        async with app.run_test(size=(100, 32)) as pilot:
            await pilot.pause()
            await pilot.press("s")
            await pilot.pause(0.3)
            assert app.ctx.workspace is not None and app.ctx.workspace.root == tmp_path
            assert "Workspace:" in screen_text(app)

    asyncio.run(run())
    assert (tmp_path / "dl-course.toml").is_file()
    assert mine.read_text() == "# already mine\n"  # never overwritten
    assert (tmp_path / "chapter09" / "README.md").is_file()


def test_the_mouse_opens_an_exercise(workspace: Path, small_pack: Path) -> None:
    async def run() -> None:
        from dl_course.tui.screens.map import ExerciseItem

        app = make_app(workspace, small_pack, warm=False)
        async with app.run_test(size=(100, 32)) as pilot:
            await pilot.pause()
            await pilot.click(ExerciseItem)
            await wait_for(pilot, lambda: isinstance(app.screen, ExerciseScreen))
            assert app.screen.exercise.id == "subsequent_mask"

    asyncio.run(run())


def test_contents_list_every_section_and_jump(workspace: Path, small_pack: Path) -> None:
    """c lists all of the chapter's sections (not only the current one's headings); Enter on the
    8th of 11 goes there at once. The header names the chapter once."""
    from textual.widgets import Tree

    async def run() -> None:
        app = make_app(workspace, small_pack, warm=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ReaderScreen))
            reader = app.screen
            await pilot.pause()
            assert reader.sub_title.startswith("Chapter 9 · 1/11 · ") and reader.sub_title.count("Chapter 9") == 1, \
                reader.sub_title
            await pilot.press("c")
            await pilot.pause()
            tree = reader.query_one("#contents", Tree)
            assert tree.display and tree.has_focus
            sections = [n for n in tree.root.children if n.data[0] == "section"]
            assert len(sections) == 11
            shown = "\n".join(shown_lines(app))
            for title in ("The data: finishing a square", "The target (subsequent) mask", "Putting it together"):
                assert title in shown, shown
            for _ in range(40):  # down to the 8th section, as a learner would
                if tree.cursor_node is not None and tree.cursor_node.data == ("section", 7):
                    break
                await pilot.press("down")
            await pilot.press("enter")
            await pilot.pause(0.2)
            assert reader.current == 7 and "8/11 · The target (subsequent) mask" in reader.sub_title
            assert not tree.display  # at 80 columns the contents make room for the text again
            # The headings of the section being read are listed under it, and lead to them.
            await pilot.press("c")
            await pilot.pause()
            headings = [n for n in tree.root.children if n.data[0] == "heading"]
            assert headings
            await pilot.press("escape")  # Esc closes the contents first, and stays in the lesson
            await pilot.pause()
            assert isinstance(app.screen, ReaderScreen) and not tree.display
            await pilot.press("c")
            await pilot.pause()
            for _ in range(10):
                if tree.cursor_node.data[0] == "heading":
                    break
                await pilot.press("down")
            await pilot.press("down", "down", "enter")
            await pilot.pause(0.3)
            assert reader.current == 7 and reader.query_one("#lesson").scroll_y > 0

    asyncio.run(run())


def test_map_and_picker_rows_fit_on_one_line(tmp_path: Path) -> None:
    """Each exercise is one line: its status never wraps onto a line of its own; a title is cut
    (with …) only when the width runs out, and whole when there is room."""
    from conftest import make_pack

    long_title = "Decoder layer with masked self-attention and cross-attention"
    pack = make_pack(tmp_path / "pack", clones={"long_one": {"title": long_title}})
    ws = tmp_path / "work"
    ws.mkdir()
    service.start("chapter9", str(pack), cwd=ws)

    async def run(size) -> tuple[list[str], list[str]]:
        app = make_app(ws, pack, warm=False)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            on_map = shown_lines(app)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ReaderScreen))
            await pilot.press("x")
            await pilot.pause(0.3)
            in_picker = shown_lines(app)
            return on_map, in_picker

    for size in ((80, 24), (140, 40)):
        for lines in asyncio.run(run(size)):
            row = next(line for line in lines if "long_one" in line)
            assert "started" in row, (size, row)
            assert not any(line.strip().strip("│▊▎ ") in ("started", "not started") for line in lines), lines
            if size[0] == 140:
                assert long_title in row, row
            else:
                assert "…" in row, row


def test_wrapped_check_titles_hang_under_their_title(workspace: Path, small_pack: Path) -> None:
    """A check title too long for the line continues under the title's first letter, not under
    the mark."""
    from dl_course.tui.widgets import ResultView

    title = "The gradient with respect to every parameter matches the reference under a random upstream gradient"
    checks = [{"name": "loads", "title": "Your file imports cleanly", "status": "passed"},
              {"name": "grad_params", "title": title, "status": "passed"}]

    async def run() -> None:
        app = make_app(workspace, small_pack, warm=False)
        async with app.run_test(size=(60, 30)) as pilot:
            await pilot.pause()
            screen = await open_exercise(pilot, "subsequent_mask")
            screen._show(ResultView(checks=checks))
            await pilot.pause(0.2)
            lines = shown_lines(app)
            first = next(i for i, line in enumerate(lines) if "grad_params" in line)
            column = lines[first].index("The gradient")
            rest = lines[first + 1]
            assert rest[:column].strip() == "" and rest[column] != " ", (lines[first], rest)

    asyncio.run(run())


def test_lesson_code_fits_at_80_columns_and_wider_code_scrolls(workspace: Path, small_pack: Path) -> None:
    """At 80×24 a 76-column code line is shown whole; a wider one scrolls sideways (with a bar)
    instead of being clipped."""
    from textual.widgets._markdown import MarkdownFence

    fits = "x = 1  # " + "a" * 67
    wide = "y = 2  # " + "b" * 100
    assert len(fits) == 76
    lesson = small_pack / "curriculum" / "chapter09" / "00-overview.md"
    lesson.write_text(f"# Code\n\n```python\n{fits}\n```\n\n```python\n{wide}\n```\n" + lesson.read_text())

    async def run() -> None:
        app = make_app(workspace, small_pack, warm=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ReaderScreen))
            await pilot.pause(0.3)
            fences = list(app.screen.query(MarkdownFence))
            assert fences[0].max_scroll_x == 0
            assert fits in "\n".join(shown_lines(app))
            assert fences[1].max_scroll_x > 0 and fences[1].show_horizontal_scrollbar
            fences[1].scroll_to(x=fences[1].max_scroll_x, animate=False)
            await pilot.pause(0.2)
            assert "bbbb" in "\n".join(shown_lines(app))

    asyncio.run(run())
