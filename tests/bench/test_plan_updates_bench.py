"""Smoke test of bench/plan_updates.py: every step runs at both sizes, every change reached the
other unit's system rendered in its format, and the report is complete. The numbers depend on
the machine, so only their presence is checked, never a threshold."""

from __future__ import annotations

import pytest

from tests.support.bench import run_smoke

SMOKE_SIZES = [100, 300]
SMOKE_CHANGES, SMOKE_WARMUP = 40, 4
NUMBERS = ("cps", "cpu_cps", "p50_ms", "p99_ms")


@pytest.mark.timeout(120)
def test_smoke_run_reports_every_size_for_gateway_and_baseline() -> None:
    lines, report = run_smoke("plan_updates.py", timeout=100)
    assert any(line.startswith("ratio gateway/baseline changes/s: ") for line in lines), lines
    assert any(line.startswith("gateway changes/s at 300 / at 100: ") for line in lines), lines
    assert report["benchmark"] == "plan-updates"
    assert report["plan"] == {"members": 4, "goals": 12, "actions": 30}
    assert [r["size"] for r in report["results"]] == SMOKE_SIZES
    for number, size in enumerate(report["results"], start=1):
        assert size["ratio"] > 0 and size["cpu_ratio"] > 0
        for contender in ("gateway", "baseline"):
            assert size[contender]["changes"] == SMOKE_CHANGES, contender
            for key in NUMBERS:
                assert size[contender][key] > 0, (size["size"], contender, key)
        # each change, warm-up included, pushed to the adult unit's feed and rendered there;
        # its consents let part of the plan through (the parents' goals), not the children's
        assert size["pushed"]["messages"] == number * (SMOKE_CHANGES + SMOKE_WARMUP)
        assert 0 < size["pushed"]["shown"] < 42
    assert report["gateway_growth"] > 0 and report["gateway_cpu_growth"] > 0
