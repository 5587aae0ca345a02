"""The judge process: runs hidden suites against the learner's code and prints the verdict as JSON.

Started by `runner` as `python -I -m dl_course.grading.judge`, with the job as JSON on stdin.
It starts the learner zygote and imports torch and pytest *before* reading the job (so a judge
started ahead of time is warm when the job comes, and a cold one loses nothing), then runs pytest
on the hidden suites with its own rootdir and ini, no conftest, no plugin autoload and no
cache, and writes exactly one JSON document to stdout. Whatever happens, a verdict is written.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from typing import Any

__all__ = ["main"]

# Plugins the hidden suites do not need: off for speed (unraisableexception alone runs
# gc.collect after every test) and so nothing reads or writes outside the judge's temp dir.
_UNUSED_PLUGINS = ("cacheprovider", "stepwise", "unraisableexception", "threadexception", "faulthandler",
                   "logging", "doctest", "junitxml", "pastebin", "legacypath", "tmpdir", "debugging", "warnings")


def _crashed(job: dict[str, Any], message: str) -> list[dict[str, Any]]:
    return [{"exercise": e["id"], "title": e.get("title", ""), "passed": False, "score": 0,
             "max_score": e.get("points", 0), "diagnosis": None, "duration_s": 0.0, "seed": job.get("seed"),
             "devices": job.get("devices", ["cpu"]), "checks": [], "output": "", "error": message,
             "file": e.get("display_file")} for e in job.get("exercises", [])]


# The judge's own bound: it holds references, known mistakes and the learner's decoded answers of
# one batch, far below this. RLIMIT_DATA (private writable memory), not RLIMIT_AS, so that CUDA,
# which reserves host address space of about twice the GPU's memory, still starts. Its learner
# processes inherit it and lower it further (see sandbox.apply_limits).
JUDGE_MEMORY = 8 * 1024**3


def _limit_self() -> None:
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return
    from dl_course.grading.fences import cap

    cap([(resource.RLIMIT_CORE, 0), (resource.RLIMIT_DATA, JUDGE_MEMORY)])


def main() -> int:
    sys.dont_write_bytecode = True
    _limit_self()  # -I ignores PYTHONDONTWRITEBYTECODE; keep the pack's folders clean
    out = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # pytest and everything else print nowhere; only the verdict goes out
    results: list[dict[str, Any]]
    zygote = plugin = None
    job: dict[str, Any] = {}
    try:
        # Warm up before the job arrives: a judge started ahead of time (the TUI, --watch) is
        # then ready the moment the learner asks for a check. Started cold, it costs the same.
        from dl_course.grading.session import Zygote

        zygote = Zygote()
        import pytest
        import torch  # noqa: F401 - the hidden suites and the plugin need it

        from dl_course.grading.plugin import JudgePlugin
        from dl_course.grading.targets import same_bytes

        zygote.wait_ready()
        job = json.load(sys.stdin)
        if "cuda" in job.get("devices", []):
            if not torch.cuda.is_available():
                raise RuntimeError("CUDA was asked for, but torch sees no GPU here")
        with tempfile.TemporaryDirectory(prefix="dl-course-judge-") as root:
            # Each submission gets its own copy of its suite, so one exercise can be graded many
            # times in one session (author validate, a class). The learner may not read it.
            job["hidden_dirs"] = list(job.get("hidden_dirs", [])) + [root]
            for i, entry in enumerate(job["exercises"]):
                copy = os.path.join(root, f"s{i}", os.path.basename(entry["suite"]))
                os.makedirs(os.path.dirname(copy))
                shutil.copyfile(entry["suite"], copy)
                with open(copy, "rb") as f:  # the copy is what pytest runs
                    same_bytes(f.read(), (entry.get("digests") or {}).get("suite"), "hidden suite", entry["id"])
                entry["suite"] = copy
            plugin = JudgePlugin(job, zygote)
            # Every reference and known mistake is hashed and imported before any learner code
            # runs, so nothing a submission does to the files later (were it to reach them) enters
            # the judge, and nothing but the bytes the CLI read is graded against.
            for entry in job["exercises"]:
                digests = entry.get("digests") or {}
                plugin._module(entry["solution"], "reference", entry["id"], digests.get("solution"))
                if entry.get("mistakes") and os.path.isfile(entry["mistakes"]):
                    plugin._module(entry["mistakes"], "mistakes", entry["id"], digests.get("mistakes"))
            ini = os.path.join(root, "pytest.ini")
            with open(ini, "w") as f:
                f.write("[pytest]\n")
            args = [e["suite"] for e in job["exercises"]] + [
                "-c", ini, "--rootdir", root, "--noconftest", "--import-mode=importlib", "-q", "--no-header",
                "--assert=plain", "-s", "-o", "console_output_style=classic",
            ]
            for name in _UNUSED_PLUGINS:
                args += ["-p", f"no:{name}"]
            pytest.main(args, plugins=[plugin])
        results = plugin.results()
    except BaseException as exc:  # noqa: BLE001 - always emit a verdict
        import traceback

        if not job:  # failed while warming up: still answer the job that was sent
            try:
                job = json.load(sys.stdin)
            except (ValueError, OSError):
                job = {}

        detail = "".join(traceback.format_exception(exc))[-4000:] if job.get("author") else str(exc)
        results = _crashed(job, f"the grader crashed: {detail}")
    # The verdict goes out first, then the zygote stops; the runner trusts the verdict only once this
    # process has exited with status 0 (one killed after writing something is not a judge that finished).
    out.write(json.dumps({"version": 1, "nonce": job.get("nonce"), "results": results}))
    out.flush()
    out.close()
    # The plugin may have replaced a zygote that a submission killed: close the one in use.
    current = getattr(plugin, "zygote", zygote)
    if current is not None:
        current.close()
    return 0


if __name__ == "__main__":
    status = main()
    # Nothing is left to tidy (the zygote is stopped, the temp folders are gone): exit now rather
    # than wait for the interpreter to unload torch, since the runner takes the verdict only once
    # this process has exited with status 0.
    sys.stderr.flush()
    os._exit(status)
