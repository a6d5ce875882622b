"""One registry of adapters, filled by the ``@register`` decorator at import time."""

from __future__ import annotations

from typing import TypeVar

from adapters.base import Adapter

_ADAPTERS: dict[str, Adapter] = {}

A = TypeVar("A", bound=type)


def register(cls: A) -> A:
    """Class decorator: instantiate the adapter and register it under its descriptor name."""
    adapter = cls()
    name = adapter.descriptor.name
    if name in _ADAPTERS:
        raise ValueError(f"adapter {name!r} is registered twice")
    _ADAPTERS[name] = adapter
    return cls


def get_adapter(name: str) -> Adapter:
    try:
        return _ADAPTERS[name]
    except KeyError:
        raise LookupError(f"no adapter named {name!r}; known: {sorted(_ADAPTERS)}") from None


def all_adapters() -> list[Adapter]:
    return [_ADAPTERS[name] for name in sorted(_ADAPTERS)]
