"""Hidden suite: subsequent_mask."""

SIZES = [dict(size=1), dict(size=2), dict(size=5), dict(size=12)]


def probe(t, c):
    return t.call("subsequent_mask", c.size, device=c.device)


def test_shape(grade):
    """Returns a (1, size, size) tensor"""
    grade.compare(probe, SIZES, level="shape", dtypes=None, what="subsequent_mask(size)")


def test_dtype(grade):
    """The mask is boolean"""
    grade.compare(probe, SIZES, level="dtype", dtypes=None, what="subsequent_mask(size)")


def test_values(grade):
    """True on and below the diagonal, False above"""
    grade.compare(probe, SIZES, level="values", dtypes=None, what="subsequent_mask(size)",
                  figure=True, figure_title="the mask (row: query position, column: key position)")


def test_device(grade):
    """The mask is created on the requested device"""
    grade.portable(probe, SIZES, what="subsequent_mask(size, device)", dtypes=None)
