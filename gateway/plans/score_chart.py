"""A goal's self-reliance scores (1 acute problems .. 5 fully self-reliant) as the geometry of a
small inline SVG: a bar at the start and one now, on the 1-5 scale. Computed here so the
template only draws, and a printed page needs no script and no other file. Pure."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, BAR_HEIGHT, GAP = 200, 12, 4
HEIGHT = 2 * BAR_HEIGHT + 3 * GAP
SCALE = (1, 2, 3, 4, 5)
START_COLOUR, NOW_COLOUR = "#9ecae1", "#0072B2"  # light and dark: apart in grey print too


@dataclass(frozen=True)
class ScoreBar:
    y: int
    width: float
    colour: str
    label: str  # "bij de start: 2", for screen readers and as a tooltip


@dataclass(frozen=True)
class ScoreChart:
    width: int
    height: int
    bar_height: int
    bars: tuple[ScoreBar, ...]
    ticks: tuple[float, ...]  # x of each scale step, for the grid lines


def score_chart(start: int | None, now: int | None) -> ScoreChart:
    """The start score above the current one; a missing score leaves its row empty."""
    bars = tuple(ScoreBar(GAP + row * (BAR_HEIGHT + GAP), _x(value), colour, f"{label}: {value}")
                 for row, (value, colour, label) in enumerate(
                     ((start, START_COLOUR, "bij de start"), (now, NOW_COLOUR, "nu")))
                 if value is not None)
    return ScoreChart(WIDTH, HEIGHT, BAR_HEIGHT, bars, tuple(_x(step) for step in SCALE))


def _x(value: int) -> float:
    return round(WIDTH * value / SCALE[-1], 1)
