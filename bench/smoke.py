"""What the benchmarks share: the ``--smoke`` option every one has (a tiny run through every
step, for the tests), and for those that grow a database size by size, the sizes option and
the run over them."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
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


def parse_sizes(text: str) -> tuple[int, ...]:
    """``--sizes 10000,100000``: positive and increasing (``_`` allowed as in Python)."""
    try:
        sizes = tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of integers: {text!r}") from None
    if not sizes or any(s < 1 for s in sizes) or list(sizes) != sorted(set(sizes)):
        raise argparse.ArgumentTypeError("sizes must be positive and increasing")
    return sizes


def run_by_size(make_bench: Callable[[argparse.Namespace, Path], Any],
                args: argparse.Namespace, prefix: str,
                report: Callable[[argparse.Namespace, Sequence[Any], float], None],
                cannot_run: tuple[type[Exception], ...]) -> int:
    """A benchmark's ``main``: each of ``args.sizes`` measured in one temporary folder, then
    the report; exit code 2 with one line when it could not run (``cannot_run``)."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=prefix) as workdir:
        try:
            bench = make_bench(args, Path(workdir))
            try:
                results = [bench.run_size(size) for size in args.sizes]
            finally:
                bench.close()
        except cannot_run as error:
            print(f"benchmark could not run: {error}", file=sys.stderr)
            return 2
    report(args, results, time.perf_counter() - started)
    return 0
