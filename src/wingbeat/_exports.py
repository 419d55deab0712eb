"""Lazy package exports (PEP 562), shared by the layer packages: a name is imported from its module on
first use, so importing one submodule does not load the rest of its package."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

__all__ = ["resolve_export"]


def resolve_export(package: str, exports: Mapping[str, str], namespace: dict[str, Any], name: str) -> Any:
    """The value ``package`` exports as ``name`` (``exports`` maps names to their modules), cached in the
    package's ``namespace`` so later lookups skip the package's ``__getattr__``."""
    module = exports.get(name)
    if module is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    namespace[name] = value
    return value
