"""dl-course: a terminal course in deep learning for sequences that grades your own PyTorch code.

Importing this package is cheap: nothing here imports torch. The grading runtime
(`dl_course.grading.judge`, `dl_course.grading.learner`) does, in its own processes.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
