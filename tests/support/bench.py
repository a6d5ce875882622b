"""The benchmarks' smoke runs: the script as a user runs it, its output lines and its JSON
report (the last line that is a JSON object)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_smoke(script: str, timeout: float) -> tuple[list[str], dict[str, Any]]:
    """Run ``bench/{script} --smoke``; fails the test, with the output, when it exits non-zero."""
    result = subprocess.run([sys.executable, f"bench/{script}", "--smoke"], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    return lines, json.loads(next(line for line in lines if line.startswith("{")))
