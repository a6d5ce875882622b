"""Smoke test of bench/bulk_import.py: the command and the baseline each load the whole
export, and the load killed halfway and run again ends with every row in once and a log that
verifies. The numbers depend on the machine, so only their presence is checked."""

from __future__ import annotations

import pytest

from tests.support.bench import run_smoke


@pytest.mark.timeout(240)
def test_smoke_run_reports_both_loads_the_ratio_and_the_resumed_load() -> None:
    lines, report = run_smoke("bulk_import.py", timeout=200)
    assert any(line.startswith("ratio gateway/baseline rows/s: ") for line in lines), lines
    assert report["benchmark"] == "bulk-import"
    for contender in ("gateway", "baseline"):
        assert report[contender]["rows"] == report["persons"]
        assert report[contender]["rows_per_s"] > 0
    assert report["gateway"]["peak_rss_mb"] > 0 and report["ratio"] > 0
    assert report["stored"]["persons"] == report["persons"]
    assert report["stored"]["households"] == report["households"]
    kill = report["kill"]
    assert (kill["resumed_exit"], kill["lost"], kill["twice"], kill["log_verifies"]) == (
        0, {}, {}, True)
