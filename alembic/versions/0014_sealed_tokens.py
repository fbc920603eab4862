"""Target bot tokens encrypted at rest: `bots.token` becomes `bots.sealed_token` (Fernet).

Every existing row is encrypted under SECRET_KEY's first key; with rows to encrypt and no key the
upgrade stops naming SECRET_KEY. The downgrade decrypts them back (it needs the key too).

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-04 20:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from panel.secrets import is_sealed, token_box
from panel.settings import load_settings


revision: str = '0014'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rewrite(column: str, change: object) -> None:
    bots = sa.table('bots', sa.column('id', sa.BigInteger()), sa.column(column, sa.String()))
    connection = op.get_bind()
    rows = connection.execute(sa.select(bots.c.id, bots.c[column])).all()
    if not rows:
        return
    box = token_box(load_settings())
    for bot_id, value in rows:
        new = change(box, value)  # type: ignore[operator]
        if new != value:
            connection.execute(sa.update(bots).where(bots.c.id == bot_id).values({column: new}))


def upgrade() -> None:
    with op.batch_alter_table('bots', schema=None) as batch_op:
        batch_op.alter_column('token', new_column_name='sealed_token', type_=sa.String(length=512))
    _rewrite('sealed_token', lambda box, value: value if is_sealed(value) else box.seal(value))


def downgrade() -> None:
    _rewrite('sealed_token', lambda box, value: box.open(value) if is_sealed(value) else value)
    with op.batch_alter_table('bots', schema=None) as batch_op:
        batch_op.alter_column('sealed_token', new_column_name='token', type_=sa.String(length=256))
