"""File names as they are shown: control and bidirectional characters escaped.

A file name comes from the user's disk or browser and may hold a line break or U+202E (right-to-left
override), which makes ``"rtl\\u202egpj.xlsx"`` display as ``rtlxslx.jpg``. The name is stored as given;
wherever it is shown (CLI summaries and refusals, history, report provenance, the dashboard) it passes through
:func:`shown`, which writes such characters as Python escapes (``\\n``, ``\\u202e``).
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

# Categories never shown as they are: controls (Cc), format characters such as the bidi overrides and
# isolates (Cf), and the line and paragraph separators (Zl, Zp).
_HIDDEN = ("Cc", "Cf", "Zl", "Zp")
_SUSPECT = re.compile(r"[^\x20-\x7e\u00a0-\u00ac\u00ae-\u05ff]")  # everything else is plain and shown as is


def shown(name: object) -> str:
    """``name`` with every control, format (bidi) and line-separator character escaped: ``"a\\nb"`` →
    ``"a\\\\nb"``. Other text, Swedish letters included, is unchanged."""
    text = "" if name is None else str(name)
    if not _SUSPECT.search(text):
        return text
    return "".join(ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) in _HIDDEN else ch
                   for ch in text)


def shown_names(frame: pd.DataFrame, column: str = "filename") -> pd.DataFrame:
    """``frame`` with its file-name ``column`` passed through :func:`shown` (each distinct name once)."""
    if column not in frame or frame.empty:
        return frame
    names = frame[column]
    return frame.assign(**{column: names.map({n: shown(n) for n in names.dropna().unique()}).where(names.notna())})
