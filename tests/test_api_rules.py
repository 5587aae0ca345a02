"""Forbidden APIs reached by every route the issue found: none may pass `dot_product_attention`
(which forbids `F.scaled_dot_product_attention`), and the honest reference still does.

Each route gets the math right (weights by hand, the context from the forbidden kernel), so
only the API rule can fail it: the kernels raise at the dispatcher for the whole session, and
the judge reads the source for reaching into torch's internals.
"""

from __future__ import annotations

import textwrap

import pytest

from conftest import Cli, reference_source

HEAD = """
import math
import torch
import torch.nn.functional as F


def _weights(query, key, mask):
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1)
"""

ROUTES = {
    "popped_mode_stack": """
        def dot_product_attention(query, key, value, mask=None):
            while torch._C._len_torch_function_stack():
                torch._C._pop_torch_function_stack()
            return F.scaled_dot_product_attention(query, key, value, attn_mask=mask), _weights(query, key, mask)
    """,
    "disable_torch_function": """
        def dot_product_attention(query, key, value, mask=None):
            with torch._C.DisableTorchFunction():
                out = F.scaled_dot_product_attention(query, key, value, attn_mask=mask)
            return out, _weights(query, key, mask)
    """,
    "math_variant": """
        def dot_product_attention(query, key, value, mask=None):
            out, weights = torch._scaled_dot_product_attention_math(query, key, value, attn_mask=mask)
            return out, weights
    """,
    "watch_patched": """
        import dl_course.grading.sandbox as fence
        fence.ApiWatch.record = lambda self, name: None

        def dot_product_attention(query, key, value, mask=None):
            return F.scaled_dot_product_attention(query, key, value, attn_mask=mask), _weights(query, key, mask)
    """,
    # Reaches the grader's runtime without naming it in the source, lifts the dispatcher fence and
    # the watch, and clears what the watch saw: full marks on the code before this change.
    "fences_lifted_through_exec": """
        exec("import dl_" + "course.grading.sandbox as s\\ns._LIBRARY._destroy()\\n"
             "s.ApiWatch.record = lambda *a, **k: None\\nimport g" + "c\\n"
             "[o.seen.clear() for o in g" + "c.get_objects() if isinstance(o, s.ApiWatch)]")

        def dot_product_attention(query, key, value, mask=None):
            fn = F.scaled_dot_product_attention
            return fn(query, key, value, attn_mask=mask), _weights(query, key, mask)
    """,
    "modules_by_vars": """
        import sys
        vars(sys)["mod" + "ules"]["dl_" + "course.grading.sandbox"]._LIBRARY._destroy()

        def dot_product_attention(query, key, value, mask=None):
            return F.scaled_dot_product_attention(query, key, value, attn_mask=mask), _weights(query, key, mask)
    """,
    "subclass_walk": """
        LIB = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == "Library"]

        def dot_product_attention(query, key, value, mask=None):
            return F.scaled_dot_product_attention(query, key, value, attn_mask=mask), _weights(query, key, mask)
    """,
    "by_name_at_run_time": """
        def dot_product_attention(query, key, value, mask=None):
            fn = getattr(F, "scaled_" + "dot_product_attention")
            return fn(query, key, value, attn_mask=mask), _weights(query, key, mask)
    """,
}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    ws = tmp_path_factory.mktemp("api")
    cli = Cli(ws, None)
    assert cli("start", "chapter9", "--no-tui").returncode == 0
    return cli, ws / "chapter09" / "dot_product_attention.py"


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_a_forbidden_kernel_is_refused_by_any_route(workspace, route):
    cli, path = workspace
    path.write_text(HEAD + textwrap.dedent(ROUTES[route]))
    code, report = cli.json("check", "dot_product_attention")
    result = report["results"][0]
    assert code == 1 and not result["passed"], result
    failed = [c for c in result["checks"] if c["status"] == "failed"]
    text = " ".join(c["message"] for c in failed)
    assert "forbid" in text or "does not allow" in text, text


def test_the_reference_still_passes(workspace):
    cli, path = workspace
    path.write_text(reference_source("dot_product_attention"))
    code, report = cli.json("check", "dot_product_attention")
    assert code == 0, report["results"][0]["checks"]


def test_forbidding_a_recurrent_layer_leaves_its_cell_usable(tmp_path):
    """Forbidding nn.RNN (the layer) fences the layer's kernels, not the cell's: an exercise that
    forbids the layer hands the learner the cell to run over a sequence. Forbidding the cell fences both."""
    import subprocess
    import sys

    script = tmp_path / "fence.py"
    script.write_text(textwrap.dedent("""
        import sys, torch
        from dl_course.grading.sandbox import forbid_at_dispatcher, op_families
        forbid_at_dispatcher(op_families(sys.argv[1:]))
        x = torch.randn(2, 3, 4)
        def runs(f):
            try:
                f()
                return "runs"
            except RuntimeError as e:
                return "refused" if "forbidden" in str(e) else f"other: {e}"
        print(runs(lambda: torch.nn.RNNCell(4, 5)(x[:, 0])), runs(lambda: torch.nn.RNN(4, 5, batch_first=True)(x)),
              runs(lambda: torch.nn.GRUCell(4, 5)(x[:, 0])))
    """))

    def fenced(*names):
        proc = subprocess.run([sys.executable, str(script), *names], capture_output=True, text=True, timeout=120)
        return proc.stdout.split(), proc.stderr

    assert fenced("torch.nn.RNN")[0] == ["runs", "refused", "runs"], fenced("torch.nn.RNN")
    assert fenced("torch.nn.RNNCell")[0] == ["refused", "refused", "runs"]
    assert fenced("torch.nn.GRU", "torch.nn.GRUCell")[0] == ["runs", "runs", "refused"]


def test_forbidding_group_norm_fences_its_kernels_whatever_the_route(tmp_path):
    """Group norm with one group is a layer norm once reshaped: forbidden, its aten kernels raise
    at the dispatcher too (torch.ops.aten.native_group_norm), not only the Python name."""
    import subprocess
    import sys

    script = tmp_path / "fence.py"
    script.write_text(textwrap.dedent("""
        import torch
        from dl_course.grading.sandbox import forbid_at_dispatcher, op_families
        forbid_at_dispatcher(op_families(["torch.nn.functional.group_norm"]))
        x = torch.randn(4, 6, 1)
        try:
            torch.ops.aten.native_group_norm(x, None, None, 4, 6, 1, 1, 1e-5)
            print("runs")
        except RuntimeError as e:
            print("refused" if "forbidden" in str(e) else f"other: {e}")
        print("ok", float(torch.nn.functional.layer_norm(x[..., 0], (6,)).sum().abs() < 1e-4))
    """))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert proc.stdout.split() == ["refused", "ok", "1.0"], proc.stdout + proc.stderr
