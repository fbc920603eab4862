"""The report chart as a reader gets it: a PNG of the promised size that shows something."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import numpy
import pytest

from models import DeliveryStatus
from panel.report_chart import (
    BUCKET_STEPS_S,
    MAX_BUCKETS,
    OutcomeSeries,
    bucket_size_s,
    draw_report_chart,
)
from tests.reports.png import assert_readable_chart, colours, pixels


def test_a_chart_is_a_png_of_its_size_with_the_outcomes_in_colour() -> None:
    series = OutcomeSeries(
        campaign_id=7,
        name="Launch",
        start=datetime(2026, 12, 1, 18, 0, tzinfo=UTC),
        bucket_s=1,
        counts={
            DeliveryStatus.SENT: [30, 29, 30, 0, 0, 28],
            DeliveryStatus.UNAVAILABLE: [1, 2, 0, 0, 0, 1],
            DeliveryStatus.FAILED: [0, 0, 1],
        },
    )
    png = draw_report_chart(series)
    assert_readable_chart(png)
    # The sent layer's green is in the picture, so the bars were drawn, not only the axes.
    picture = pixels(png)
    green = (0x2E / 255, 0x9D / 255, 0x4F / 255)
    assert numpy.isclose(picture[..., :3], green, atol=0.02).all(axis=-1).any()


def test_a_name_with_dollar_signs_is_drawn_as_text() -> None:
    # matplotlib reads $...$ as TeX; an unbalanced one would make the chart fail to draw.
    series = OutcomeSeries(5, "Save $5 ^{ or $", None, 1, {DeliveryStatus.SENT: [3]})
    assert_readable_chart(draw_report_chart(series))


def test_a_campaign_with_nothing_finished_still_gets_a_chart() -> None:
    assert_readable_chart(draw_report_chart(OutcomeSeries(3, None, None, 1, {})))


@pytest.mark.parametrize(
    ("span_s", "bucket_s"), [(0, 1), (599, 1), (600, 2), (3600, 10), (86_400, 300), (10**9, 21600)]
)
def test_long_campaigns_get_coarser_buckets(span_s: float, bucket_s: int) -> None:
    assert bucket_size_s(span_s) == bucket_s
    assert bucket_s == BUCKET_STEPS_S[-1] or span_s / bucket_s < MAX_BUCKETS


def test_matplotlib_is_not_imported_by_the_control_bot_or_the_workers() -> None:
    code = "import sys, bot.app, jobs.worker, panel.exports; print('matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_pauses_429s_and_clicks_are_drawn_over_the_bars() -> None:
    series = OutcomeSeries(
        campaign_id=8,
        name="Tracked",
        start=datetime(2026, 12, 1, 18, 0, tzinfo=UTC),
        bucket_s=1,
        counts={DeliveryStatus.SENT: [30, 30, 0, 0, 30, 30, 30, 10]},
        pauses=[(2.0, 4.0)],
        flood_waits=[(5.5, 1.0), (7.0, 1.0)],
        clicks=[0, 3, 1, 0, 0, 5, 2, 1],
        clicks_later=4,
    )
    without = OutcomeSeries(8, "Tracked", series.start, 1, series.counts)
    png = draw_report_chart(series)
    assert_readable_chart(png)
    assert colours(png) > colours(draw_report_chart(without))
    # The 429 ticks' purple is in the picture.
    purple = (0x7E / 255, 0x3F / 255, 0xF2 / 255)
    assert numpy.isclose(pixels(png)[..., :3], purple, atol=0.02).all(axis=-1).any()
