"""A chapter as a Jupyter notebook, graded exactly like the exercise files.

Writing (`dl-course notebook chapter9`): `chapter09.ipynb` in the workspace holds the lesson as
Markdown cells and, per exercise, a code cell with the starter. That cell is found by its tag,
never by its position or text: `metadata["dl_course"] = {"exercise": ID}` and the cell tag
`dl-course:ID` (either one is enough, so a learner can tag a cell from Jupyter's tag editor).

Grading (`dl-course check chapter09.ipynb [ID…]`, or `%check ID` in the notebook): exercise ID is
graded as one Python file, put together like a "Restart & Run All" that stops after ID's cell:

    every code cell from the top of the notebook down to ID's cell, in order,
    except cells tagged `dl-course-skip` (the "try it" cells, or any the learner tags);
    IPython lines (`%magic`, `!shell`) in a cell that is not plain Python become `pass`,
    and a cell that starts with a cell magic (`%%time`) is left out;
    a cell above that is not valid Python is left out too, unless ID needs it: unless it is
    an exercise ID builds on, or it defines a name ID's code uses (see `notebook_deps`).

Each cell starts with a `# cell N` line in that file, so an error's line maps back to
"cell N, line M" (N counts every cell, Markdown included, from 1). The file is written to
`.dl-course/notebooks/<notebook name>/<exercise file>` in the workspace (beside copies of the
pack's support files) and graded by the same runner, with the same isolation, as a `.py` file;
attempts go to the same progress store. Cells below ID's cell are never part of its grading.

Nothing here imports torch; nbformat is imported only when a notebook is read or written.

The code lives in two modules: `read` (reading a notebook, putting an exercise's cells together,
grading it and mapping its messages back to cells) and `build` (writing a chapter's notebook from
the course pack); every public name is importable from here.
"""

from __future__ import annotations

from dl_course.notebook.build import NotebookReport, build_notebook, starter_for_notebook, write_notebook
from dl_course.notebook.read import (SKIP_TAG, TAG_PREFIX, Assembled, NotebookCell, NotebookCheck, assemble,
                                     exercise_cells, load_notebook, locate_line, map_result, plan_check,
                                     python_source, read_cells)

__all__ = ["TAG_PREFIX", "SKIP_TAG", "NotebookCell", "Assembled", "NotebookReport", "NotebookCheck",
           "build_notebook", "write_notebook", "read_cells", "exercise_cells", "assemble", "plan_check",
           "locate_line", "map_result", "load_notebook", "python_source", "starter_for_notebook"]
