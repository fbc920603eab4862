"""Editing sent messages through real worker processes and the simulator: every chat shows the new
text exactly once, a worker SIGKILLed mid-edit costing nothing, a campaign still sending giving
the new version to the rest, personalised texts edited per recipient, an album's caption and
its follow-up's buttons."""

from __future__ import annotations

import json
from pathlib import Path

from arq.connections import ArqRedis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import (
    ActionStatus,
    CampaignAction,
    CampaignStatus,
    DeliveryAction,
    DeliveryActionStatus,
    User,
)
from panel import after_send, sent_edits
from panel.after_send import RecallCounts
from panel.audit import CLI
from panel.buttons import parse_button_rows
from panel.content import AlbumItem, Media, MessageContent
from panel.greetings import PERSONALISED_KEY
from panel.queue import enqueue_start
from panel.sent_edits import EditOutcome
from tests.processes import broadcast_cli
from tests.support.engine import (
    ADMIN_CHAT_ID,
    CONTROL_TOKEN,
    TARGET_TOKEN,
    Workers,
    add_audience,
    delivered_at_least,
    get_campaign,
    new_campaign,
    read,
    wait_for_status,
    wait_until,
)
from tgsim.simulator import Simulator
from tgsim.world import UserState

FIRST_CHAT = 1_000_000
OLD = "Price: 10 €, wrong"
NEW = "Price: 12 €, right"


async def _sent_campaign(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
    *,
    users: int,
    content: dict[str, object] | None = None,
) -> int:
    bot_id = await add_audience(sessionmaker, sim, active=users)
    campaign_id = await new_campaign(sessionmaker, bot_id, text=OLD, content=content)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)
    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers, timeout_s=60)
    assert campaign.status is CampaignStatus.COMPLETED and campaign.successful_sents == users
    return campaign_id


async def _ended_edit(
    sessionmaker: async_sessionmaker[AsyncSession], action_id: int, workers: Workers, *, timeout_s: float = 60
) -> tuple[CampaignAction, RecallCounts]:
    async def probe() -> tuple[CampaignAction, RecallCounts] | None:
        async with sessionmaker() as session:
            action = await after_send.get_action(session, action_id)
            counts = await after_send.recall_counts(session, action_id)
        if action is None or action.summary_sent_at is None:
            return None
        return action, counts

    return await wait_until(probe, timeout_s=timeout_s, what=f"edit {action_id} ended", logs=workers)


async def test_a_worker_killed_mid_edit_leaves_every_chat_with_the_new_text_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    (victim,) = workers.start(1)  # it sends, then runs the edit alone until it is killed
    users = 300
    campaign_id = await _sent_campaign(sessionmaker, sim, workers, pool, queue_name, users=users)
    # One user deleted the chat, one blocked the bot since.
    sim.world.bots[TARGET_TOKEN].chats[FIRST_CHAT + 299].messages.clear()
    sim.block(TARGET_TOKEN, FIRST_CHAT + 298)
    sim.set_faults(TARGET_TOKEN, latency_mean_s=0.05, latency_jitter_s=0.02)
    bold = {"type": "bold", "offset": 7, "length": 4}

    outcome, action_id, _ = await sent_edits.edit(
        sessionmaker,
        pool,
        campaign_id,
        queue_name=queue_name,
        text=NEW,
        entities=[bold],
        created_by=ADMIN_CHAT_ID,
        progress_chat_id=ADMIN_CHAT_ID,
        actor=CLI,
    )
    assert outcome is EditOutcome.STARTED and action_id is not None
    # The campaign's message is the new one at once (a duplicate or a retry sends it).
    assert (await get_campaign(sessionmaker, campaign_id)).content["text"] == NEW

    async def mid_group() -> bool:
        if sim.stats(TARGET_TOKEN).edits < 90:
            return False
        claimed = await read(
            sessionmaker,
            lambda s: s.scalar(
                select(func.count()).where(
                    DeliveryAction.action_id == action_id,
                    DeliveryAction.status == DeliveryActionStatus.CLAIMED,
                )
            ),
        )
        return bool(claimed)

    await wait_until(mid_group, what="a third edited, a group claimed", logs=workers)
    workers.kill(victim)
    workers.start(1)

    action, counts = await _ended_edit(sessionmaker, action_id, workers, timeout_s=90)

    assert action.status is ActionStatus.COMPLETED
    assert counts == RecallCounts(total=users, deleted=users - 2, gone=1, unavailable=1)
    for chat_id in range(FIRST_CHAT, FIRST_CHAT + users - 2):
        (message,) = sim.chat(TARGET_TOKEN, chat_id).bot_messages
        # The new text, shown once: one edit applied (a second try answered "not modified").
        assert (message.text, message.entities, message.edit_count) == (NEW, [bold], 1), chat_id
        assert [version["text"] for version in message.history] == [OLD]
    (untouched,) = sim.chat(TARGET_TOKEN, FIRST_CHAT + 298).bot_messages
    assert untouched.text == OLD
    assert sim.stats(TARGET_TOKEN).edits == users - 2
    attempts = await read(
        sessionmaker,
        lambda s: s.scalars(select(DeliveryAction.attempts).where(DeliveryAction.action_id == action_id)),
    )
    assert max(attempts.all()) == 2  # the dead worker's claimed steps were tried again
    summary = await sim.wait_for_message(
        CONTROL_TOKEN, ADMIN_CHAT_ID, lambda m: (m.text or "").startswith("✅ Edit of campaign")
    )
    assert f"Edited: {users - 2}" in (summary.text or "") and "message gone: 1" in (summary.text or "")

    # The campaign keeps its history: what was sent first, then this edit, who and when.
    async with sessionmaker() as session:
        history = await sent_edits.content_history(session, campaign_id)
    assert [(entry.content["text"], entry.action_id) for entry in history] == [(OLD, None), (NEW, action_id)]
    assert history[1].by == ADMIN_CHAT_ID and history[1].at is not None


async def test_an_edit_of_a_campaign_still_sending_reaches_everyone_with_the_new_version(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    users = 300
    bot_id = await add_audience(sessionmaker, sim, active=users, rate_per_s=30)
    campaign_id = await new_campaign(sessionmaker, bot_id, text=OLD)
    workers.start(1)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)
    await wait_until(
        lambda: delivered_at_least(sim, 40),
        what="some sent",
        logs=workers,
    )

    outcome, action_id, _ = await sent_edits.edit(
        sessionmaker, pool, campaign_id, queue_name=queue_name, text=NEW, actor=CLI
    )
    assert outcome is EditOutcome.STARTED and action_id is not None
    action, counts = await _ended_edit(sessionmaker, action_id, workers, timeout_s=90)
    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers, timeout_s=60)

    assert action.status is ActionStatus.COMPLETED and campaign.status is CampaignStatus.COMPLETED
    assert campaign.successful_sents == users
    for chat_id in range(FIRST_CHAT, FIRST_CHAT + users):
        (message,) = sim.chat(TARGET_TOKEN, chat_id).bot_messages
        assert message.text == NEW, chat_id
        assert message.edit_count <= 1
    # Chats reached before the edit were edited; the rest got the new version as it was sent.
    # The batches under way restarted with the new version: few chats were tried needlessly (each
    # answered "message is not modified", counted as done).
    edits = sim.stats(TARGET_TOKEN).edits
    assert 40 <= edits < users // 2
    assert counts.total == counts.deleted and edits <= counts.total < users


async def test_a_personalised_campaign_is_edited_with_each_recipients_name(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=10)
    async with sessionmaker.begin() as session:
        found = (await session.execute(select(User).where(User.bot_id == bot_id).order_by(User.id))).scalars()
        for index, user in enumerate(found):
            user.first_name = None if index == 0 else f"😀Name{index}"
    content = {**MessageContent("Hi {first_name|friend}, price 10").to_json(), PERSONALISED_KEY: True}
    campaign_id = await new_campaign(sessionmaker, bot_id, content=content)
    workers.start(1)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)
    assert (await wait_for_status(sessionmaker, campaign_id, workers=workers)).successful_sents == 10

    text = "Hi {first_name|friend}, price 12"
    bold = {"type": "bold", "offset": text.index("12"), "length": 2}
    outcome, action_id, _ = await sent_edits.edit(
        sessionmaker, pool, campaign_id, queue_name=queue_name, text=text, entities=[bold], actor=CLI
    )
    assert outcome is EditOutcome.STARTED and action_id is not None
    _, counts = await _ended_edit(sessionmaker, action_id, workers)

    assert counts == RecallCounts(total=10, deleted=10)
    for index in range(10):
        (message,) = sim.chat(TARGET_TOKEN, FIRST_CHAT + index).bot_messages
        name = "friend" if index == 0 else f"😀Name{index}"
        assert message.text == f"Hi {name}, price 12"
        # The bold moved with the name's length (UTF-16 units: the emoji takes two).
        offset = len(f"Hi {name}, price ".encode("utf-16-le")) // 2
        assert message.entities == [{"type": "bold", "offset": offset, "length": 2}]


async def test_an_albums_caption_and_its_follow_ups_buttons_are_edited(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    items = []
    for caption, data in (
        ("", b"\xff\xd8\xff\xe0 one " * 40),
        ("Old caption", b"\xff\xd8\xff\xe0 two " * 40),
    ):
        message = sim.send_message(CONTROL_TOKEN, ADMIN_CHAT_ID, media=("photo", data))
        items.append(AlbumItem(Media.from_json({"kind": "photo", **message["photo"][-1]}), caption, ()))
    buttons = parse_button_rows(["Shop - https://shop.example"])
    content = MessageContent("Tap below", album=tuple(items), buttons=buttons).to_json()
    workers.start(1)
    campaign_id = await _sent_campaign(sessionmaker, sim, workers, pool, queue_name, users=5, content=content)

    outcome, action_id, _ = await sent_edits.edit(
        sessionmaker, pool, campaign_id, queue_name=queue_name, text="New caption", actor=CLI
    )
    assert outcome is EditOutcome.STARTED and action_id is not None
    await _ended_edit(sessionmaker, action_id, workers)
    new_buttons = parse_button_rows(["New shop - https://new.example | Help - https://t.me/help"])
    outcome, second_id, _ = await sent_edits.edit(
        sessionmaker, pool, campaign_id, queue_name=queue_name, buttons=new_buttons, actor=CLI
    )
    assert outcome is EditOutcome.STARTED and second_id is not None
    _, counts = await _ended_edit(sessionmaker, second_id, workers)

    assert counts == RecallCounts(total=5, deleted=5)
    for chat_id in range(FIRST_CHAT, FIRST_CHAT + 5):
        first, second, follow_up = sim.chat(TARGET_TOKEN, chat_id).bot_messages
        assert (first.caption, first.edit_count) == (None, 0)
        assert (second.caption, second.edit_count) == ("New caption", 1)
        assert follow_up.text == "Tap below" and follow_up.url_buttons == [
            [("New shop", "https://new.example"), ("Help", "https://t.me/help")]
        ]
    assert sim.stats(TARGET_TOKEN).edits == 10
    async with sessionmaker() as session:
        history = await sent_edits.content_history(session, campaign_id)
    assert len(history) == 3


async def test_edit_from_the_cli_and_status_json(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
    cli_env: dict[str, str],
    tmp_path: Path,
) -> None:
    workers.start(1)
    campaign_id = await _sent_campaign(sessionmaker, sim, workers, pool, queue_name, users=20)

    code, out, err = await broadcast_cli(
        "campaigns", "edit", str(campaign_id), "--html", "Price: <b>12 €</b>", env=cli_env, cwd=tmp_path
    )
    assert code == 0, err
    assert f"campaign #{campaign_id}: edit #" in out and "20 sent messages" in out
    async with sessionmaker() as session:
        action = await sent_edits.latest_edit(session, campaign_id)
    assert action is not None
    await _ended_edit(sessionmaker, action.id, workers)
    (message,) = sim.chat(TARGET_TOKEN, FIRST_CHAT).bot_messages
    assert message.text == "Price: 12 €" and message.entities == [{"type": "bold", "offset": 7, "length": 4}]

    code, out, err = await broadcast_cli(
        "campaigns",
        "edit",
        str(campaign_id),
        "--button",
        "Shop - https://shop.example",
        env=cli_env,
        cwd=tmp_path,
    )
    assert code == 0, err
    async with sessionmaker() as session:
        second = await sent_edits.latest_edit(session, campaign_id)
    assert second is not None and second.id != action.id
    await _ended_edit(sessionmaker, second.id, workers)
    (message,) = sim.chat(TARGET_TOKEN, FIRST_CHAT).bot_messages
    assert message.text == "Price: 12 €" and message.url_buttons == [[("Shop", "https://shop.example")]]

    code, out, err = await broadcast_cli(
        "campaigns", "status", str(campaign_id), "--json", env=cli_env, cwd=tmp_path
    )
    assert code == 0, err
    edits = json.loads(out)["edits"]
    assert [(e["id"], e["status"], e["edited"], e["pending"]) for e in edits] == [
        (action.id, "completed", 20, 0),
        (second.id, "completed", 20, 0),
    ]

    # Refusals: the same text again, both --text and --html, no campaign, a campaign never sent.
    code, out, err = await broadcast_cli(
        "campaigns", "edit", str(campaign_id), "--html", "Price: <b>12 €</b>", env=cli_env, cwd=tmp_path
    )
    assert (code, err.strip()) == (
        1,
        f"broadcast: campaign #{campaign_id} can't be edited so: that is what the message says already",
    )
    code, out, err = await broadcast_cli(
        "campaigns", "edit", "999999", "--text", "x", env=cli_env, cwd=tmp_path
    )
    assert (code, err.strip()) == (1, "broadcast: there is no campaign #999999")
    draft = await new_campaign(
        sessionmaker, (await get_campaign(sessionmaker, campaign_id)).bot_id, text="Draft"
    )
    code, out, err = await broadcast_cli(
        "campaigns", "edit", str(draft), "--text", "x", env=cli_env, cwd=tmp_path
    )
    assert (code, err.strip()) == (1, f"broadcast: campaign #{draft} has no sent message to edit")
    code, out, err = await broadcast_cli("campaigns", "edit", str(campaign_id), env=cli_env, cwd=tmp_path)
    assert code == 2 and "--text" in err


async def test_edit_refusals(
    sessionmaker: async_sessionmaker[AsyncSession], sim: Simulator, pool: ArqRedis, queue_name: str
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=3, states={UserState.BLOCKED: 1})
    draft = await new_campaign(sessionmaker, bot_id, text="Draft")
    assert await sent_edits.edit(sessionmaker, pool, draft, queue_name=queue_name, text="x", actor=CLI) == (
        EditOutcome.NOTHING_SENT,
        None,
        None,
    )
    assert (await sent_edits.edit(sessionmaker, pool, 999_999, queue_name=queue_name, text="x", actor=CLI))[
        0
    ] is (EditOutcome.MISSING)
