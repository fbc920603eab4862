"""The audit log: every change an admin makes, recorded in the transaction that makes it.

Each action of `panel.actions` (and the other changing functions: compose, recall, retry,
bots, admins, imports, segments, key rotation) takes the `Actor` who asked and records one
entry only when its change happened, so the log says what was done, never what was refused.
The table is append-only: the application only inserts, and the database's triggers refuse an
UPDATE or DELETE (migration 0015).
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import AuditEntry, Campaign

PAGE_SIZE = 10


class Source(enum.StrEnum):
    """Where a change came from."""

    CHAT = "chat"
    CLI = "cli"
    SCHEDULER = "scheduler"


class AuditAction(enum.StrEnum):
    """What was done."""

    CREATE = "create"
    DUPLICATE = "duplicate"
    SET_BUTTONS = "set_buttons"
    SCHEDULE = "schedule"
    UNSCHEDULE = "unschedule"
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    DELETE = "delete"
    RECALL = "recall"
    RETRY = "retry"
    ADD_BOT = "add_bot"
    SET_FREQUENCY_CAP = "set_frequency_cap"
    ADD_ADMIN = "add_admin"
    SET_ROLE = "set_role"
    REMOVE_ADMIN = "remove_admin"
    IMPORT_USERS = "import_users"
    SAVE_SEGMENT = "save_segment"
    ROTATE_KEYS = "rotate_keys"
    EDIT_SENT = "edit_sent"
    SET_EXPIRY = "set_expiry"
    ASK_APPROVAL = "ask_approval"
    APPROVE = "approve"
    REJECT = "reject"
    SET_APPROVAL = "set_approval_threshold"
    # ---- opt-outs by topic (issue 15)
    ADD_TOPIC = "add_topic"
    REMOVE_TOPIC = "remove_topic"
    SET_LANGUAGE = "set_language"
    # ---- A/B tests (issue 17)
    SET_AB_TEST = "set_ab_test"
    PICK_AB_WINNER = "pick_ab_winner"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asked for a change: an admin in the chat, an operator at the CLI, or the scheduler."""

    source: Source
    user_id: int | None = None

    @classmethod
    def chat(cls, user_id: int) -> Actor:
        """An admin, in the control bot."""
        return cls(Source.CHAT, user_id)

    @classmethod
    def cli(cls) -> Actor:
        """Whoever runs `broadcast` on the server (the shell account is theirs to log)."""
        return cls(Source.CLI)

    def describe(self) -> str:
        """The actor in a line of the log: `admin 7001 (chat)`, `CLI`, `scheduler`."""
        if self.user_id is not None:
            return f"admin {self.user_id} ({self.source})"
        return "CLI" if self.source is Source.CLI else str(self.source)


CLI = Actor.cli()
SCHEDULER = Actor(Source.SCHEDULER)


async def record(
    session: AsyncSession,
    actor: Actor,
    action: AuditAction,
    *,
    campaign_id: int | None = None,
    bot_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one entry, in the caller's transaction (it lands with the change or not at all)."""
    session.add(
        AuditEntry(
            actor_id=actor.user_id,
            source=str(actor.source),
            action=str(action),
            campaign_id=campaign_id,
            bot_id=bot_id,
            details=details or None,
        )
    )
    await session.flush()


async def entries(
    session: AsyncSession,
    *,
    campaign_id: int | None = None,
    since: datetime | None = None,
    before_id: int | None = None,
    bot_ids: Collection[int] | None = None,
    limit: int = PAGE_SIZE,
) -> Sequence[AuditEntry]:
    """The newest entries first, optionally of one campaign, since a time, older than an id, and
    of the bots in `bot_ids` only (an admin's scope: entries naming one of them or one of their
    campaigns; admins and keys are no bot's)."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if bot_ids is not None:
        scope = list(bot_ids)
        query = query.where(
            or_(
                AuditEntry.bot_id.in_(scope),
                AuditEntry.campaign_id.in_(select(Campaign.id).where(Campaign.bot_id.in_(scope))),
            )
        )
    if campaign_id is not None:
        query = query.where(AuditEntry.campaign_id == campaign_id)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return (await session.scalars(query)).all()


def actor_of(entry: AuditEntry) -> Actor:
    """The actor an entry names."""
    return Actor(Source(entry.source), entry.actor_id)


def describe(entry: AuditEntry) -> str:
    """What an entry says, in words: `start campaign #4`, `add_bot bot #2 {codename: news}`."""
    parts = [entry.action.replace("_", " ")]
    if entry.campaign_id is not None:
        parts.append(f"campaign #{entry.campaign_id}")
    if entry.bot_id is not None:
        parts.append(f"bot #{entry.bot_id}")
    if entry.details:
        parts.append(", ".join(f"{key}: {value}" for key, value in sorted(entry.details.items())))
    return " ".join(parts)
