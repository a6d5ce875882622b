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


def test_schemas_exports() -> None:
    assert sorted(schemas.__all__) == sorted(
        name for name in dir(schemas) if not name.startswith("_")
        and not isinstance(getattr(schemas, name), type(schemas)))


def test_consent_has_no_public_names_yet() -> None:
    assert consent.__all__ == []


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
