"""Smoke test of bench/referrals.py: every step runs and the report is complete. The numbers
depend on the machine, so only their presence and sign are checked, never a threshold."""

from __future__ import annotations

import pytest

from tests.support.bench import run_smoke

NUMBERS = ("gateway_rps", "gateway_p50_ms", "gateway_p95_ms", "baseline_rps", "ratio")


@pytest.mark.timeout(150)
def test_smoke_run_reports_throughput_latency_and_ratio() -> None:
    lines, report = run_smoke("referrals.py", timeout=120)
    assert any(line.startswith("ratio gateway/baseline: ") for line in lines), lines
    assert report["benchmark"] == "referrals"
    assert report["failures"] == 0
    assert report["requests"] == 40 and report["concurrency"] == 2
    for key in NUMBERS:
        assert report[key] > 0, key
