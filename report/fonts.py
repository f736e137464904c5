"""A CJK font that installs with the project, registered with matplotlib.

Chinese chart labels need a font with CJK glyphs.  We do not rely on system
fonts (a fresh Debian or a CI image has none): the PyPI wheel ``mplfonts`` ships
Noto Sans CJK SC as a package data file, which we register with matplotlib's font
manager and put first in the sans-serif list.  Noto Sans CJK SC also has Latin,
digits and the usual symbols (− · ≤ × %), so English and Chinese text render in
one typeface; DejaVu Sans (bundled with matplotlib) stays as a fallback.

:func:`use_cjk_font` is idempotent and is called by every chart function.  It
changes only ``font.family``, ``font.sans-serif`` and the SVG font setting of
matplotlib's ``rcParams``.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import matplotlib
from matplotlib import font_manager

FONT_PACKAGE = "mplfonts"
FONT_FILE = "NotoSansCJKsc-Regular.otf"
FONT_NAME = "Noto Sans CJK SC"
FALLBACK = "DejaVu Sans"  # ships with matplotlib

_registered: Path | None = None


def cjk_font_path() -> Path:
    """Path of Noto Sans CJK SC inside the installed ``mplfonts`` wheel.

    Raises a :class:`RuntimeError` that says how to install it when missing.
    """
    try:
        path = importlib.resources.files(FONT_PACKAGE) / "fonts" / FONT_FILE
    except ModuleNotFoundError:
        raise RuntimeError(
            f"the CJK chart font comes from the Python package {FONT_PACKAGE!r}, which is not installed; "
            f"run: pip install 'mplfonts>=0.0.8,<0.1'"
        ) from None
    path = Path(str(path))
    if not path.is_file():
        raise RuntimeError(f"{FONT_PACKAGE} is installed but has no {FONT_FILE} (looked at {path})")
    return path


def use_cjk_font() -> str:
    """Register Noto Sans CJK SC with matplotlib and make it the sans-serif font.

    Safe to call any number of times: the font file is added once per process,
    and the rcParams are (re)set each call, so a caller that changed them between
    charts gets the CJK font back.  Returns the font's family name.
    """
    global _registered
    if _registered is None:
        path = cjk_font_path()
        font_manager.fontManager.addfont(str(path))
        _registered = path
    rc = matplotlib.rcParams
    rest = [f for f in rc["font.sans-serif"] if f not in (FONT_NAME, FALLBACK)]
    rc["font.family"] = ["sans-serif"]
    rc["font.sans-serif"] = [FONT_NAME, FALLBACK, *rest]
    rc["svg.fonttype"] = "path"  # SVG files carry the glyph outlines: no font needed to view them
    return FONT_NAME
