"""Admin languages: the language each admin chose for the control bot (issue 16).

The language an admin picked with /language, or else the one their Telegram client last sent,
so that the workers write progress and summaries in it too.

Revision ID: 0018
Revises: 0020
Create Date: 2026-12-06 21:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base


revision: str = '0018'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('admin_languages',
    sa.Column('user_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('chosen', sa.Boolean(), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_admin_languages'))
    )


def downgrade() -> None:
    op.drop_table('admin_languages')
