"""Reports and exports as an admin gets them: a campaign run by the real engine, then its chart
under the summary, /export and /report in the chat, and the same from the CLI."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from arq.worker import Worker
from sqlalchemy import select

from models import Campaign, CampaignStatus, Delivery
from panel import actions, texts
from panel.audit import CLI
from panel.campaigns import create_campaign
from panel.content import MessageContent
from panel.exports import EXPORT_COLUMNS
from tests.processes import broadcast_cli
from tests.reports.png import assert_readable_chart
from tests.support.control import ADMIN_ID, NEWS_TOKEN, NEWS_USERS, ControlBot, engine_worker_running
from tests.support.engine import PROJECT_ROOT
from tgsim.simulator import ChatEntry
from tgsim.world import UserState

BLOCKED = NEWS_USERS[:2]
DEACTIVATED = NEWS_USERS[2:3]


@pytest.fixture
async def worker(control: ControlBot) -> AsyncIterator[Worker]:
    """The engine's worker, built by its own factory, running in this process."""
    async with engine_worker_running(control.settings) as engine_worker:
        yield engine_worker


async def new_draft(control: ControlBot, name: str = "Winter sale") -> int:
    async with control.sessionmaker() as session, session.begin():
        campaign = await create_campaign(
            session,
            bot_id=control.bots["news"],
            content=MessageContent(text="Everything half price"),
            name=name,
            created_by=ADMIN_ID,
        )
        return campaign.id


async def finished_campaign(control: ControlBot) -> tuple[int, ChatEntry, ChatEntry]:
    """A campaign to the news bot's 12 users (2 blocked, 1 deleted) sent to the end by the engine;
    its id, the summary message and the chart under it."""
    for chat_id in BLOCKED:
        control.sim.set_user_state(NEWS_TOKEN, chat_id, UserState.BLOCKED)
    for chat_id in DEACTIVATED:
        control.sim.set_user_state(NEWS_TOKEN, chat_id, UserState.DEACTIVATED)
    campaign_id = await new_draft(control)
    before = control.last_id()
    outcome = await actions.start(
        control.sessionmaker,
        control.arq_pool,
        campaign_id,
        queue_name=control.settings.queue_name,
        progress_chat_id=ADMIN_ID,
        actor=CLI,
    )
    assert outcome is actions.StartOutcome.STARTED
    summary = await control.reply(after_id=before, where=lambda m: "finished" in (m.text or ""), timeout_s=30)
    chart = await control.reply(
        after_id=summary.message_id, where=lambda m: m.media_kind == "photo", timeout_s=30
    )
    return campaign_id, summary, chart


async def ledger(control: ControlBot, campaign_id: int) -> list[list[str]]:
    """The campaign's delivery rows, as the CSV should show them."""
    async with control.sessionmaker() as session:
        rows = (
            await session.scalars(
                select(Delivery).where(Delivery.campaign_id == campaign_id).order_by(Delivery.id)
            )
        ).all()
    return [
        [
            str(row.chat_id),
            row.status.value,
            "" if row.last_error_code is None else str(row.last_error_code),
            row.last_error or "",
            str(row.attempts),
            "" if row.finished_at is None else row.finished_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "" if row.telegram_message_id is None else str(row.telegram_message_id),
            " ".join(str(i) for i in row.telegram_message_ids or []),
            row.variant or "",
            "0",  # no tracked links: nobody clicked
        ]
        for row in rows
    ]


def parse_csv(data: bytes) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert rows[0] == list(EXPORT_COLUMNS)
    return rows[1:]


async def test_the_summary_export_and_report_of_a_finished_campaign(
    control: ControlBot, worker: Worker, tmp_path: Path
) -> None:
    campaign_id, summary, chart = await finished_campaign(control)
    assert "Sent: 9" in (summary.text or "")
    assert chart.caption == texts.REPORT_CHART_CAPTION.format(campaign_id=campaign_id, name=" “Winter sale”")
    assert chart.file_id is not None
    assert_readable_chart(control.sim.file_bytes(chart.file_id))

    expected = await ledger(control, campaign_id)
    assert sorted(int(row[0]) for row in expected) == NEWS_USERS
    assert [row[1] for row in expected].count("unavailable") == 3
    assert all(row[5].endswith("Z") for row in expected)

    # /export: the ledger as a CSV document in the admin's chat, row for row.
    sent = control.send(f"/export {campaign_id}")
    document = await control.reply(after_id=sent, where=lambda m: m.media_kind == "document")
    assert document.file_name == f"campaign-{campaign_id}.csv"
    assert document.caption is not None and "12 rows" in document.caption
    assert document.file_id is not None
    exported = control.sim.file_bytes(document.file_id)
    assert parse_csv(exported) == expected

    # /report: the chart again, with the summary's figures as its caption.
    sent = control.send(f"/report {campaign_id}")
    report = await control.reply(after_id=sent, where=lambda m: m.media_kind == "photo")
    assert report.caption is not None
    assert f"Campaign #{campaign_id}" in report.caption and "Sent: 9" in report.caption
    assert report.file_id is not None
    assert_readable_chart(control.sim.file_bytes(report.file_id))

    # The CLI writes the same CSV, byte for byte, and the chart to a file.
    env = {
        "DATABASE_URL": control.settings.database_url,
        "REDIS_URL": control.settings.redis_url,
        "QUEUE_NAME": control.settings.queue_name,
    }
    out = tmp_path / "ledger.csv"
    code, stdout, stderr = await broadcast_cli(
        "campaigns", "export", str(campaign_id), "--csv", str(out), env=env, cwd=PROJECT_ROOT
    )
    assert code == 0, stderr
    assert "12 rows" in stdout
    assert out.read_bytes() == exported
    png = tmp_path / "chart.png"
    code, stdout, stderr = await broadcast_cli(
        "campaigns", "report", str(campaign_id), "--png", str(png), env=env, cwd=PROJECT_ROOT
    )
    assert code == 0, stderr
    assert "Sent: 9" in stdout
    assert_readable_chart(png.read_bytes())


async def test_export_and_report_refuse_what_they_cannot_read(control: ControlBot, tmp_path: Path) -> None:
    draft_id = await new_draft(control, name="Not yet")
    for command in ("export", "report"):
        reply = await control.say(f"/{command} twelve")
        assert reply.text == texts.BAD_CAMPAIGN_ID.format(value="twelve", command=command)
        reply = await control.say(f"/{command}")
        assert reply.text == texts.REPORT_USAGE.format(command=command)
        reply = await control.say(f"/{command} 4242")
        assert reply.text == texts.REPORT_NO_CAMPAIGN.format(campaign_id=4242)
        reply = await control.say(f"/{command} {draft_id}")
        assert reply.text == texts.REPORT_NO_DELIVERIES.format(campaign_id=draft_id, status="draft")
    assert not [
        m for m in control.sim.chat(control.settings.require_bot_token(), ADMIN_ID).messages if m.file_id
    ]
    async with control.sessionmaker() as session:
        draft = await session.get(Campaign, draft_id)
        assert draft is not None and draft.status is CampaignStatus.DRAFT

    env = {"DATABASE_URL": control.settings.database_url, "REDIS_URL": control.settings.redis_url}
    out = tmp_path / "nothing.csv"
    code, _, stderr = await broadcast_cli(
        "campaigns", "export", str(draft_id), "--csv", str(out), env=env, cwd=PROJECT_ROOT
    )
    assert code == 1
    assert stderr.strip() == "broadcast: " + texts.REPORT_NO_DELIVERIES.format(
        campaign_id=draft_id, status="draft"
    )
    assert not out.exists()
    code, _, stderr = await broadcast_cli(
        "campaigns", "report", "4242", "--png", str(tmp_path / "x.png"), env=env, cwd=PROJECT_ROOT
    )
    assert code == 1
    assert stderr.strip() == "broadcast: " + texts.REPORT_NO_CAMPAIGN.format(campaign_id=4242)
