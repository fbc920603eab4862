"""A per-bot frequency cap: users reached within N hours are left out of the next campaign.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 13:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('bots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('frequency_cap_hours', sa.Integer(), server_default='0', nullable=False))
    # The cap looks up each user's recent sent rows: by user, then status and time.
    op.create_index('ix_deliveries_user_sent', 'deliveries', ['user_id', 'status', 'finished_at'])


def downgrade() -> None:
    op.drop_index('ix_deliveries_user_sent', table_name='deliveries')
    with op.batch_alter_table('bots', schema=None) as batch_op:
        batch_op.drop_column('frequency_cap_hours')
