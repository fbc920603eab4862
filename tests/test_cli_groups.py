"""`broadcast campaigns create --bot A --bot B`: one announcement through several bots."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from models import Campaign, CampaignStatus, TargetBot
from panel.db import create_engine, create_sessionmaker
from tests.processes import broadcast_cli
from tests.support.sim import TOKEN
from tgsim.simulator import Simulator

SHOP_TOKEN = "300002:AAcliShopBotToken"


async def _campaigns(database_url: str) -> list[tuple[int, str, int | None, int | None, CampaignStatus]]:
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            found = await session.execute(
                select(
                    Campaign.id,
                    TargetBot.codename,
                    Campaign.group_id,
                    Campaign.group_position,
                    Campaign.status,
                )
                .join(TargetBot, TargetBot.id == Campaign.bot_id)
                .order_by(Campaign.id)
            )
            return [tuple(row) for row in found.all()]  # type: ignore[misc]
    finally:
        await engine.dispose()


async def test_campaigns_create_with_several_bots_makes_one_group_in_their_order(
    sim: Simulator, database_url: str, redis_url: str, tmp_path: Path
) -> None:
    sim.add_bot(SHOP_TOKEN, username="shop_bot")
    env = {"DATABASE_URL": database_url, "TELEGRAM_API_URL": sim.base_url, "REDIS_URL": redis_url}
    for command in (
        ("db", "upgrade"),
        ("bots", "add", "--codename", "news", "--token", TOKEN),
        ("bots", "add", "--codename", "shop", "--token", SHOP_TOKEN),
    ):
        code, _, err = await broadcast_cli(*command, env=env, cwd=tmp_path)
        assert code == 0, err

    # Bad input creates nothing and says what is wrong.
    for bots, error in (
        (["news", "news"], "a --bot is given twice"),
        (["shop", "club"], "there is no target bot 'club'"),
    ):
        code, out, err = await broadcast_cli(
            "campaigns", "create", *(f"--bot={bot}" for bot in bots), "--text", "Hi", env=env, cwd=tmp_path
        )
        assert (code, out) == (1, "")
        assert error in err
    assert await _campaigns(database_url) == []

    code, out, err = await broadcast_cli(
        "campaigns", "create", "--bot", "shop", "--bot", "news", "--text", "Hi", env=env, cwd=tmp_path
    )
    assert code == 0, err
    found = await _campaigns(database_url)
    (first, *_), (second, *_) = found
    assert found == [
        (first, "shop", first, 0, CampaignStatus.DRAFT),
        (second, "news", first, 1, CampaignStatus.DRAFT),
    ]
    assert out.splitlines() == [
        f"group #{first}: 2 campaigns, one per bot, in this order:",
        f"#{first} shop",
        f"#{second} news",
    ]

    code, out, err = await broadcast_cli("campaigns", "status", str(second), "--json", env=env, cwd=tmp_path)
    assert code == 0, err
    report = json.loads(out)
    assert report["group_id"] == first
    assert [sibling["id"] for sibling in report["group"]] == [first, second]
    code, out, err = await broadcast_cli("campaigns", "status", str(second), env=env, cwd=tmp_path)
    assert f"Bot 2 of 2 of group #{first}: news" in out

    # An action on one campaign of the group acts on every one.
    code, out, err = await broadcast_cli("campaigns", "cancel", str(second), env=env, cwd=tmp_path)
    assert code == 0, err
    assert [row[4] for row in await _campaigns(database_url)] == [CampaignStatus.CANCELLED] * 2
