"""Bad input everywhere else: each answered with a specific message, valid work kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cli.users_import import import_users
from models import TargetBot, User
from panel.content import ContentError, Media, MessageContent, bot_api_call
from panel.settings import SettingsError, load_settings


def test_text_at_the_limit_is_accepted_and_over_it_refused() -> None:
    assert MessageContent("x" * 4096).text
    with pytest.raises(ContentError, match="4,097 characters long; Telegram allows 4,096"):
        MessageContent("x" * 4097)


def test_limit_counts_utf16_units_like_telegram() -> None:
    # An emoji outside the BMP is two UTF-16 code units: 2,048 of them fill the message.
    assert MessageContent("😀" * 2048).text
    with pytest.raises(ContentError, match="4,098 characters"):
        MessageContent("😀" * 2049)


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_refused(text: str) -> None:
    with pytest.raises(ContentError, match="empty"):
        MessageContent(text)


@pytest.mark.parametrize(
    ("entity", "reason"),
    [
        ({"type": "bold", "offset": 0, "length": 99}, "past the end"),
        ({"type": "bold", "offset": -1, "length": 2}, "malformed"),
        ({"type": "bold", "offset": 0, "length": 0}, "malformed"),
        ({"offset": 0, "length": 2}, "no type"),
    ],
)
def test_broken_entities_are_refused(entity: dict[str, object], reason: str) -> None:
    with pytest.raises(ContentError, match=reason):
        MessageContent("hello", (entity,))


def test_entities_round_trip_exactly() -> None:
    entities = ({"type": "text_link", "offset": 2, "length": 4, "url": "https://example.com"},)
    content = MessageContent("😀 link", entities)
    again = MessageContent.from_json(content.to_json())
    assert again == content
    assert bot_api_call(again.to_json(), file_id=None).params == {
        "text": "😀 link",
        "entities": [dict(entities[0])],
    }


def test_media_round_trips_and_its_caption_may_be_empty() -> None:
    photo = Media("photo", "AgAC-control", "Uabc", file_size=1234)
    content = MessageContent("", media=photo)
    assert MessageContent.from_json(content.to_json()) == content
    assert bot_api_call(content.to_json(), file_id=None).params == {}
    assert content.preview_text() == "[🖼 Photo]"
    captioned = MessageContent("😀 new", ({"type": "bold", "offset": 3, "length": 3},), media=photo)
    assert bot_api_call(captioned.to_json(), file_id=None).params == {
        "caption": "😀 new",
        "caption_entities": [{"type": "bold", "offset": 3, "length": 3}],
    }
    document = MessageContent("Prices", media=Media("document", "BQAC", file_name="prices.pdf"))
    assert document.preview_text() == "[📎 File prices.pdf] Prices"
    assert bot_api_call(document.to_json(), file_id=None).method == "sendDocument"


def test_media_limits_are_telegrams() -> None:
    photo = Media("photo", "AgAC")
    assert MessageContent("c" * 1024, media=photo).text
    with pytest.raises(ContentError, match="caption is 1,025 characters long; Telegram allows 1,024"):
        MessageContent("c" * 1025, media=photo)
    assert Media("video", "BAAC", file_size=20 * 1024 * 1024).file_size
    with pytest.raises(ContentError, match="up to 20 MB"):
        Media("video", "BAAC", file_size=20 * 1024 * 1024 + 1)
    with pytest.raises(ContentError, match="sticker can't be broadcast"):
        Media("sticker", "CAAC")
    with pytest.raises(ContentError, match="no file id"):
        Media("photo", "")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"send_concurrency": "many"}, "SEND_CONCURRENCY: "),
        ({"send_concurrency": 0}, "SEND_CONCURRENCY: "),
        ({"request_timeout_s": "-3"}, "REQUEST_TIMEOUT_S: "),
        ({"at_least_once": "perhaps"}, "AT_LEAST_ONCE: "),
        (
            {"telegram_api_url": "api.telegram.org"},
            "TELEGRAM_API_URL: must be an http:// or https:// base URL",
        ),
    ],
)
def test_settings_of_the_wrong_type_name_the_variable(overrides: dict[str, object], expected: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(**overrides)
    assert str(error.value).startswith(expected)
    assert "\n" not in str(error.value)


async def _news_bot(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker.begin() as session:
        bot = TargetBot(codename="news", token="1:abc")
        session.add(bot)
        await session.flush()
        return bot.id


async def test_oversized_and_binary_rows_are_reported_and_the_rest_imported(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    bot_id = await _news_bot(sessionmaker)
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
    bot_id = await _news_bot(sessionmaker)
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
