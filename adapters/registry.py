"""One registry of adapters. An adapter is a package under ``adapters/`` whose ``@register``
class registers itself when the package is imported; configuration names the packages to
enable (``WIJKGATEWAY_ADAPTERS``, e.g. ``gp-referral,fake``; ``-`` stands for ``_``)."""

from __future__ import annotations

import importlib
import importlib.resources
import pkgutil
from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

from adapters.base import Adapter

# The system a client receives in unless it names another: FHIR R4B, as every client did
# before adapters rendered outbound messages.
DEFAULT_SYSTEM = "gp-referral"
_ADAPTERS: dict[str, Adapter] = {}
_HERE = Path(__file__).parent

A = TypeVar("A", bound=type)


class UnknownAdapter(LookupError):
    """Configuration names a system no package under ``adapters/`` provides."""


def register(cls: A) -> A:
    """Class decorator: instantiate the adapter and register it under its descriptor name."""
    adapter = cls()
    name = adapter.descriptor.name
    if name in _ADAPTERS:
        raise ValueError(f"adapter {name!r} is registered twice")
    _ADAPTERS[name] = adapter
    return cls


def available() -> list[str]:
    """The names of the adapter packages under ``adapters/``, as configuration spells them."""
    return sorted(info.name.replace("_", "-") for info in pkgutil.iter_modules([str(_HERE)])
                  if info.ispkg)


def get_adapter(name: str) -> Adapter:
    """The adapter called ``name``, its package imported on first use."""
    if name not in _ADAPTERS:
        if name not in available():
            raise UnknownAdapter(f"no adapter named {name!r}: no package adapters/"
                                 f"{name.replace('-', '_')}/ (known: {', '.join(available())})")
        importlib.import_module(f"adapters.{name.replace('-', '_')}")
    try:
        return _ADAPTERS[name]
    except KeyError:
        raise UnknownAdapter(f"package adapters/{name.replace('-', '_')}/ registers no adapter "
                             f"named {name!r}") from None


def published_schema(adapter: Adapter, file_name: str) -> bytes | None:
    """One of the files the adapter publishes (its descriptor's ``schemas``), by file name;
    None when it publishes no such file."""
    for path in adapter.descriptor.schemas:
        if Path(path).name == file_name:
            package = f"adapters.{adapter.descriptor.name.replace('-', '_')}"
            return importlib.resources.files(package).joinpath(path).read_bytes()
    return None


def enable(names: Iterable[str]) -> dict[str, Adapter]:
    """The configured adapters by name, in the configured order; an unknown name raises
    :class:`UnknownAdapter`, so a typo stops start-up instead of a system going unheard."""
    return {name: get_adapter(name) for name in names}
