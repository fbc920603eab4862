"""The audit log is append-only in the database itself, and the CLI records and reads it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from cli.audit import parse_since
from cli.common import CommandError
from panel.audit import CLI, AuditAction, record
from panel.db import create_sessionmaker
from tests.processes import broadcast_cli
from tgsim.simulator import Simulator

TOKEN = "400777:AAauditLogTargetBotTokenForTheTests"


async def test_entries_cannot_be_changed_or_deleted(engine: AsyncEngine) -> None:
    async with create_sessionmaker(engine).begin() as session:
        await record(session, CLI, AuditAction.ADD_ADMIN, details={"user_id": 5})
    for statement in ("UPDATE audit_log SET action = 'nothing'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as connection:
                await connection.execute(text(statement))
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT action FROM audit_log"))).scalars().all() == [
            "add_admin"
        ]


def test_since_reads_spans_and_dates() -> None:
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    assert parse_since("24h", now=now) == now - timedelta(hours=24)
    assert parse_since("7d", now=now) == now - timedelta(days=7)
    assert parse_since("2026-12-01T09:00", now=now) == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with pytest.raises(CommandError, match="--since: cannot read 'yesterday'"):
        parse_since("yesterday", now=now)


async def test_cli_changes_are_recorded_and_listed(sim: Simulator, database_url: str, tmp_path: Path) -> None:
    sim.add_bot(TOKEN, username="audit_bot", first_name="Audit")
    env = {"DATABASE_URL": database_url, "TELEGRAM_API_URL": sim.base_url}
    assert (await broadcast_cli("db", "upgrade", env=env, cwd=tmp_path))[0] == 0
    commands = [
        ("bots", "add", "--codename", "audited", "--token", TOKEN),
        ("bots", "cap", "audited", "12"),
        ("admins", "add", "4242", "--name", "Bea"),
        ("segments", "add", "en", "--where", "language = en"),
        ("campaigns", "create", "--bot", "audited", "--text", "Hi", "--name", "First"),
    ]
    for command in commands:
        code, out, err = await broadcast_cli(*command, env=env, cwd=tmp_path)
        assert code == 0, (command, out, err)
    # A refused change records nothing.
    code, _, err = await broadcast_cli("campaigns", "pause", "1", env=env, cwd=tmp_path)
    assert code == 1 and "cannot pause" in err, err

    code, out, err = await broadcast_cli("audit", "--json", env=env, cwd=tmp_path)
    assert code == 0, err
    entries = [json.loads(line) for line in out.splitlines()]
    assert [(e["source"], e["actor_id"], e["action"]) for e in entries] == [
        ("cli", None, "create"),
        ("cli", None, "save_segment"),
        ("cli", None, "add_admin"),
        ("cli", None, "set_frequency_cap"),
        ("cli", None, "add_bot"),
    ]
    assert entries[0]["campaign_id"] == 1 and entries[3]["details"] == {"hours": 12}
    assert TOKEN.split(":")[1] not in out

    code, out, err = await broadcast_cli("audit", "--campaign", "1", env=env, cwd=tmp_path)
    assert code == 0 and len(out.splitlines()) == 1 and "CLI" in out and "create campaign #1" in out, out
    code, out, err = await broadcast_cli("audit", "--since", "1h", "--limit", "2", env=env, cwd=tmp_path)
    assert code == 0 and len(out.splitlines()) == 2, out
    code, out, err = await broadcast_cli("audit", "--since", "soon", env=env, cwd=tmp_path)
    assert code == 1 and "--since: cannot read 'soon'" in err, err
