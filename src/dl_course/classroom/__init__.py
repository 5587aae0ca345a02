"""Grading a class: collect submissions, grade them on a pool or a Dask cluster, keep a gradebook, export.

    collect.py     find the students in SUBMISSIONS and match their files to exercises
    gradebook.py   the SQLite gradebook in --out (verdicts keyed by student, exercise, code, exercise version)
    tasks.py       a batch of submissions as plain data, and the function that grades one batch
    pool.py        a local pool of N concurrent judges
    dask.py        the same batches on a Dask distributed cluster
    run.py         one `dl-course grade` run: plan what needs grading, grade it, record it
    export.py      grades.csv, grades.json and the misconception report
    gradescope.py  a Gradescope autograder's results.json

Nothing here imports torch: grading happens in the judge's processes, as for `dl-course check`.
"""
