"""The campaign report chart: messages per second over time, stacked by outcome, as a PNG, with
the campaign's pauses shaded, its 429 waits ticked on the time axis and, for a campaign with
tracked links, its clicks per time bucket as a line on a second axis.

Pure drawing: it takes an `OutcomeSeries` (read from the database by `panel.exports`) and returns
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

_PAUSE_COLOUR = "#9aa5b1"
_FLOOD_WAIT_COLOUR = "#7e3ff2"
_CLICKS_COLOUR = "#111111"

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
    """Finished recipients per time bucket and outcome; bucket i starts at `start + i * bucket_s`.

    Times of the marks are seconds since `start`, within the chart's buckets.
    """

    campaign_id: int
    name: str | None
    start: datetime | None
    bucket_s: int
    counts: Mapping[DeliveryStatus, Sequence[int]]
    pauses: Sequence[tuple[float, float]] = ()
    """The campaign's pauses: from, to (the chart's end while it is still paused)."""
    flood_waits: Sequence[tuple[float, float]] = ()
    """Telegram's 429s, one per pause of the token's sends: when, and for how many seconds."""
    clicks: Sequence[int] | None = None
    """Opens of the campaign's tracked links per bucket; None: the campaign has no tracked links."""
    clicks_later: int = 0
    """Opens after the chart's last bucket (the links keep working after the send)."""

    @property
    def buckets(self) -> int:
        """How many time buckets the series has."""
        return max((len(values) for values in self.counts.values()), default=0)

    @property
    def total(self) -> int:
        """Recipients in the series."""
        return sum(sum(values) for values in self.counts.values())


def draw_report_chart(series: OutcomeSeries) -> bytes:
    """The PNG of `series`, `CHART_SIZE_PX` big: a stacked bar per bucket in messages per second,
    pauses shaded, 429s ticked on the time axis, clicks per bucket on the right-hand axis."""
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
    for index, (start_s, end_s) in enumerate(series.pauses):
        axes.axvspan(
            start_s / scale,
            end_s / scale,
            color=_PAUSE_COLOUR,
            alpha=0.35,
            linewidth=0,
            label=texts.CHART_PAUSES.format(count=texts.number(len(series.pauses))) if index == 0 else None,
        )
    if series.flood_waits:
        # Ticks standing on the time axis (x in data, y in axes units), drawn over the bars.
        axes.plot(
            [at_s / scale for at_s, _ in series.flood_waits],
            [0.0] * len(series.flood_waits),
            linestyle="none",
            marker="|",
            markersize=18,
            markeredgewidth=2,
            color=_FLOOD_WAIT_COLOUR,
            transform=axes.get_xaxis_transform(),
            clip_on=False,
            zorder=5,
            label=texts.CHART_FLOOD_WAITS.format(count=texts.number(len(series.flood_waits))),
        )
    handles, labels = axes.get_legend_handles_labels()
    if series.clicks is not None and series.buckets:
        clicks_axes = axes.twinx()
        clicks = list(series.clicks) + [0] * (series.buckets - len(series.clicks))
        total = sum(clicks)
        label = (
            texts.CHART_CLICKS_LATER.format(
                count=texts.number(total), later=texts.number(series.clicks_later)
            )
            if series.clicks_later
            else texts.CHART_CLICKS.format(count=texts.number(total))
        )
        (line,) = clicks_axes.step(
            [*positions, series.buckets * series.bucket_s / scale],
            clicks + clicks[-1:],
            where="post",
            color=_CLICKS_COLOUR,
            linewidth=1.5,
        )
        clicks_axes.set_ylabel(texts.CHART_CLICKS_Y.format(seconds=series.bucket_s))
        clicks_axes.set_ylim(bottom=0, top=max(clicks, default=0) * 1.1 or 1)
        handles.append(line)
        labels.append(label)
    name = f" “{series.name}”" if series.name else ""
    started = texts.CHART_STARTED.format(moment=f"{series.start:%Y-%m-%d %H:%M:%S}") if series.start else ""
    title = texts.CHART_TITLE.format(campaign_id=series.campaign_id, name=name, started=started)
    # parse_math=False: a name is text, not TeX ("$5 off" would turn italic, or fail to draw).
    axes.set_title(title, parse_math=False)
    axes.set_xlabel(texts.CHART_X_MINUTES if minutes else texts.CHART_X_SECONDS)
    every = texts.CHART_EVERY.format(seconds=series.bucket_s) if series.bucket_s > 1 else ""
    axes.set_ylabel(texts.CHART_Y.format(every=every))
    if handles:
        axes.legend(handles, labels, loc="upper right")
    if not series.total:
        axes.text(0.5, 0.5, texts.CHART_EMPTY, ha="center", va="center", transform=axes.transAxes)
    axes.set_xlim(left=0)
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=_DPI)
    return out.getvalue()
