"""After-send actions (a recall) and each recipient's step of one; a retry's parent campaign.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 13:03:31.283147
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(
            sa.Column('retry_unconfirmed', sa.Boolean(), server_default=sa.text('false'), nullable=False)
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_campaigns_parent_id_campaigns'), 'campaigns', ['parent_id'], ['id'], ondelete='SET NULL'
        )
    op.create_table('campaign_actions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('campaign_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.Enum('recall', name='action_kind', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('status', sa.Enum('running', 'paused', 'completed', 'cancelled', name='action_status', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('progress_chat_id', sa.BigInteger(), nullable=True),
    sa.Column('progress_message_id', sa.BigInteger(), nullable=True),
    sa.Column('summary_sent_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_actions_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_actions'))
    )
    with op.batch_alter_table('campaign_actions', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_actions_campaign', ['campaign_id', 'kind'], unique=False)

    op.create_table('delivery_actions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('action_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('delivery_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('message_ids', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'claimed', 'done', 'gone', 'too_old', 'unavailable', 'failed', 'cancelled', name='delivery_action_status', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['action_id'], ['campaign_actions.id'], name=op.f('fk_delivery_actions_action_id_campaign_actions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_delivery_actions_delivery_id_deliveries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_actions')),
    sa.UniqueConstraint('action_id', 'delivery_id', name=op.f('uq_delivery_actions_action_id_delivery_id'))
    )
    with op.batch_alter_table('delivery_actions', schema=None) as batch_op:
        batch_op.create_index('ix_delivery_actions_pending', ['action_id', 'status', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('delivery_actions', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_actions_pending')

    op.drop_table('delivery_actions')
    with op.batch_alter_table('campaign_actions', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_actions_campaign')

    op.drop_table('campaign_actions')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_campaigns_parent_id_campaigns'), type_='foreignkey')
        batch_op.drop_column('retry_unconfirmed')
        batch_op.drop_column('parent_id')
