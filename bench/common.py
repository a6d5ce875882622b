"""What the benchmarks share: the ``--smoke`` option every one has (a tiny run through every
step, for the tests), the run in a temporary folder with its exit code 2 when it could not
run, and for those that grow a database size by size, the sizes option and the run over
them."""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from schemas import is_valid_bsn

T = TypeVar("T")


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


def run_in_workdir(prefix: str, measure: Callable[[Path], T],
                   cannot_run: tuple[type[Exception], ...]) -> T | None:
    """What ``measure`` returns, run in a temporary folder of its own (gone afterwards); None,
    with one line on stderr, when it could not run (it raised one of ``cannot_run``): a
    benchmark's ``main`` then exits with 2."""
    with tempfile.TemporaryDirectory(prefix=prefix) as workdir:
        try:
            return measure(Path(workdir))
        except cannot_run as error:
            print(f"benchmark could not run: {error}", file=sys.stderr)
            return None


def run_by_size(make_bench: Callable[[argparse.Namespace, Path], Any],
                args: argparse.Namespace, prefix: str,
                report: Callable[[argparse.Namespace, Sequence[Any], float], None],
                cannot_run: tuple[type[Exception], ...]) -> int:
    """A benchmark's ``main``: each of ``args.sizes`` measured in one temporary folder, then
    the report; exit code 2 with one line when it could not run (``cannot_run``)."""
    started = time.perf_counter()

    def measure(workdir: Path) -> list[Any]:
        bench = make_bench(args, workdir)
        try:
            return [bench.run_size(size) for size in args.sizes]
        finally:
            bench.close()

    results = run_in_workdir(prefix, measure, cannot_run)
    if results is None:
        return 2
    report(args, results, time.perf_counter() - started)
    return 0


def verdict(ok: bool) -> str:
    return "meets" if ok else "below"


def print_targets(sizes: Sequence[dict[str, Any]], unit: str, target_ratio: float,
                  target_growth: float) -> tuple[bool, float]:
    """The two targets of a size-by-size benchmark, printed: the gateway's rate at least
    ``target_ratio`` of the bare one at every size, and its p99 at the largest size within
    ``target_growth`` times its p99 at the smallest. Returns (ratio met, growth)."""
    ratios = ", ".join(f"{s['size']:,}: {s['ratio']:.3f}" for s in sizes)
    ratio_ok = all(s["ratio"] >= target_ratio for s in sizes)
    print(f"ratio gateway/bare-sql {unit}/s: {ratios} "
          f"(target >= {target_ratio} at every size: {verdict(ratio_ok)})")
    first, last = sizes[0]["gateway"]["p99_ms"], sizes[-1]["gateway"]["p99_ms"]
    growth = last / first if first else 0.0
    print(f"gateway p99 at {sizes[-1]['size']:,} / p99 at {sizes[0]['size']:,}: {growth:.2f}x "
          f"({last:.3f} / {first:.3f} ms; target <= {target_growth}x: "
          f"{verdict(growth <= target_growth)})")
    return ratio_ok, growth


def bsns(rng: random.Random) -> Iterator[str]:
    """Distinct valid BSNs (they pass the elfproef), endlessly."""
    seen: set[str] = set()
    while True:
        candidate = f"{rng.randrange(10_000_000, 99_999_999)}"
        for last in range(10):
            bsn = candidate + str(last)
            if is_valid_bsn(bsn) and bsn not in seen:
                seen.add(bsn)
                yield bsn
                break


def sequential_bsns(first: int = 10_000_000) -> Iterator[str]:
    """Distinct valid BSNs in increasing order, cheaply (for millions of residents): each
    eight-digit start with the check digit the elfproef asks, where it has one."""
    for start in itertools.count(first):
        digits = f"{start:08d}"
        check = sum(int(d) * w for d, w in zip(digits, range(9, 1, -1), strict=True)) % 11
        if check < 10:
            yield digits + str(check)
