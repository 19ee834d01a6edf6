"""Heavy libraries imported when first used, not when a module that may use them is imported.

``from samordning.lazy import pandas as pd`` gives a stand-in whose first attribute lookup (``pd.DataFrame``)
imports pandas; afterwards each lookup is a dictionary lookup in the real module. So ``samordning quarters``,
which computes its figures from a few sums in plain Python, never pays the half second an ``import pandas``
costs, while the modules it shares with the dashboard and the report keep their pandas code as it was.
"""

from __future__ import annotations

import importlib
import types
from typing import Any


class LazyModule:
    """A module imported on its first attribute lookup."""

    __slots__ = ("_module", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: types.ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}{'' if self._module is None else ' (imported)'}>"


pandas: Any = LazyModule("pandas")
numpy: Any = LazyModule("numpy")
