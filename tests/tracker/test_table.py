"""The tracker's own `users` table matches the panel's, column for column, so the two cannot drift."""

from __future__ import annotations

from sqlalchemy import UniqueConstraint
from sqlalchemy.types import TypeDecorator, TypeEngine

from broadcast_tracker import users
from models import User

PANEL = User.__table__


def base_type(column_type: TypeEngine[object]) -> TypeEngine[object]:
    return column_type.impl_instance if isinstance(column_type, TypeDecorator) else column_type


def describe(column_type: TypeEngine[object]) -> tuple[str, object, object]:
    kind = base_type(column_type)
    return type(kind).__name__, getattr(kind, "length", None), getattr(kind, "timezone", None)


def test_every_tracker_column_is_a_panel_column_of_the_same_type() -> None:
    for column in users.columns:
        assert column.name in PANEL.columns, column.name
        assert describe(column.type) == describe(PANEL.columns[column.name].type), column.name


def test_the_tracker_writes_every_required_panel_column() -> None:
    required = {
        c.name for c in PANEL.columns if not c.nullable and c.server_default is None and not c.primary_key
    }
    assert required <= set(users.columns.keys())


def test_the_conflict_key_is_the_panels_unique_key() -> None:
    def keys(table: object) -> set[tuple[str, ...]]:
        return {
            tuple(c.name for c in constraint.columns)
            for constraint in table.constraints  # type: ignore[attr-defined]
            if isinstance(constraint, UniqueConstraint)
        }

    assert ("bot_id", "chat_id") in keys(PANEL) & keys(users)
