"""Smoke test of bench/youth_dossier.py: both contenders store every message and the report is
complete. The numbers depend on the machine, so only their presence is checked."""

from __future__ import annotations

import pytest

from tests.support.bench import run_smoke


@pytest.mark.timeout(90)
def test_smoke_run_reports_both_contenders_and_the_ratio() -> None:
    lines, report = run_smoke("youth_dossier.py", timeout=60)
    assert any(line.startswith("ratio gateway/baseline messages/s: ") for line in lines), lines
    assert report["benchmark"] == "youth-dossier"
    for contender in ("gateway", "baseline"):
        numbers = report[contender]
        assert numbers["messages"] == report["messages"]
        assert numbers["mps"] > 0 and numbers["p50_ms"] > 0 and numbers["p99_ms"] > 0
    assert report["ratio"] > 0
