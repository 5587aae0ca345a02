"""Hidden suite: padding_mask ((N, L, F) -> (N, 1, L) bool, True = real data)."""

WHAT = "padding_mask(seq, pad_value)"

# pad=None calls padding_mask(seq) with the default pad value (0). Every case with F > 1 has a real
# point with a coordinate equal to the pad value; every sequence but the first has a padded tail.
GRID = [
    dict(n=1, l=1, f=2, pad=None),
    dict(n=1, l=5, f=3, pad=None),
    dict(n=2, l=4, f=1, pad=None),
    dict(n=3, l=6, f=4, pad=None),
    dict(n=4, l=7, f=3, pad=-1.0),
    dict(n=3, l=8, f=2, pad=0.5),
]


def make_seq(c):
    """A padded batch: random real points, some coordinates equal to the pad value, padded tails."""
    pad = 0.0 if c.pad is None else c.pad
    seq = c.randn(c.n, c.l, c.f)
    # Real points with some coordinates equal to the pad value (never all of them).
    holes = c.rand(c.n, c.l, c.f) < 0.35
    holes[..., -1] = False
    if c.f > 1:
        holes[:, 0, 0] = True  # position 0 is always real: it has a pad-valued first feature
    seq = seq.masked_fill(holes, pad)
    # Padded tails: sequence 0 is full length, the others are shorter (at least one real point).
    lengths = c.randint(1, c.l + 1, c.n)
    lengths[0] = c.l
    if c.n > 1 and c.l > 1:
        lengths[1] = c.l - 1
    positions = lengths.new_tensor(range(c.l))
    tail = positions.view(1, c.l) >= lengths.view(c.n, 1)  # (N, L)
    return seq.masked_fill(tail.unsqueeze(-1), pad)


def probe(t, c):
    seq = make_seq(c)
    if c.pad is None:
        return t.call("padding_mask", seq)
    return t.call("padding_mask", seq, pad_value=c.pad)


def test_shape(grade):
    """Returns an (N, 1, L) tensor"""
    grade.compare(probe, GRID, level="shape", dtypes=("float32",), what=WHAT)


def test_dtype(grade):
    """The mask is boolean (for float32 and float64 inputs)"""
    grade.compare(probe, GRID, level="dtype", what=WHAT)


def test_values(grade):
    """True exactly where a position holds real data (any feature differs from pad_value)"""
    grade.compare(probe, GRID, level="values", what=WHAT)


def test_device(grade):
    """The mask lives on the input's device"""
    grade.portable(probe, GRID, what=WHAT)
