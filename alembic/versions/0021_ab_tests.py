"""A/B tests: a campaign's variants and split, each recipient's group, and two delivery states
(`waiting` for the rest until the winner is chosen, `held_out` for the holdout).

Revision ID: 0021
Revises: 0018
Create Date: 2026-12-06 21:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base


revision: str = '0021'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = ('pending', 'sending', 'sent', 'failed', 'unavailable', 'unconfirmed', 'cancelled')
NEW_STATUSES = (*OLD_STATUSES, 'waiting', 'held_out')


def _status_enum(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name='delivery_status', native_enum=False, create_constraint=True, length=16)


def _set_statuses(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name == 'postgresql':
        listed = ', '.join(f"'{value}'" for value in new)
        op.drop_constraint(op.f('ck_deliveries_delivery_status'), 'deliveries', type_='check')
        op.create_check_constraint(op.f('ck_deliveries_delivery_status'), 'deliveries', f'status IN ({listed})')
        return
    # SQLite: the table is copied with the new CHECK (batch mode).
    with op.batch_alter_table('deliveries', schema=None, recreate='always') as batch_op:
        batch_op.alter_column(
            'status', existing_type=_status_enum(old), type_=_status_enum(new), existing_nullable=False
        )


def upgrade() -> None:
    op.create_table(
        'campaign_variants',
        sa.Column('campaign_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('label', sa.String(length=1), nullable=False),
        sa.Column('share_percent', sa.Integer(), nullable=False),
        sa.Column('content', sa.JSON(), nullable=True),
        sa.Column('send_options', sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ['campaign_id'], ['campaigns.id'],
            name=op.f('fk_campaign_variants_campaign_id_campaigns'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('campaign_id', 'label', name=op.f('pk_campaign_variants')),
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ab_seed', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('ab_holdout_percent', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('ab_window_s', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('ab_measure', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('ab_winner', sa.String(length=1), nullable=True))
        batch_op.add_column(sa.Column('ab_decided_at', models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('held_out_count', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('variant', sa.String(length=8), nullable=True))
    _set_statuses(OLD_STATUSES, NEW_STATUSES)


def downgrade() -> None:
    op.execute("DELETE FROM deliveries WHERE status IN ('waiting', 'held_out')")
    _set_statuses(NEW_STATUSES, OLD_STATUSES)
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_column('variant')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('held_out_count')
        batch_op.drop_column('ab_decided_at')
        batch_op.drop_column('ab_winner')
        batch_op.drop_column('ab_measure')
        batch_op.drop_column('ab_window_s')
        batch_op.drop_column('ab_holdout_percent')
        batch_op.drop_column('ab_seed')
    op.drop_table('campaign_variants')
