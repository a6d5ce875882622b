"""Smoke test of bench/referrals.py: every step runs and the report is complete. The numbers
depend on the machine, so only their presence and sign are checked, never a threshold."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
NUMBERS = ("gateway_rps", "gateway_p50_ms", "gateway_p95_ms", "baseline_rps", "ratio")


@pytest.mark.timeout(150)
def test_smoke_run_reports_throughput_latency_and_ratio() -> None:
    result = subprocess.run([sys.executable, "bench/referrals.py", "--smoke"], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=120, check=False)

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("ratio gateway/baseline: ") for line in lines), result.stdout
    report = json.loads(next(line for line in lines if line.startswith("{")))
    assert report["benchmark"] == "referrals"
    assert report["failures"] == 0
    assert report["requests"] == 40 and report["concurrency"] == 2
    for key in NUMBERS:
        assert report[key] > 0, key
