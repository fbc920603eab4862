"""Edits of sent messages: an action's new content and the content it replaced; the `edit` kind.
A campaign's expiry ("Delete after…") and when its recall was started for it.

Revision ID: 0012
Revises: 0017
Create Date: 2026-12-04 19:55:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base


revision: str = '0012'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KIND = sa.Enum('recall', name='action_kind', native_enum=False, create_constraint=True, length=16)
NEW_KIND = sa.Enum('recall', 'edit', name='action_kind', native_enum=False, create_constraint=True, length=16)


def _set_kinds(old: sa.Enum, new: sa.Enum, kinds: str) -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint(op.f('ck_campaign_actions_action_kind'), 'campaign_actions', type_='check')
        op.create_check_constraint(op.f('ck_campaign_actions_action_kind'), 'campaign_actions', f'kind IN ({kinds})')
        return
    # SQLite: the table is copied with the new CHECK (batch mode).
    with op.batch_alter_table('campaign_actions', schema=None, recreate='always') as batch_op:
        batch_op.alter_column('kind', existing_type=old, type_=new, existing_nullable=False)


def upgrade() -> None:
    with op.batch_alter_table('campaign_actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('previous_content', sa.JSON(), nullable=True))
    _set_kinds(OLD_KIND, NEW_KIND, "'recall', 'edit'")
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expire_after_s', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('expiry_started_at', models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('expiry_started_at')
        batch_op.drop_column('expire_after_s')
    op.execute("DELETE FROM campaign_actions WHERE kind = 'edit'")
    _set_kinds(NEW_KIND, OLD_KIND, "'recall'")
    with op.batch_alter_table('campaign_actions', schema=None) as batch_op:
        batch_op.drop_column('previous_content')
        batch_op.drop_column('content')
