"""Four-eyes approval: a per-bot threshold and each campaign's request and decision.

Revision ID: 0017
Revises: 0013
Create Date: 2026-12-04 20:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0017'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('bots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approval_threshold', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approval_state', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('approval_requested_by', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('approval_decided_by', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('approval_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('approval_fingerprint', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        for column in ('approval_fingerprint', 'approval_note', 'approval_decided_by', 'approval_requested_by', 'approval_state'):
            batch_op.drop_column(column)
    with op.batch_alter_table('bots', schema=None) as batch_op:
        batch_op.drop_column('approval_threshold')
