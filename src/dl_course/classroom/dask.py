"""The same batches on a Dask distributed cluster (`dl-course grade --scheduler tcp://HOST:8786`).

Each worker calls `grade_batch` (so it needs dl-course and the course pack installed, at the
same path for a `--course` pack) and sends back plain dicts; the gradebook is written only by
this, the client's, process. A batch whose worker is lost is retried by Dask; one that still
fails is split and each submission tried alone once, and whatever then fails is reported as
not graded (never recorded, so the next run tries it again).

`distributed` is imported only here, only when a scheduler is given.
"""

from __future__ import annotations

from typing import Any, Iterator

from dl_course.errors import CourseError

__all__ = ["dask_answers"]


def _client(address: str):
    try:
        from distributed import Client
    except ImportError:
        raise CourseError("--scheduler needs Dask distributed: pip install 'dl-course[class]' "
                          "(or pip install 'distributed>=2024')") from None
    try:
        return Client(address, timeout=30)
    except (OSError, TimeoutError) as e:
        raise CourseError(f"cannot reach the Dask scheduler at {address} ({e}); start one with "
                          "`dask scheduler` and workers with `dask worker ADDRESS`") from None


def dask_answers(tasks: list[dict[str, Any]], address: str) -> Iterator[tuple[list[dict[str, Any]], int]]:
    """Submit every batch to the cluster; yield each batch's answers as it finishes (and 0: no
    progress is reported while a batch runs on the cluster)."""
    from distributed import as_completed

    from dl_course.classroom.tasks import grade_batch

    client = _client(address)
    try:
        if not client.scheduler_info().get("workers"):
            client.wait_for_workers(1, timeout=60)
        futures = {client.submit(grade_batch, task, pure=False, retries=1): task for task in tasks}
        pending = as_completed(list(futures))
        for future in pending:
            task = futures.pop(future)
            try:
                yield future.result(), 0
                continue
            except Exception as e:  # noqa: BLE001 - a lost worker, a crash: try smaller pieces
                error = f"{type(e).__name__}: {e}"
            if len(task["items"]) > 1:
                for item in task["items"]:
                    single = {**task, "items": [item]}
                    retry = client.submit(grade_batch, single, pure=False)
                    futures[retry] = single
                    pending.add(retry)
            else:
                yield [{"key": item["key"], "infra": f"the Dask cluster could not grade it ({error})"}
                       for item in task["items"]], 0
    finally:
        for future in list(futures):
            future.cancel()
        client.close()
