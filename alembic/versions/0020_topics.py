"""Topics and opt-outs by topic: each bot's topics, a campaign's topic, who opted out (issue 15).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 21:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import models.base
from alembic import op


revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'bot_topics',
        sa.Column('bot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('topic', sa.String(length=32), nullable=False),
        sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['bot_id'], ['bots.id'], name=op.f('fk_bot_topics_bot_id_bots'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('bot_id', 'topic', name=op.f('pk_bot_topics')),
    )
    # Written by the tracker inside the target bot: no foreign key to users, whose row may come later.
    op.create_table(
        'user_topic_optouts',
        sa.Column('bot_id', sa.BigInteger(), nullable=False),
        sa.Column('chat_id', sa.BigInteger(), nullable=False),
        sa.Column('topic', sa.String(length=32), nullable=False),
        sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('bot_id', 'chat_id', 'topic', name=op.f('pk_user_topic_optouts')),
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('topic', sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column('unsubscribe_button', sa.Boolean(), server_default=sa.text('false'), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('unsubscribe_button')
        batch_op.drop_column('topic')
    op.drop_table('user_topic_optouts')
    op.drop_table('bot_topics')
