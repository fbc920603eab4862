"""What every subcommand shares: settings that fail in one line, a database, a clean exit."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import NoReturn, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from jobs.engine import eventloop
from panel.db import create_engine, create_sessionmaker
from panel.secrets import TokenError
from panel.settings import Settings, SettingsError, load_settings

T = TypeVar("T")


class CommandError(Exception):
    """A command that cannot go on; the message is printed as one line and the exit code is 1."""


def fail(message: str, *, code: int = 1) -> NoReturn:
    """Print `message` to stderr as one line and exit with `code`."""
    print(f"broadcast: {message}", file=sys.stderr)
    raise SystemExit(code)


def settings_or_exit() -> Settings:
    """The settings, or exit with one line naming the variable that is wrong."""
    try:
        return load_settings()
    except SettingsError as exc:
        fail(f"configuration error: {exc}", code=2)


def run(coroutine_factory: Callable[[], Awaitable[T]], *, fast_loop: bool = False) -> T:
    """Run an async command; its `CommandError`/`SettingsError` end the program in one line.

    `fast_loop`: on uvloop where installed (the sending worker, see `jobs.engine.eventloop`)."""

    async def main() -> T:
        return await coroutine_factory()

    try:
        return eventloop.run(main()) if fast_loop else asyncio.run(main())
    except SettingsError as exc:
        fail(f"configuration error: {exc}", code=2)
    except (CommandError, TokenError) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted", code=130)


@asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[tuple[AsyncEngine, async_sessionmaker[AsyncSession]]]:
    """An engine and a sessionmaker for `settings.database_url`, disposed at the end."""
    engine = create_engine(settings.database_url)
    try:
        yield engine, create_sessionmaker(engine)
    except OSError as exc:
        raise CommandError(
            f"the database at {engine.url.render_as_string()} does not answer: {exc}"
        ) from None
    finally:
        await engine.dispose()
