"""The columns of the panel's `users` table that the tracker writes, as SQLAlchemy Core."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime; stored naive on SQLite, as the panel stores it."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("bot_id", BigInteger, nullable=False),
    Column("platform", String(32), nullable=False),
    Column("chat_id", BigInteger, nullable=False),
    Column("username", String(64)),
    Column("first_name", String(256)),
    Column("last_name", String(256)),
    Column("language_code", String(16)),
    Column("is_unavailable", Boolean, nullable=False),
    Column("unavailable_reason", String(256)),
    Column("unavailable_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime()),
    UniqueConstraint("bot_id", "chat_id"),
)

user_topic_optouts = Table(
    "user_topic_optouts",
    metadata,
    Column("bot_id", BigInteger, primary_key=True),
    Column("chat_id", BigInteger, primary_key=True),
    Column("topic", String(32), primary_key=True),
    Column("created_at", UTCDateTime(), nullable=False),
)
"""Who tapped "Unsubscribe from <topic>" under one of the bot's broadcasts (the panel leaves them
out of that topic's campaigns)."""
