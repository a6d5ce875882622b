"""The disclosures chart as inline SVG geometry: a stacked bar per week, one colour per
activity. Computed here so the template only draws, and the page needs no script. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import cycle

from gateway.console.service import WeeklyDisclosures

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 30
BAR_SHARE = 0.7  # of each week's slot; the rest is the gap between bars
Y_STEPS = 4
# Okabe-Ito: told apart with the common forms of colour blindness.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000")


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str  # shown as a tooltip, and read by screen readers


@dataclass(frozen=True)
class Tick:
    at: float  # x for a week, y for a count
    label: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    left: int
    right: int
    baseline: float
    bars: list[Bar]
    weeks: list[Tick]
    counts: list[Tick]
    legend: list[tuple[str, str]]  # (activity, colour)


def stacked_bars(data: WeeklyDisclosures) -> BarChart:
    colours = dict(zip(data.counts, cycle(PALETTE), strict=False))
    totals = [sum(series[w] for series in data.counts.values()) for w in range(len(data.weeks))]
    step = _nice_step(max(totals, default=0) / Y_STEPS)
    baseline = HEIGHT - BOTTOM
    scale = (baseline - TOP) / (step * Y_STEPS)
    slot = (WIDTH - LEFT - RIGHT) / len(data.weeks)
    bars, weeks = [], []
    for index, monday in enumerate(data.weeks):
        x = LEFT + index * slot
        weeks.append(Tick(round(x + slot / 2, 1), f"wk {monday.isocalendar().week}"))
        top = baseline
        for activity, series in data.counts.items():
            if series[index]:
                height = series[index] * scale
                top -= height
                bars.append(Bar(round(x + slot * (1 - BAR_SHARE) / 2, 1), round(top, 1),
                                round(slot * BAR_SHARE, 1), round(height, 1), colours[activity],
                                f"{activity}, week of {monday.isoformat()}: {series[index]}"))
    counts = [Tick(round(baseline - i * step * scale, 1), str(i * step))
              for i in range(Y_STEPS + 1)]
    return BarChart(WIDTH, HEIGHT, LEFT, WIDTH - RIGHT, baseline, bars, weeks, counts,
                    list(colours.items()))


def _nice_step(at_least: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... not below ``at_least``."""
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            if factor * magnitude >= at_least:
                return factor * magnitude
        magnitude *= 10
