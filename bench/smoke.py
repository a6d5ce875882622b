"""The ``--smoke`` option every benchmark has: a tiny run through every step, for the tests."""

from __future__ import annotations

import argparse
from typing import Any


def parse_with_smoke(parser: argparse.ArgumentParser, argv: list[str] | None,
                     smoke: dict[str, Any]) -> argparse.Namespace:
    """Parse ``argv``; with ``--smoke``, the ``smoke`` values replace the options'."""
    parser.add_argument("--smoke", action="store_true",
                        help="tiny run through every step: " + ", ".join(
                            f"{k}={v}" for k, v in smoke.items()) + " (overrides the above)")
    args = parser.parse_args(argv)
    if args.smoke:
        vars(args).update(smoke)
    return args
