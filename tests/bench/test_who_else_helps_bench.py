"""Smoke test of bench/who_else_helps.py: every step runs and the report is complete. The numbers
depend on the machine, so only their presence and sign are checked, never a threshold."""

from __future__ import annotations

import pytest

from tests.support.bench import run_smoke

SMOKE_SIZES = [1_000, 3_000]
NUMBERS = ("aps", "p50_ms", "p99_ms")


@pytest.mark.timeout(90)
def test_smoke_run_reports_every_size_for_gateway_and_bare_sql() -> None:
    lines, report = run_smoke("who_else_helps.py", timeout=60)
    assert any(line.startswith("ratio gateway/bare-sql answers/s: ") for line in lines), lines
    assert any(line.startswith("gateway p99 at ") for line in lines), lines
    assert report["benchmark"] == "who-else-helps"
    assert [r["size"] for r in report["results"]] == SMOKE_SIZES
    for size in report["results"]:
        assert size["involvements"] > size["size"]
        assert size["ratio"] > 0
        for contender in ("gateway", "bare_sql"):
            assert size[contender]["answers"] == report["answers"], contender
            for key in NUMBERS:
                assert size[contender][key] > 0, (size["size"], contender, key)
    assert report["gateway_p99_growth"] > 0
