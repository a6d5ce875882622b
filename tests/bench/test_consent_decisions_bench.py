"""Smoke test of bench/consent_decisions.py: every step runs and the report is complete. The numbers
depend on the machine, so only their presence and sign are checked, never a threshold."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.bench import REPO_ROOT, run_smoke

SMOKE_SIZES = [2_000, 5_000]
NUMBERS = ("dps", "p50_ms", "p99_ms")


@pytest.mark.timeout(90)
def test_smoke_run_reports_every_size_for_gateway_bare_sql_and_casbin() -> None:
    lines, report = run_smoke("consent_decisions.py", timeout=60)
    assert any(line.startswith("ratio gateway/bare-sql decisions/s: ") for line in lines), \
        lines
    assert any(line.startswith("gateway p99 at ") for line in lines), lines
    assert report["benchmark"] == "consent"
    assert [r["size"] for r in report["results"]] == SMOKE_SIZES
    for size in report["results"]:
        assert size["records"] >= size["size"] and size["persons"] > 0
        assert size["ratio"] > 0
        for contender in ("gateway", "bare_sql"):
            assert size[contender]["decisions"] == report["decisions"], contender
            for key in NUMBERS:
                assert size[contender][key] > 0, (size["size"], contender, key)
        casbin = size["casbin"]
        if "skipped" in casbin:
            assert casbin["skipped"].startswith("skipped: "), casbin
        else:
            assert casbin["decisions"] == report["casbin_decisions"] > 0
            assert casbin["dps"] > 0 and casbin["p99_ms"] > 0 and casbin["policies"] > 0
    assert report["gateway_p99_growth"] > 0


def test_the_script_can_be_asked_for_help_without_shadowing_the_consent_package() -> None:
    """The file is named like the policy core's package; running it must still import that."""
    result = subprocess.run([sys.executable, "bench/consent_decisions.py", "--help"], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=60, check=False)

    assert result.returncode == 0, result.stderr
    assert "--sizes" in result.stdout and "--smoke" in result.stdout
