"""CSV import of a target bot's users: valid rows kept, malformed rows reported by line."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cli.users_import import ImportFileError, import_users
from models import TargetBot, User
from tests.support.keys import sealed


async def _bot(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker.begin() as session:
        bot = TargetBot(codename="news", sealed_token=sealed("1:abc"))
        session.add(bot)
        await session.flush()
        return bot.id


async def _users(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[int, User]:
    async with sessionmaker() as session:
        return {u.chat_id: u for u in (await session.execute(select(User))).scalars()}


async def test_malformed_rows_are_reported_and_valid_rows_imported(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    bot_id = await _bot(sessionmaker)
    path = tmp_path / "users.csv"
    path.write_text(
        "chat_id,username,first_name,last_name,language_code\n"
        "101,ann,Ann,Lee,en\n"
        "abc,bob,Bob,,de\n"
        "102,carl,Carl\n"
        "\n"
        "103,,Dora,,\n"
        "0,zero,,,\n"
        "101,ann2,Ann,Lee,en\n",
        encoding="utf-8",
    )
    report = await import_users(engine, path, bot_id=bot_id)
    assert [(e.line, e.reason) for e in report.errors] == [
        (3, "chat_id 'abc' is not a whole number"),
        (4, "expected 5 fields, found 3"),
        (7, "chat_id 0 is out of range"),
    ]
    assert report.inserted == 2
    assert report.duplicates == 1
    users = await _users(sessionmaker)
    assert sorted(users) == [101, 103]
    assert users[101].username == "ann2"  # the later row wins
    assert users[103].username is None and users[103].first_name == "Dora"


async def test_reimport_updates_without_duplicating(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    bot_id = await _bot(sessionmaker)
    path = tmp_path / "users.csv"
    path.write_text("chat_id,first_name\n1,A\n2,B\n", encoding="utf-8")
    await import_users(engine, path, bot_id=bot_id)
    path.write_text("chat_id,first_name\n2,Bee\n3,C\n", encoding="utf-8")
    report = await import_users(engine, path, bot_id=bot_id)
    assert (report.inserted, report.updated) == (1, 1)
    users = await _users(sessionmaker)
    assert {k: u.first_name for k, u in users.items()} == {1: "A", 2: "Bee", 3: "C"}


async def test_not_utf8_is_refused_before_anything_is_written(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    bot_id = await _bot(sessionmaker)
    path = tmp_path / "users.csv"
    path.write_bytes("chat_id,first_name\n1,A\n2,Jos\u00e9\n".encode("latin-1"))
    with pytest.raises(ImportFileError, match="not UTF-8"):
        await import_users(engine, path, bot_id=bot_id)
    assert await _users(sessionmaker) == {}


async def test_missing_chat_id_column_is_refused(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    bot_id = await _bot(sessionmaker)
    path = tmp_path / "users.csv"
    path.write_text("id,name\n1,A\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="no chat_id column"):
        await import_users(engine, path, bot_id=bot_id)


async def test_byte_order_mark_and_header_case_are_accepted(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    bot_id = await _bot(sessionmaker)
    path = tmp_path / "users.csv"
    path.write_text("\ufeffChat_ID,Username\n-1001,group\n", encoding="utf-8")
    report = await import_users(engine, path, bot_id=bot_id)
    assert report.inserted == 1
    assert (await _users(sessionmaker))[-1001].username == "group"


async def test_oversized_and_binary_rows_are_reported_and_the_rest_imported(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    bot_id = await _bot(sessionmaker)
    path = tmp_path / "users.csv"
    path.write_text(
        "chat_id,first_name\n"
        "1,Ann\n"
        f'2,"{"x" * 200_000}"\n'  # larger than the csv module's field limit
        "3,Bob\n"
        f"4,{'y' * 300}\n"  # longer than first_name allows
        "5,Eve\n",
        encoding="utf-8",
    )
    report = await import_users(engine, path, bot_id=bot_id)
    assert report.inserted == 3
    lines = {error.line for error in report.errors}
    assert 5 in lines  # the over-long first_name
    assert report.error_count == 2
    async with sessionmaker() as session:
        chats = set((await session.execute(select(User.chat_id))).scalars())
        assert chats == {1, 3, 5}
        assert (await session.execute(select(func.count()).select_from(User))).scalar_one() == 3


async def test_a_large_file_with_many_repeats_keeps_one_row_per_chat(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    bot_id = await _bot(sessionmaker)
    path = tmp_path / "users.csv"
    rows = 60_000  # more than one import chunk, so repeats cross chunk borders
    with path.open("w", encoding="utf-8") as handle:
        handle.write("chat_id,username\n")
        for index in range(rows):
            handle.write(f"{index % 25_000 + 1},user{index}\n")
    report = await import_users(engine, path, bot_id=bot_id)
    assert report.rows_read == rows
    assert report.inserted == 25_000
    async with sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(User))).scalar_one() == 25_000
        last = (await session.execute(select(User.username).where(User.chat_id == 1))).scalar_one()
    assert last == f"user{50_000}"  # the last occurrence wins


async def test_other_columns_become_attributes_that_segments_select(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    from panel.segments import count_segment

    bot_id = await _bot(sessionmaker)
    path = tmp_path / "users.csv"
    path.write_text(
        "chat_id,first_name,Plan,city,language,bad name\n"
        "1,A,pro,Berlin,en,x\n"
        "2,B,free,,de,y\n"
        "3,C,pro,Paris,,z\n",
        encoding="utf-8",
    )
    await import_users(engine, path, bot_id=bot_id)
    users = await _users(sessionmaker)
    # `language` is a word of the rules and `bad name` no attribute name: both left out.
    assert {k: u.attributes for k, u in users.items()} == {
        1: {"plan": "pro", "city": "Berlin"},
        2: {"plan": "free"},
        3: {"plan": "pro", "city": "Paris"},
    }
    async with sessionmaker() as session:
        assert await count_segment(session, [bot_id], "plan = pro and not city = Berlin") == {bot_id: 1}
        assert await count_segment(session, [bot_id], "city != Berlin") == {bot_id: 2}
        assert await count_segment(session, [bot_id], None) == {bot_id: 3}


async def test_not_selects_exactly_the_others_even_without_a_value(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    from panel.segments import count_segment

    bot_id = await _bot(sessionmaker)
    path = tmp_path / "users.csv"
    path.write_text("chat_id,language_code,plan\n1,en,pro\n2,,\n3,de,free\n", encoding="utf-8")
    await import_users(engine, path, bot_id=bot_id)
    async with sessionmaker() as session:
        for rule in ("language = en", "plan = free", "plan != pro", "language in (en, de)"):
            inside = (await count_segment(session, [bot_id], rule))[bot_id]
            outside = (await count_segment(session, [bot_id], f"not ({rule})"))[bot_id]
            assert inside + outside == 3, rule
        assert await count_segment(session, [bot_id], "not plan = free") == {bot_id: 2}
