"""Campaign events: the pauses, resumes and 429 waits the report chart marks on its time axis.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base


revision: str = '0022'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('campaign_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('campaign_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.Enum('paused', 'resumed', 'flood_wait', name='campaign_event_kind', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_events_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_events'))
    )
    with op.batch_alter_table('campaign_events', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_events_campaign', ['campaign_id', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('campaign_events', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_events_campaign')
    op.drop_table('campaign_events')
