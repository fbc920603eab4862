"""Apply alembic migrations from inside a running event loop.

The migration scripts are `alembic/` at the top of a checkout (where `alembic.ini` points the
`alembic` command, for writing new revisions). A wheel carries the same directory as
`panel/migration_scripts` (pyproject.toml maps it), so an installed `broadcast db upgrade` finds
them without a checkout.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

INSTALLED_SCRIPTS = Path(__file__).resolve().parent / "migration_scripts"
CHECKOUT_SCRIPTS = Path(__file__).resolve().parents[1] / "alembic"


def script_location() -> Path:
    """The directory of the migration scripts: the installed copy, else the checkout's `alembic/`."""
    return INSTALLED_SCRIPTS if INSTALLED_SCRIPTS.is_dir() else CHECKOUT_SCRIPTS


def alembic_config(database_url: str) -> Config:
    """An alembic `Config` for this project's migrations and `database_url`."""
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    config.attributes["database_url"] = database_url
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Migrate the database behind `engine` to `revision`."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))

    def _run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(_run)
