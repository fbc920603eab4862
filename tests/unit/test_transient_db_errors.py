"""Which database errors the workers retry: told by exception type and driver code, never by words.

Every exception here is a real one: SQLite's are raised by SQLite through SQLAlchemy, asyncpg's
are its own classes (each carries its SQLSTATE), wrapped as SQLAlchemy wraps driver errors.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError, ProgrammingError

from jobs.context import is_transient_db_error


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}", connect_args={"timeout": 0})
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE campaigns (id INTEGER PRIMARY KEY)"))
    yield engine
    engine.dispose()


def _raised(engine: Engine, sql: str) -> OperationalError:
    with pytest.raises(OperationalError) as caught, engine.connect() as connection:
        connection.execute(text(sql))
    return caught.value


def test_a_schema_error_naming_a_connection_column_is_not_transient(sqlite_engine: Engine) -> None:
    error = _raised(sqlite_engine, "SELECT connection_id FROM campaigns")
    assert "connection_id" in str(error)
    assert not is_transient_db_error(error)
    missing_table = _raised(sqlite_engine, "SELECT 1 FROM closed_connections")
    assert not is_transient_db_error(missing_table)
    # The same mistake on PostgreSQL: the server answered with SQLSTATE 42703.
    undefined = asyncpg.UndefinedColumnError('column "connection_id" does not exist')
    assert not is_transient_db_error(ProgrammingError("SELECT connection_id", {}, undefined))
    assert not is_transient_db_error(undefined)


def test_a_locked_sqlite_database_is_transient(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as holder:
        holder.exec_driver_sql("BEGIN EXCLUSIVE")
        error = _raised(sqlite_engine, "INSERT INTO campaigns DEFAULT VALUES")
        holder.rollback()
    assert isinstance(error.orig, sqlite3.OperationalError)
    assert error.orig.sqlite_errorcode == sqlite3.SQLITE_BUSY
    assert is_transient_db_error(error)
    assert is_transient_db_error(error.orig)


@pytest.mark.parametrize(
    "driver_error",
    [
        asyncpg.CannotConnectNowError("the database system is starting up"),  # 57P03
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),  # 57P01
        asyncpg.CrashShutdownError("terminating connection because of crash of another process"),
        asyncpg.TooManyConnectionsError("sorry, too many clients already"),  # 53300
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.ConnectionFailureError("connection failure"),  # 08006
        asyncpg.SerializationError("could not serialize access"),  # 40001
        asyncpg.DeadlockDetectedError("deadlock detected"),  # 40P01
    ],
    ids=lambda error: type(error).__name__,
)
def test_a_postgresql_restart_or_lost_race_is_transient(driver_error: Exception) -> None:
    assert is_transient_db_error(driver_error)  # raised by asyncpg at connect time, unwrapped
    assert is_transient_db_error(DBAPIError("SELECT 1", {}, driver_error))
    # SQLAlchemy re-raising it from a connect attempt, the driver error as the cause only.
    outer = DBAPIError("SELECT 1", {}, Exception("connect failed"))
    outer.__cause__ = driver_error
    assert is_transient_db_error(outer)


def test_a_lost_connection_is_transient() -> None:
    closed = asyncpg.InterfaceError("cannot call Connection.fetch(): connection is closed")
    assert is_transient_db_error(closed)
    assert is_transient_db_error(InterfaceError("SELECT 1", {}, closed))
    invalidated = DBAPIError("SELECT 1", {}, Exception("server closed"), connection_invalidated=True)
    assert is_transient_db_error(invalidated)
    assert is_transient_db_error(ConnectionRefusedError(111, "Connection refused"))
    assert is_transient_db_error(TimeoutError())


def test_errors_retrying_cannot_fix_are_final() -> None:
    duplicate = asyncpg.UniqueViolationError("duplicate key value violates unique constraint")
    assert not is_transient_db_error(IntegrityError("INSERT", {}, duplicate))
    syntax = asyncpg.PostgresSyntaxError('syntax error at or near "connection"')
    assert not is_transient_db_error(ProgrammingError("SELECT", {}, syntax))
    # Words alone decide nothing: no type or code says the connection was lost.
    assert not is_transient_db_error(sqlite3.OperationalError("connection closed, busy, timeout"))
    assert not is_transient_db_error(ValueError("connection lost"))
