"""dl-course: a terminal course in deep learning for sequences that grades your own PyTorch code.

Importing this package is cheap: nothing here imports torch. The grading runtime
(`dl_course.grading.judge`, `dl_course.grading.learner`) does, in its own processes.
"""

__version__ = "0.1.0"
__all__ = ["__version__", "check", "load_ipython_extension"]


def load_ipython_extension(ipython):
    """`%load_ext dl_course`: adds `%check ID` and `%hint ID` (see dl_course.jupyter)."""
    from dl_course.jupyter import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython):
    from dl_course.jupyter import unload_ipython_extension as unload

    unload(ipython)


def check(*exercises, **options):
    """In a notebook: grade the exercises' cells from the saved notebook file, show the result, and
    return it (a `Report`: `.passed`, `.score`, `.checks`, displayed as HTML; see dl_course.jupyter.check)."""
    from dl_course.jupyter import check as run

    return run(*exercises, **options)
