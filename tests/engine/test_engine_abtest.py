"""A/B tests end to end: real workers send two variants and hold some recipients out, the real
link service counts the clicks, the workers' cron picks the winner and sends it to the rest.

Set up with the `broadcast campaigns ab` command in a real process; blocks are written by the
`broadcast_tracker` package a target bot installs (as it does on `my_chat_member` → kicked).
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiogram.types import User as TelegramUser
from arq.connections import ArqRedis
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from broadcast_tracker.tracker import Tracker
from models import Campaign, CampaignStatus, Delivery, DeliveryStatus, User
from models.tables import LinkClick
from panel import abtest, texts
from panel.abtest import HOLDOUT, REST, Split, ab_figures, assign, render_figures, two_proportion_p
from panel.buttons import parse_buttons
from panel.content import MessageContent
from panel.exports import EXPORT_COLUMNS, export_csv
from panel.queue import enqueue_start
from tests.processes import broadcast_cli
from tests.support.engine import (
    TARGET_TOKEN,
    LinkHarness,
    Workers,
    add_audience,
    engine_workers,
    get_campaign,
    new_campaign,
    rows,
    wait_for_status,
    wait_until,
)
from tests.support.keys import TEST_SECRET_KEY
from tgsim.simulator import Simulator

FIRST = 1_000_000
USERS = 400
TEXT_A = "Spring sale: 20% off everything"
TEXT_B = "Spring sale: half price today"


@pytest.fixture
def ab_workers(
    database_url: str, redis_url: str, sim: Simulator, queue_name: str, tmp_path: Path, links: LinkHarness
) -> Iterator[Workers]:
    """Worker processes that track links and run the cron every second."""
    harness = engine_workers(
        database_url=database_url,
        redis_url=redis_url,
        sim=sim,
        queue_name=queue_name,
        log_dir=tmp_path / "workers",
        links_base_url=links.base_url,
    )
    yield harness
    harness.stop_all()


async def _variant_rows_final(sessionmaker: async_sessionmaker[AsyncSession], campaign_id: int) -> bool:
    """The audience is frozen and every row of variants A and B is final."""
    unfinished = Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING])
    async with sessionmaker() as session:
        variants, left = (
            await session.execute(
                select(func.count(), func.count().filter(unfinished)).where(
                    Delivery.campaign_id == campaign_id, Delivery.variant.in_(["A", "B"])
                )
            )
        ).one()
    return bool(variants) and not left


async def _clicks(sessionmaker: async_sessionmaker[AsyncSession], campaign_id: int) -> list[int]:
    async with sessionmaker() as session:
        found = await session.scalars(select(LinkClick.chat_id).where(LinkClick.campaign_id == campaign_id))
        return list(found.all())


async def test_a_two_variant_test_with_a_holdout_sends_the_winner_to_the_rest(
    sessionmaker: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    sim: Simulator,
    ab_workers: Workers,
    links: LinkHarness,
    pool: ArqRedis,
    queue_name: str,
    cli_env: dict[str, str],
    tmp_path: Path,
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=USERS, first_chat_id=FIRST)
    content = MessageContent(TEXT_A, buttons=parse_buttons("Shop - https://shop.example/a")).to_json()
    campaign_id = await new_campaign(sessionmaker, bot_id, content=content)
    env = {**cli_env, "SECRET_KEY": TEST_SECRET_KEY, "LINKS_BASE_URL": links.base_url}

    # Bad input is refused with the reason, and changes nothing.
    for split, reason in (("60,10,5", "1 to 50%"), ("30,30,50", "at most 100%"), ("10,10", "3 numbers")):
        code, _, err = await broadcast_cli(
            "campaigns", "ab", str(campaign_id), "--variant-text", TEXT_B,
            "--split", split, "--window", "1h", env=env, cwd=tmp_path,
        )  # fmt: skip
        assert code == 1 and reason in err and "nothing was changed" in err, err
    assert (await get_campaign(sessionmaker, campaign_id)).ab_seed is None
    code, out, err = await broadcast_cli(
        "campaigns", "ab", str(campaign_id), "--variant-text", TEXT_B,
        "--variant-button", "B:Shop now - https://shop.example/b",
        "--split", "20,20,10", "--window", "1h", "--measure", "clicks", env=env, cwd=tmp_path,
    )  # fmt: skip
    assert code == 0, err
    assert "A 20% · B 20%, holdout 10%, window 1 h" in out, out
    seed = (await get_campaign(sessionmaker, campaign_id)).ab_seed
    assert seed is not None
    # The groups are the seeded draw's, whoever computes them.
    expected = {
        chat_id: assign(seed, chat_id, Split((20, 20), 10)) for chat_id in range(FIRST, FIRST + USERS)
    }

    ab_workers.start(1)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)
    await wait_until(
        lambda: _variant_rows_final(sessionmaker, campaign_id),
        timeout_s=40,
        what="variants sent",
        logs=ab_workers,
    )
    ledger = {row.chat_id: row for row in await rows(sessionmaker, campaign_id)}
    assert {chat_id: row.variant for chat_id, row in ledger.items()} == expected
    shares = Counter(expected.values())
    assert all(shares[group] > 10 for group in ("A", "B", HOLDOUT, REST)), shares
    campaign = await get_campaign(sessionmaker, campaign_id)
    assert campaign.status is CampaignStatus.SENDING  # the rest waits for the winner
    assert (campaign.total_recipients, campaign.held_out_count) == (USERS - shares[HOLDOUT], shares[HOLDOUT])
    for chat_id, group in expected.items():
        messages = sim.chat(TARGET_TOKEN, chat_id).bot_messages
        status = ledger[chat_id].status
        if group in ("A", "B"):
            assert [m.text for m in messages] == [TEXT_A if group == "A" else TEXT_B]
            assert status is DeliveryStatus.SENT
        else:  # the holdout never gets anything; the rest nothing yet
            assert messages == []
            assert status is (DeliveryStatus.HELD_OUT if group == HOLDOUT else DeliveryStatus.WAITING)

    # Simulated users open their own tracked links (some twice), and some block the bot.
    group_chats = {g: sorted(c for c, v in expected.items() if v == g) for g in ("A", "B", HOLDOUT, REST)}
    plan = {"A": (group_chats["A"][:4], "Shop"), "B": (group_chats["B"][:14], "Shop now")}
    opens = 0
    for clickers, label in plan.values():
        for n, chat_id in enumerate(clickers):
            (message,) = sim.chat(TARGET_TOKEN, chat_id).bot_messages
            for _ in range(2 if n < 2 else 1):
                opened = await sim.open_url_button(TARGET_TOKEN, chat_id, message.message_id, text=label)
                assert opened.status == 302 and (opened.location or "").startswith("https://shop.example/")
                opens += 1
    blockers = [*group_chats["A"][-3:], *group_chats["B"][-1:], *group_chats[HOLDOUT][:2]]
    tracker = Tracker(engine, bot_id)
    for chat_id in blockers:
        sim.block(TARGET_TOKEN, chat_id)
        tracker.seen(TelegramUser(id=chat_id, is_bot=False, first_name="Blocker"), blocked=True)
    await tracker.flush()

    async def all_clicks() -> bool:
        return len(await _clicks(sessionmaker, campaign_id)) == opens

    await wait_until(all_clicks, timeout_s=10, what=f"{opens} clicks")

    # The window ends: the workers' cron picks B (more clicks) and sends it to the rest.
    async with sessionmaker.begin() as session:
        await session.execute(update(Campaign).where(Campaign.id == campaign_id).values(ab_window_s=0))
    campaign = await wait_for_status(sessionmaker, campaign_id, workers=ab_workers, timeout_s=60)
    assert campaign.status is CampaignStatus.COMPLETED, campaign.status_reason
    assert campaign.ab_winner == "B" and campaign.ab_decided_at is not None
    ledger = {row.chat_id: row for row in await rows(sessionmaker, campaign_id)}
    for chat_id in group_chats[REST]:
        assert [m.text for m in sim.chat(TARGET_TOKEN, chat_id).bot_messages] == [TEXT_B]
        assert ledger[chat_id].status is DeliveryStatus.SENT and ledger[chat_id].variant == REST
    for chat_id in group_chats[HOLDOUT]:
        assert sim.chat(TARGET_TOKEN, chat_id).bot_messages == []
        assert ledger[chat_id].status is DeliveryStatus.HELD_OUT

    # Counters: the holdout is neither failed nor pending, and every recipient is settled.
    statuses = Counter(row.status for row in ledger.values())
    assert statuses == {
        DeliveryStatus.SENT: USERS - shares[HOLDOUT],
        DeliveryStatus.HELD_OUT: shares[HOLDOUT],
    }
    assert campaign.successful_sents == USERS - shares[HOLDOUT]
    assert campaign.finished_count == campaign.total_recipients
    assert campaign.failed_sents == campaign.cancelled_count == 0

    # The card's figures are the ledger's, counted here independently.
    clicked = set(await _clicks(sessionmaker, campaign_id))
    async with sessionmaker() as session:
        blocked = set(
            (
                await session.scalars(
                    select(User.chat_id).where(User.bot_id == bot_id, User.is_unavailable.is_(True))
                )
            ).all()
        )
        figures = await ab_figures(session, campaign)
    assert figures is not None
    by_label = {v.label: v for v in figures.variants}
    for group in ("A", "B"):
        sent = [c for c, row in ledger.items() if row.variant == group and row.status is DeliveryStatus.SENT]
        assert by_label[group].sent == len(sent) == shares[group]
        assert by_label[group].clickers == len(clicked & set(sent)) == len(plan[group][0])
        assert by_label[group].blocked == len(blocked & set(sent))
    assert (by_label["A"].blocked, by_label["B"].blocked) == (3, 1)
    assert (figures.holdout.recipients, figures.holdout.blocked) == (shares[HOLDOUT], 2)
    assert figures.rest.sent == shares[REST]
    card = render_figures(figures)
    assert card is not None
    a, b = by_label["A"], by_label["B"]
    p_value = two_proportion_p(b.clickers, b.sent, a.clickers, a.sent)
    assert p_value is not None and figures.p_value("B") == pytest.approx(p_value)
    assert f"B 🏆: {b.sent} sent · {b.clickers} clicked ({b.clickers / b.sent * 100:.2f}%)" in card
    assert f"A: {a.sent} sent · {a.clickers} clicked ({a.clickers / a.sent * 100:.2f}%) · 3 blocked" in card
    assert f"Holdout: {shares[HOLDOUT]} got nothing · 2 blocked" in card
    assert f"B won: it goes to the other {shares[REST]}" in card

    code, out, err = await broadcast_cli(
        "campaigns", "status", str(campaign_id), "--json", env=env, cwd=tmp_path
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["ab_test"] == figures.to_json()
    assert report["held_out"] == shares[HOLDOUT]

    # The CSV (the chat's and the CLI's) reads back as the ledger, row for row.
    export = tmp_path / "ledger.csv"
    code, _, err = await broadcast_cli(
        "campaigns", "export", str(campaign_id), "--csv", str(export), env=env, cwd=tmp_path
    )
    assert code == 0, err
    async with sessionmaker() as session:
        streamed = "".join([chunk async for chunk in export_csv(session, campaign_id, chunk_rows=50)])
    assert export.read_text(encoding="utf-8") == streamed
    exported = list(csv.reader(io.StringIO(streamed, newline="")))
    assert exported[0] == list(EXPORT_COLUMNS)
    ordered = sorted(ledger.values(), key=lambda row: row.id)
    assert [(r[0], r[1], r[8], r[9]) for r in exported[1:]] == [
        (str(row.chat_id), row.status.value, row.variant, "1" if row.chat_id in clicked else "0")
        for row in ordered
    ]
    assert sum(r[9] == "1" for r in exported[1:]) == len(plan["A"][0]) + len(plan["B"][0])


async def test_an_admin_picks_the_winner_before_the_window_ends(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    ab_workers: Workers,
    pool: ArqRedis,
    queue_name: str,
    cli_env: dict[str, str],
    tmp_path: Path,
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=60, first_chat_id=FIRST)
    campaign_id = await new_campaign(sessionmaker, bot_id, text=TEXT_A)
    env = {**cli_env, "SECRET_KEY": TEST_SECRET_KEY}
    code, _, err = await broadcast_cli(
        "campaigns", "ab", str(campaign_id), "--variant-text", TEXT_B,
        "--split", "25,25,0", "--window", "7d", env=env, cwd=tmp_path,
    )  # fmt: skip
    assert code == 0, err
    ab_workers.start(1)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)
    await wait_until(
        lambda: _variant_rows_final(sessionmaker, campaign_id), timeout_s=30, what="variants sent"
    )
    code, _, err = await broadcast_cli("campaigns", "ab-winner", str(campaign_id), "C", env=env, cwd=tmp_path)
    assert code == 1 and "there is no variant C" in err, err
    code, out, err = await broadcast_cli(
        "campaigns", "ab-winner", str(campaign_id), "a", env=env, cwd=tmp_path
    )
    assert code == 0, err
    assert "Variant A won campaign" in out
    campaign = await wait_for_status(sessionmaker, campaign_id, workers=ab_workers)
    assert campaign.status is CampaignStatus.COMPLETED and campaign.ab_winner == "A"
    ledger = await rows(sessionmaker, campaign_id)
    for row in ledger:
        want = TEXT_B if row.variant == "B" else TEXT_A
        assert [m.text for m in sim.chat(TARGET_TOKEN, row.chat_id).bot_messages] == [want]
    assert {row.variant for row in ledger} == {"A", "B", REST}
    # One edit can't correct messages that differ: refused, with what to do instead.
    code, _, err = await broadcast_cli(
        "campaigns", "edit", str(campaign_id), "--text", "Fixed", env=env, cwd=tmp_path
    )
    assert code == 1 and texts.EDIT_AB_TEST.format(campaign_id=campaign_id) in err, err
    # A second pick changes nothing: the winner is chosen.
    code, _, err = await broadcast_cli("campaigns", "ab-winner", str(campaign_id), "B", env=env, cwd=tmp_path)
    assert code == 1 and "winner is chosen already" in err
    async with sessionmaker() as session:
        assert (await abtest.variants_of(session, campaign_id))[1].content == MessageContent(TEXT_B).to_json()
