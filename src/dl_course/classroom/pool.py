"""A local pool of warm workers: N concurrent judges, each grading one batch at a time.

Each worker is a thread of this (torch-free) process that hands a batch to `grade_batch`,
which runs it in one judge process: torch is imported once per batch and every submission
still gets a fresh, isolated learner process forked from the judge's warm zygote. Answers
come back to the caller batch by batch, in the caller's thread, as they finish — the caller
(and only it) writes the gradebook.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable, Iterator

from dl_course.classroom.tasks import grade_batch

__all__ = ["local_answers"]


_STARTS = ": Your file imports cleanly"  # the judge's progress line as a submission's first check starts


def local_answers(tasks: list[dict[str, Any]], workers: int,
                  on_finished: Callable[[int], None] | None = None) -> Iterator[tuple[list[dict[str, Any]], int]]:
    """Grade `tasks` on `workers` concurrent judges; yield each batch's answers as it finishes,
    with how many of them `on_finished` was already told about.

    While a batch runs, `on_finished(1)` is called (in the caller's thread) each time one of its
    submissions is done (seen as the next one starting), so a progress bar moves between batches.
    Closing the iterator (Ctrl-C in the caller) stops the workers from starting new batches.
    """
    todo: "queue.Queue[tuple[int, dict[str, Any]]]" = queue.Queue()
    for n, task in enumerate(tasks):
        todo.put((n, task))
    done: "queue.Queue[tuple[str, int, Any]]" = queue.Queue()
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set():
            try:
                n, task = todo.get_nowait()
            except queue.Empty:
                return

            def progress(line: Any, n: int = n) -> None:
                if isinstance(line, str) and line.endswith(_STARTS):
                    done.put(("started", n, None))

            try:
                answers = grade_batch(task, on_progress=progress)
            except Exception as e:  # noqa: BLE001 - report it on the batch's submissions, keep going
                answers = [{"key": item["key"], "infra": f"grading this batch failed: {type(e).__name__}: {e}"}
                           for item in task["items"]]
            done.put(("answers", n, answers))

    threads = [threading.Thread(target=work, name=f"dl-course-worker-{i}", daemon=True)
               for i in range(max(1, min(workers, len(tasks))))]
    for t in threads:
        t.start()
    started = [0] * len(tasks)
    told = [0] * len(tasks)
    try:
        for _ in range(len(tasks)):
            while True:
                try:
                    kind, n, answers = done.get(timeout=0.2)  # a short wait keeps Ctrl-C responsive
                except queue.Empty:
                    if not any(t.is_alive() for t in threads) and done.empty():
                        return
                    continue
                if kind == "answers":
                    break
                started[n] += 1
                if started[n] > 1 and told[n] < len(tasks[n]["items"]) - 1 and on_finished is not None:
                    told[n] += 1
                    on_finished(1)
            yield answers, told[n]
    finally:
        stop.set()
