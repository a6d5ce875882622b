"""Inner packages keep a small public surface, and imports point inward only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import consent
import schemas

ROOT = Path(__file__).resolve().parent.parent
# package -> project packages it must never import
FORBIDDEN = {"schemas": {"consent", "adapters", "gateway"},
             "consent": {"adapters", "gateway"},
             "adapters": {"gateway", "consent"}}


@pytest.mark.parametrize("package", [schemas, consent], ids=["schemas", "consent"])
def test_public_names_are_exactly_all(package: object) -> None:
    assert sorted(package.__all__) == sorted(  # type: ignore[attr-defined]
        name for name in dir(package) if not name.startswith("_")
        and not isinstance(getattr(package, name), type(schemas)))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_inward(package: str) -> None:
    offenders = []
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.name}: {n}" for n in names
                          if n.split(".")[0] in FORBIDDEN[package]]
    assert offenders == []
