"""Tracked links: a campaign's choice, its links' targets, and every click.

Revision ID: 0013
Revises: 0016
Create Date: 2026-12-04 19:50:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base


revision: str = '0013'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('track_links', sa.Boolean(), nullable=True))
    op.create_table('link_targets',
    sa.Column('campaign_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('link_index', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('label', sa.String(length=256), nullable=True),
    sa.PrimaryKeyConstraint('campaign_id', 'link_index', name=op.f('pk_link_targets'))
    )
    op.create_table('link_clicks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('campaign_id', sa.BigInteger(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('link_index', sa.Integer(), nullable=False),
    sa.Column('clicked_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_link_clicks'))
    )
    with op.batch_alter_table('link_clicks', schema=None) as batch_op:
        batch_op.create_index('ix_link_clicks_campaign', ['campaign_id', 'link_index', 'chat_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('link_clicks', schema=None) as batch_op:
        batch_op.drop_index('ix_link_clicks_campaign')

    op.drop_table('link_clicks')
    op.drop_table('link_targets')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('track_links')
