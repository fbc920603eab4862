"""`broadcast admins add|set|remove|list` with roles and their bots; mistakes named, nothing saved."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import AdminLanguage, AuditEntry, Campaign, CampaignStatus, TargetBot, User
from tests.processes import broadcast_cli
from tests.support.keys import sealed


async def test_admins_get_roles_over_listed_bots(
    sessionmaker: async_sessionmaker[AsyncSession], database_url: str, tmp_path: Path
) -> None:
    async with sessionmaker.begin() as session:
        session.add(TargetBot(codename="news", sealed_token=sealed("400555:AAnewsTokenOfTheRolesTest")))
    env = {"DATABASE_URL": database_url, "ADMIN_IDS": "7001"}

    async def cli(*args: str) -> tuple[int, str]:
        code, out, err = await broadcast_cli("admins", *args, env=env, cwd=tmp_path)
        return code, out + err

    code, out = await cli("add", "5001", "--role", "boss")
    assert code == 1 and "--role: unknown role 'boss'; use one of owner, editor, sender, viewer" in out, out
    code, out = await cli("add", "5001", "--role", "viewer", "--bots", "nope")
    assert code == 1 and "there is no target bot 'nope'" in out, out
    code, out = await cli("list")
    assert "5001" not in out, out  # the refused add saved nothing

    code, out = await cli("add", "5001", "--name", "Val", "--role", "viewer")
    assert code == 0 and "viewer of all bots" in out, out
    code, out = await cli("set", "5001", "--role", "editor", "--bots", "news")
    assert code == 0 and "editor of news" in out, out
    code, out = await cli("list")
    lines = out.splitlines()
    assert any("7001" in line and "owner of all bots" in line for line in lines), out
    assert any("5001" in line and "Val" in line and "editor of news" in line for line in lines), out
    code, out = await cli("set", "7001", "--role", "viewer")
    assert code == 1 and "ADMIN_IDS" in out, out
    code, out = await cli("remove", "5001")
    assert code == 0 and "removed" in out, out
    code, out = await cli("remove", "5001")
    assert code == 1 and "not in the admins table" in out, out
    code, out = await cli("list")
    assert "5001" not in out, out


async def test_cli_sets_the_approval_threshold_and_never_sends_unapproved(
    sessionmaker: async_sessionmaker[AsyncSession], database_url: str, tmp_path: Path
) -> None:
    async with sessionmaker.begin() as session:
        bot = TargetBot(codename="news", sealed_token=sealed("400556:AAnewsTokenOfTheApprovalTest"))
        session.add(bot)
        await session.flush()
        session.add_all(User(bot_id=bot.id, chat_id=chat_id) for chat_id in (1, 2, 3))
    env = {"DATABASE_URL": database_url}

    async def cli(*args: str) -> tuple[int, str]:
        code, out, err = await broadcast_cli(*args, env=env, cwd=tmp_path)
        return code, out + err

    code, out = await cli("bots", "approval", "nope", "3")
    assert code == 1 and "there is no target bot 'nope'" in out, out
    code, out = await cli("bots", "approval", "news", "3")
    assert code == 0 and "reaching 3 users need a second admin's approval" in out, out
    code, out = await cli("campaigns", "create", "--bot", "news", "--text", "Hello", "--name", "Big")
    assert code == 0, out
    code, out = await cli("campaigns", "send", "1")
    assert code == 1 and "needs a second admin's approval" in out, out
    async with sessionmaker() as session:
        campaign = await session.get(Campaign, 1)
    assert campaign is not None and campaign.status is CampaignStatus.DRAFT
    code, out = await cli("bots", "approval", "news", "0")
    assert code == 0 and "need no approval" in out, out


async def test_admins_language_sets_what_the_control_bot_speaks(
    sessionmaker: async_sessionmaker[AsyncSession], database_url: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": database_url, "ADMIN_IDS": "7001"}

    async def cli(*args: str) -> tuple[int, str]:
        code, out, err = await broadcast_cli("admins", "language", *args, env=env, cwd=tmp_path)
        return code, out + err

    code, out = await cli("7001", "de")
    assert code == 2 and "invalid choice: 'de'" in out, out
    code, out = await cli("5555", "ru")
    assert code == 1 and "5555 is not an admin" in out, out
    code, out = await cli("7001", "ru")
    assert code == 0 and "admin 7001: the control bot speaks ru" in out, out
    async with sessionmaker() as session:
        stored = await session.get(AdminLanguage, 7001)
        entries = (await session.execute(select(AuditEntry))).scalars().all()
    assert stored is not None and (stored.language, stored.chosen) == ("ru", True)
    assert [(entry.source, entry.action, entry.details) for entry in entries] == [
        ("cli", "set_language", {"user_id": 7001, "language": "ru"})
    ]
