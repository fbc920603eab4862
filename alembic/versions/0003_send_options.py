"""Campaigns keep their send options and count the messages they pinned.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 07:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('send_options', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('pinned_count', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('pinned_count')
        batch_op.drop_column('send_options')
