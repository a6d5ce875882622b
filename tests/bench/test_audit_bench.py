"""Smoke test of bench/audit.py: every step runs and the report is complete. The numbers depend
on the machine, so only their presence and sign are checked, never a threshold."""

from __future__ import annotations

import pytest

from tests.support.bench import run_smoke

SMOKE_APPENDS, SMOKE_WARMUP, SMOKE_VERIFY_ENTRIES = 300, 20, 5_000


@pytest.mark.timeout(120)
def test_smoke_run_reports_appends_and_verify_next_to_their_baselines() -> None:
    lines, report = run_smoke("audit.py", timeout=90)
    assert any(line.startswith("ratio merkle/plain appends/s: ") for line in lines), lines
    assert any(line.startswith("ratio verify/hashlib entries/s: ") for line in lines), \
        lines
    assert report["benchmark"] == "audit"
    assert report["appends"] == SMOKE_APPENDS

    assert [v["entries_per_tx"] for v in report["append_results"]] == [1, 10]
    for variant in report["append_results"]:
        for contender in ("merkle", "plain"):
            assert variant[contender]["entries"] == SMOKE_APPENDS, contender
            assert variant[contender]["eps"] > 0 and variant[contender]["seconds"] > 0
        assert variant["ratio"] > 0
        expected = SMOKE_APPENDS + SMOKE_WARMUP
        assert variant["expected_entries"] == expected == variant["plain_rows"]
        assert variant["log_verification"]["ok"] is True
        assert variant["log_verification"]["entries"] == expected

    verify = report["verify"]
    assert verify["entries"] == SMOKE_VERIFY_ENTRIES
    for contender in ("verify", "hashlib", "sql_only", "sql_without_line"):
        assert verify[contender]["eps"] > 0, contender
        assert verify[contender]["entries"] == SMOKE_VERIFY_ENTRIES * verify["rounds"], contender
    assert verify["ratio"] > 0
    assert verify["ok"] is True
    assert verify["verified_entries"] == SMOKE_VERIFY_ENTRIES
    assert verify["checkpoints_matched"] == verify["checkpoints"] > 0
    assert verify["root_hash_matches"] is True
