"""A segment saved and counted in the CLI, and a campaign for it through the real engine: exactly
its members receive it, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from arq.connections import ArqRedis
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Campaign, CampaignStatus, Delivery, DeliveryStatus, TargetBot, User, utcnow
from panel.queue import enqueue_start
from tests.processes import broadcast_cli
from tests.support.engine import (
    TARGET_TOKEN,
    Workers,
    add_audience,
    new_campaign,
    wait_for_status,
)
from tgsim.simulator import Simulator

FIRST = 1_000_000


async def test_a_segment_is_saved_counted_and_reaches_exactly_its_members(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
    tmp_path: Path,
    cli_env: dict[str, str],
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=40)
    now = utcnow()
    async with sessionmaker.begin() as session:
        target = await session.get(TargetBot, bot_id)
        assert target is not None
        users = {u.chat_id: u for u in (await session.execute(select(User))).scalars()}
        for n in range(40):
            user = users[FIRST + n]
            user.language_code = ("ru", "uk", "en", "de")[n % 4]
            user.last_seen_at = now - timedelta(days=5 if n % 3 else 60)
            user.attributes = {"plan": "pro" if n % 5 == 0 else "free"}
        users[FIRST + 39].is_unavailable = True
    # Users 0-9 already got campaign `earlier`.
    earlier = await new_campaign(sessionmaker, bot_id)
    async with sessionmaker.begin() as session:
        session.add_all(
            Delivery(
                campaign_id=earlier,
                user_id=users[FIRST + n].id,
                chat_id=FIRST + n,
                status=DeliveryStatus.SENT,
            )
            for n in range(10)
        )
        await session.execute(
            update(Campaign).where(Campaign.id == earlier).values(status=CampaignStatus.COMPLETED)
        )
    where = f"(language in (ru, uk) and active within 30d and not received {earlier}) or plan = pro"

    def expected(n: int) -> bool:
        if n == 39:  # unavailable
            return False
        recent = n % 3 != 0
        return (n % 4 in (0, 1) and recent and n >= 10) or n % 5 == 0

    members = {FIRST + n for n in range(40) if expected(n)}

    code, out, err = await broadcast_cli(
        "segments", "add", "ru-news", "--where", "language in ru", env=cli_env, cwd=tmp_path
    )
    assert code == 1 and "at character 13: expected “(”" in err, err
    code, out, err = await broadcast_cli(
        "segments", "add", "ru-news", "--where", where, env=cli_env, cwd=tmp_path
    )
    assert code == 0, err
    code, out, err = await broadcast_cli("segments", "list", "--json", env=cli_env, cwd=tmp_path)
    assert json.loads(out) == [{"name": "ru-news", "where": where}]
    code, out, err = await broadcast_cli(
        "segments", "count", "--segment", "ru-news", env=cli_env, cwd=tmp_path
    )
    assert code == 0 and f"{target.codename}: {len(members)}" in out, (out, err)

    code, out, err = await broadcast_cli(
        "campaigns",
        "create",
        "--bot",
        target.codename,
        "--text",
        "Only you",
        "--segment",
        "nope",
        env=cli_env,
        cwd=tmp_path,
    )
    assert code == 1 and "there is no segment 'nope'" in err
    code, out, err = await broadcast_cli(
        "campaigns",
        "create",
        "--bot",
        target.codename,
        "--text",
        "Only you",
        "--segment",
        "ru-news",
        env=cli_env,
        cwd=tmp_path,
    )
    assert code == 0, err
    campaign_id = int(out.strip())
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Campaign)) == 2

    workers.start(1)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)
    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers)
    assert campaign.status is CampaignStatus.COMPLETED and campaign.total_recipients == len(members)
    reached = {chat for chat in range(FIRST, FIRST + 40) if sim.chat(TARGET_TOKEN, chat).bot_messages}
    assert reached == members


async def test_the_frequency_cap_and_an_excluded_segment_leave_out_exactly_the_right_people(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
    tmp_path: Path,
    cli_env: dict[str, str],
) -> None:
    from panel.audience import audience_of

    bot_id = await add_audience(sessionmaker, sim, active=30)
    now = utcnow()
    async with sessionmaker.begin() as session:
        target = await session.get(TargetBot, bot_id)
        assert target is not None
        users = {u.chat_id: u for u in (await session.execute(select(User))).scalars()}
        for n in range(30):
            users[FIRST + n].attributes = {"plan": "pro" if n >= 25 else "free"}
    earlier = await new_campaign(sessionmaker, bot_id)
    async with sessionmaker.begin() as session:
        # 0-9 got a campaign of this bot 2 h ago, 10-14 30 h ago, 15 had theirs fail.
        session.add_all(
            Delivery(
                campaign_id=earlier,
                user_id=users[FIRST + n].id,
                chat_id=FIRST + n,
                status=DeliveryStatus.FAILED if n == 15 else DeliveryStatus.SENT,
                finished_at=now - timedelta(hours=2 if n < 10 else 30),
            )
            for n in range(16)
        )
    code, out, err = await broadcast_cli("bots", "cap", target.codename, "24", env=cli_env, cwd=tmp_path)
    assert code == 0 and "within 24 h" in out, err
    code, out, err = await broadcast_cli(
        "segments", "add", "paying", "--where", "plan = pro", env=cli_env, cwd=tmp_path
    )
    assert code == 0, err
    code, out, err = await broadcast_cli(
        "campaigns",
        "create",
        "--bot",
        target.codename,
        "--text",
        "Not again",
        "--exclude-segment",
        "paying",
        env=cli_env,
        cwd=tmp_path,
    )
    assert code == 0, err
    campaign_id = int(out.strip())
    async with sessionmaker() as session:
        campaign = await session.get(Campaign, campaign_id)
        bot = await session.get(TargetBot, bot_id)
        assert campaign is not None and bot is not None
        assert campaign.audience_filter == "not (plan = pro)"
        audience = await audience_of(session, bot, audience_filter=campaign.audience_filter)
    # The preview's figures: 10 left out by the cap, 5 paying outside the rule.
    assert (audience.available, audience.capped, audience.excluded) == (15, 10, 5)

    workers.start(1)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)
    done = await wait_for_status(sessionmaker, campaign_id, workers=workers)
    assert done.status is CampaignStatus.COMPLETED and done.total_recipients == 15
    reached = {chat for chat in range(FIRST, FIRST + 30) if sim.chat(TARGET_TOKEN, chat).bot_messages}
    assert reached == {FIRST + n for n in range(10, 25)}
