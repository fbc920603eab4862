"""Campaign groups: one announcement to several bots, one copy per person (issue 15).

Revision ID: 0019
Revises: 0012
Create Date: 2026-12-06 21:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0019'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('group_id', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('group_position', sa.Integer(), nullable=True))
    # The siblings of a group are read together: by group, in the admin's order.
    op.create_index('ix_campaigns_group', 'campaigns', ['group_id', 'group_position'])


def downgrade() -> None:
    op.drop_index('ix_campaigns_group', table_name='campaigns')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('group_position')
        batch_op.drop_column('group_id')
