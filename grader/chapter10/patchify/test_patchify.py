"""Hidden suite: patchify, (N, C, H, W) -> (N, P, C·p·p).

Values and gradients against the reference; then the judge of the order: PyTorch's own patch
embedding, nn.Conv2d(C, D, kernel_size=p, stride=p), whose output (flattened, transposed) must
equal the learner's patches times the conv's weight flattened, plus its bias.
"""

import torch

from dl_course.grading.targets import LocalTarget
from dl_course.grading.wire import TensorData, decode, encode

WHAT = "patchify(images, patch_size)"

# Square and oblong images, one and several channels, patches of 1 pixel, of the whole image, and
# the book's 12×12 images cut in 4×4 patches.
GRID = [
    dict(n=1, c=1, h=4, w=4, p=2),
    dict(n=1, c=2, h=3, w=2, p=1),
    dict(n=2, c=3, h=4, w=4, p=4),
    dict(n=2, c=1, h=12, w=12, p=4),
    dict(n=2, c=3, h=8, w=8, p=4),
    dict(n=1, c=3, h=6, w=9, p=3),
    dict(n=3, c=2, h=8, w=12, p=2),
    dict(n=2, c=3, h=16, w=8, p=4),
]
SMALL = [GRID[0], GRID[4], GRID[5]]


def images(c):
    return c.randn(c.n, c.c, c.h, c.w)


def probe(t, c):
    return t.call("patchify", images(c), c.p)


def probe_grads(t, c):
    return t.call("patchify", images(c), c.p, grads=c.seed, names=("images",))


# -- against nn.Conv2d -----------------------------------------------------------------------------

EMBED = 5  # D, the width of the patch embedding


class ConvTarget(LocalTarget):
    """nn.Conv2d(C, D, kernel_size=p, stride=p) itself: what the patches, times its weight, must give."""

    conv = True


conv_embedding = ConvTarget({}, "nn.Conv2d(C, D, kernel_size=p, stride=p)")


def probe_conv(t, c):
    x = images(c)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(c.seed)
        conv = torch.nn.Conv2d(c.c, EMBED, kernel_size=c.p, stride=c.p).to(c.dtype)
    with torch.no_grad():
        if getattr(t, "conv", False):
            return decode(encode(conv(x).flatten(2).transpose(1, 2)))
        patches = t.call("patchify", x, c.p)["output"]
        if not isinstance(patches, TensorData) or patches.values is None:
            return "patchify did not return a tensor"
        want = (c.n, (c.h // c.p) * (c.w // c.p), c.c * c.p * c.p)
        if patches.shape != want or not patches.values.is_floating_point():
            return f"patchify gave {patches!r}, where a float tensor of shape {want} was expected"
        values = patches.values.to(c.dtype)
        return decode(encode(values @ conv.weight.flatten(1).T + conv.bias))


# -- checks ------------------------------------------------------------------------------------------

def test_shape(grade):
    """Returns (N, P, C·p·p), P = (H/p)·(W/p)"""
    grade.compare(probe, GRID, level="shape", dtypes=("float32",), what=WHAT)


def test_dtype(grade):
    """Keeps the images' dtype (float32 and float64)"""
    grade.compare(probe, GRID, level="dtype", what=WHAT)


def test_values(grade):
    """Patches in reading order, each flattened channel, row, column"""
    grade.compare(probe, GRID, level="values", what=WHAT, figure=True,
                  figure_title="the patches of image 0 (row: patch, column: value inside the patch)")


def test_matches_conv(grade):
    """patchify(x) @ W.flatten(1).T + b equals nn.Conv2d(C, D, p, stride=p)'s patch embedding"""
    grade.compare(probe_conv, GRID, level="values", against=conv_embedding,
                  what="patchify(x, p) @ conv.weight.flatten(1).T + conv.bias, against "
                       "conv(x).flatten(2).transpose(1, 2)")


def test_gradients(grade):
    """Gradients reach the images, each pixel's from its own place in its own patch"""
    grade.compare(probe_grads, GRID, grads=True, what=WHAT + " then backward")


def test_device(grade):
    """Works on whatever device the images live on"""
    grade.portable(probe, SMALL, what=WHAT)
