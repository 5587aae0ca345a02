"""Course packs: the model and the loader."""

from dl_course.course.loader import (FORMAT_VERSION, PACK_ENV, builtin_pack_root, load_pack, read_lessons,
                                     resolve_pack_root)
from dl_course.course.model import Chapter, Exercise, Hint, Pack, Tolerance

__all__ = ["Chapter", "Exercise", "Hint", "Pack", "Tolerance", "load_pack", "read_lessons", "builtin_pack_root",
           "resolve_pack_root", "FORMAT_VERSION", "PACK_ENV"]
