"""aiogram's types built when first used, not at import.

``import aiogram`` used to take seconds and most of the process's memory: aiogram declares its ~300 Telegram
types with pydantic's ``defer_build`` and then, at the end of ``aiogram.types``, rebuilds every one of them with
the types' namespace (to resolve their forward references), which builds every schema at once. Installed before
aiogram is imported (bot/__init__.py), this keeps that namespace instead of building, and hands it to pydantic when
a type or a method is first used (pydantic rebuilds a deferred model on first use), and to a subclass of one of
them too (bot/channels/telegram/render.py has some). A bot uses a few dozen of the types; the others are never
built. Nothing here imports aiogram; other models are left as they are.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

_original = BaseModel.model_rebuild.__func__  # type: ignore[attr-defined]
_namespace: dict[str, Any] | None = None  # aiogram.types' names, kept from its import-time rebuild


def _model_rebuild(cls: type[BaseModel], *, force: bool = False, raise_errors: bool = True,
                   _parent_namespace_depth: int = 2, _types_namespace: Any = None) -> bool | None:
    global _namespace
    if cls.__module__.startswith("aiogram.") or any(b.__module__.startswith("aiogram.") for b in cls.__bases__):
        if _types_namespace is not None and not force and not cls.__pydantic_complete__:
            _namespace = _types_namespace  # the import-time loop: remember the names, build on first use
            return None
        if _types_namespace is None and _namespace is not None:
            _types_namespace = _namespace
    depth = _parent_namespace_depth + 1 if _parent_namespace_depth > 0 else 0  # this frame is one more
    return _original(cls, force=force, raise_errors=raise_errors, _parent_namespace_depth=depth,
                     _types_namespace=_types_namespace)


def install() -> None:
    """Idempotent; must run before aiogram.types is imported to make a difference."""
    if not getattr(BaseModel.model_rebuild, "_qatysu_lazy", False):
        _model_rebuild._qatysu_lazy = True  # type: ignore[attr-defined]
        BaseModel.model_rebuild = classmethod(_model_rebuild)  # type: ignore[method-assign,assignment]
