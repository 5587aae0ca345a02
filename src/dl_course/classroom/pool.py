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
from typing import Any, Iterator

from dl_course.classroom.tasks import grade_batch

__all__ = ["local_answers"]


def local_answers(tasks: list[dict[str, Any]], workers: int) -> Iterator[list[dict[str, Any]]]:
    """Grade `tasks` on `workers` concurrent judges; yield each batch's answers as it finishes.

    Closing the iterator (Ctrl-C in the caller) stops the workers from starting new batches.
    """
    todo: "queue.Queue[dict[str, Any]]" = queue.Queue()
    for task in tasks:
        todo.put(task)
    done: "queue.Queue[list[dict[str, Any]]]" = queue.Queue()
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set():
            try:
                task = todo.get_nowait()
            except queue.Empty:
                return
            try:
                answers = grade_batch(task)
            except Exception as e:  # noqa: BLE001 - report it on the batch's submissions, keep going
                answers = [{"key": item["key"], "infra": f"grading this batch failed: {type(e).__name__}: {e}"}
                           for item in task["items"]]
            done.put(answers)

    threads = [threading.Thread(target=work, name=f"dl-course-worker-{i}", daemon=True)
               for i in range(max(1, min(workers, len(tasks))))]
    for t in threads:
        t.start()
    try:
        for _ in range(len(tasks)):
            while True:
                try:
                    answers = done.get(timeout=0.2)  # a short wait keeps Ctrl-C responsive
                    break
                except queue.Empty:
                    if not any(t.is_alive() for t in threads) and done.empty():
                        return
            yield answers
    finally:
        stop.set()
