"""Smoke test of bench/export.py: every step runs and the report is complete. The numbers
depend on the machine, so only their presence and sign are checked, never a threshold."""

from __future__ import annotations

import pytest

from tests.support.bench import run_smoke

NUMBERS = ("p95_alone_ms", "p95_during_ms", "ratio", "export_rows_per_s",
           "export_alone_rows_per_s", "server_peak_rss_kib")


@pytest.mark.timeout(150)
def test_smoke_run_reports_latency_ratio_export_speed_and_memory() -> None:
    lines, report = run_smoke("export.py", timeout=120)
    assert any(line.startswith("ratio p95 during/alone: ") for line in lines), lines
    assert (report["benchmark"], report["entries"], report["failures"],
            report["short_exports"]) == ("export", 3000, 0, 0)
    assert report["referrals_alone"] == 40 and report["referrals_during"] >= 1
    assert report["export_rows"] >= 3000
    for key in NUMBERS:
        assert report[key] > 0, key
