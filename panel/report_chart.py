"""The campaign report chart: messages per second over time, stacked by outcome, as a PNG.

Pure drawing: it takes an `OutcomeSeries` (read from the ledger by `panel.exports`) and returns
PNG bytes. matplotlib is imported inside `draw_report_chart`, so the control bot and the workers
pay its import time (about a second) only when a chart is drawn, not at start.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from models import DeliveryStatus
from panel import texts

CHART_OUTCOMES: tuple[DeliveryStatus, ...] = (
    DeliveryStatus.SENT,
    DeliveryStatus.FAILED,
    DeliveryStatus.UNAVAILABLE,
    DeliveryStatus.UNCONFIRMED,
    DeliveryStatus.CANCELLED,
)
"""The stacked layers, bottom to top. A later clicks series is a line over them, not a layer."""

_COLOURS: Mapping[DeliveryStatus, str] = {
    DeliveryStatus.SENT: "#2e9d4f",
    DeliveryStatus.FAILED: "#d64541",
    DeliveryStatus.UNAVAILABLE: "#8c8c8c",
    DeliveryStatus.UNCONFIRMED: "#e6a23c",
    DeliveryStatus.CANCELLED: "#5b7bd5",
}

BUCKET_STEPS_S: tuple[int, ...] = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600)
MAX_BUCKETS = 600
"""A chart of more buckets than this gets a coarser bucket (a long campaign, a readable chart)."""

CHART_SIZE_PX = (1200, 600)
_DPI = 100


def bucket_size_s(span_s: float) -> int:
    """The smallest step of `BUCKET_STEPS_S` that covers `span_s` in at most `MAX_BUCKETS` buckets."""
    for step in BUCKET_STEPS_S:
        if span_s / step < MAX_BUCKETS:
            return step
    return BUCKET_STEPS_S[-1]


@dataclass(frozen=True, slots=True)
class OutcomeSeries:
    """Finished recipients per time bucket and outcome; bucket i starts at `start + i * bucket_s`."""

    campaign_id: int
    name: str | None
    start: datetime | None
    bucket_s: int
    counts: Mapping[DeliveryStatus, Sequence[int]]

    @property
    def buckets(self) -> int:
        """How many time buckets the series has."""
        return max((len(values) for values in self.counts.values()), default=0)

    @property
    def total(self) -> int:
        """Recipients in the series."""
        return sum(sum(values) for values in self.counts.values())


def draw_report_chart(series: OutcomeSeries) -> bytes:
    """The PNG of `series`: a stacked bar per bucket, in messages per second, `CHART_SIZE_PX` big."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    width_px, height_px = CHART_SIZE_PX
    figure = Figure(figsize=(width_px / _DPI, height_px / _DPI), dpi=_DPI)
    axes = figure.add_subplot()
    minutes = series.bucket_s * series.buckets > 1800
    scale = 60.0 if minutes else 1.0
    positions = [index * series.bucket_s / scale for index in range(series.buckets)]
    bottom = [0.0] * series.buckets
    for outcome in CHART_OUTCOMES:
        counts = series.counts.get(outcome)
        if not counts or not any(counts):
            continue
        rates = [count / series.bucket_s for count in counts] + [0.0] * (series.buckets - len(counts))
        axes.bar(
            positions,
            rates,
            width=series.bucket_s / scale,
            bottom=bottom,
            align="edge",
            color=_COLOURS[outcome],
            label=texts.CHART_LEGEND.format(
                outcome=texts.CHART_OUTCOMES.get(outcome.value, outcome.value),
                count=texts.number(sum(counts)),
            ),
            linewidth=0,
        )
        bottom = [below + rate for below, rate in zip(bottom, rates, strict=True)]
    name = f" “{series.name}”" if series.name else ""
    started = texts.CHART_STARTED.format(moment=f"{series.start:%Y-%m-%d %H:%M:%S}") if series.start else ""
    title = texts.CHART_TITLE.format(campaign_id=series.campaign_id, name=name, started=started)
    # parse_math=False: a name is text, not TeX ("$5 off" would turn italic, or fail to draw).
    axes.set_title(title, parse_math=False)
    axes.set_xlabel(texts.CHART_X_MINUTES if minutes else texts.CHART_X_SECONDS)
    every = texts.CHART_EVERY.format(seconds=series.bucket_s) if series.bucket_s > 1 else ""
    axes.set_ylabel(texts.CHART_Y.format(every=every))
    if series.total:
        axes.legend(loc="upper right")
    else:
        axes.text(0.5, 0.5, texts.CHART_EMPTY, ha="center", va="center", transform=axes.transAxes)
    axes.set_xlim(left=0)
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=_DPI)
    return out.getvalue()
