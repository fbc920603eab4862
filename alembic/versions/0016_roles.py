"""Roles: each admin's role (owner, editor, sender, viewer) and the bots it is limited to.

Existing admins stay owners over every bot, as they were.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 20:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('admins', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.String(length=16), server_default='owner', nullable=False))
    op.create_table('admin_bots',
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('bot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['bot_id'], ['bots.id'], name=op.f('fk_admin_bots_bot_id_bots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['admins.user_id'], name=op.f('fk_admin_bots_user_id_admins'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'bot_id', name=op.f('pk_admin_bots'))
    )


def downgrade() -> None:
    op.drop_table('admin_bots')
    with op.batch_alter_table('admins', schema=None) as batch_op:
        batch_op.drop_column('role')
