"""Waiting for the learner to save: used by the TUI's watch mode and `dl-course check --watch`.

Watches the folders holding the files (editors often save by writing a new file and renaming
it over the old one) and reports a change to one of the files, debounced so that one save is
one check.
"""

from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator, Iterable, Iterator

__all__ = ["changes", "changes_sync", "DEBOUNCE_MS"]

DEBOUNCE_MS = 300


def _filter(paths: Iterable[Path]):
    wanted = {Path(p).resolve() for p in paths}

    def keep(_change, name: str) -> bool:
        return Path(name).resolve() in wanted

    return keep


async def changes(*paths: Path) -> AsyncIterator[set[Path]]:
    """Each time one of `paths` changes on disk, the set of those that changed."""
    from watchfiles import awatch

    folders = sorted({str(Path(p).resolve().parent) for p in paths})
    async for batch in awatch(*folders, watch_filter=_filter(paths), debounce=DEBOUNCE_MS, step=50):
        yield {Path(name) for _, name in batch}


def changes_sync(paths: Iterable[Path], stop_event=None, idle_ms: int | None = None) -> Iterator[set[Path]]:
    """The blocking form of `changes`, for the command line.

    With `idle_ms`, an empty set also comes every `idle_ms` without a change, so the caller can
    look at the files itself (one deleted before the watch began sends no event)."""
    from watchfiles import watch

    paths = list(paths)
    folders = sorted({str(Path(p).resolve().parent) for p in paths})
    timing = {} if idle_ms is None else {"rust_timeout": idle_ms, "yield_on_timeout": True}
    for batch in watch(*folders, watch_filter=_filter(paths), debounce=DEBOUNCE_MS, step=50, stop_event=stop_event,
                       **timing):
        yield {Path(name) for _, name in batch}
