"""Album campaigns through real worker processes: each file reaches the target bot once, every
later sendMediaGroup reuses its file ids, and each item is paced as one message."""

from __future__ import annotations

from pathlib import Path

from arq.connections import ArqRedis
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import CampaignStatus, Delivery, TargetBot, User
from panel.buttons import parse_buttons
from panel.content import AlbumItem, Media, MessageContent, utf16_length
from panel.greetings import personalise
from panel.queue import enqueue_start
from tests.processes import broadcast_cli
from tests.support.engine import (
    ADMIN_CHAT_ID,
    CONTROL_TOKEN,
    TARGET_TOKEN,
    Workers,
    add_audience,
    assert_counters_match_rows,
    get_campaign,
    new_campaign,
    wait_for_status,
)
from tgsim.simulator import Simulator

FILES = [
    ("photo", b"\xff\xd8\xff\xe0 first photo " + bytes(range(256)) * 20),
    ("video", b"\x00\x00\x00\x18ftypmp42 a clip " + bytes(range(256)) * 30),
    ("photo", b"\xff\xd8\xff\xe0 second photo " + bytes(range(255, -1, -1)) * 20),
]
CAPTIONS = ["Spring 🌸 sale", "", "Last day"]
BOLD = {"type": "bold", "offset": 0, "length": 6}


def album_from_admin(sim: Simulator) -> tuple[AlbumItem, ...]:
    """The admin sends the files to the control bot: their file ids are the control bot's."""
    items = []
    for (kind, data), caption in zip(FILES, CAPTIONS, strict=True):
        message = sim.send_message(CONTROL_TOKEN, ADMIN_CHAT_ID, media=(kind, data))
        found = message[kind][-1] if kind == "photo" else message[kind]
        entities = (BOLD,) if caption.startswith("Spring") else ()
        items.append(AlbumItem(Media.from_json({"kind": kind, **found}), caption, entities))
    return tuple(items)


async def test_an_album_reaches_200_users_with_one_upload_per_file(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=200, rate_per_s=30)
    album = album_from_admin(sim)
    files_before = len(sim.world.files)
    content = MessageContent("", album=album).to_json()
    campaign_id = await new_campaign(sessionmaker, bot_id, content=content)
    workers.start(2)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)

    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers, timeout_s=90)

    assert campaign.status is CampaignStatus.COMPLETED, campaign.status_reason
    assert (campaign.successful_sents, campaign.failed_sents) == (200, 0)
    await assert_counters_match_rows(sessionmaker, campaign_id)
    # One upload per file: the target bot has exactly one new file per item.
    assert len(sim.world.files) == files_before + len(FILES)
    target_ids = campaign.content["target_album_file_ids"][str(bot_id)]
    assert len(target_ids) == len(FILES)
    first_ids: dict[int, int] = {}
    for chat_id in range(1_000_000, 1_000_200):
        messages = sim.chat(TARGET_TOKEN, chat_id).bot_messages
        assert [m.media_kind for m in messages] == [kind for kind, _ in FILES], chat_id
        assert [m.file_id for m in messages] == target_ids
        assert [m.caption or "" for m in messages] == CAPTIONS
        assert messages[0].caption_entities == [BOLD]
        assert len({m.media_group_id for m in messages}) == 1 and messages[0].media_group_id
        first_ids[chat_id] = messages[0].message_id
    for record in sim.world.files.values():
        if record.file_id in target_ids:
            assert record.owner_bot_id == sim.world.bots[TARGET_TOKEN].bot_id
    stats = sim.stats(TARGET_TOKEN)
    assert stats.too_many_requests == 0
    assert stats.passed_gate == 200 * len(FILES) and stats.duplicates == 0
    # One delivery per recipient, with the album's first message id.
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                select(Delivery.chat_id, Delivery.telegram_message_id).where(
                    Delivery.campaign_id == campaign_id
                )
            )
        ).all()
    assert {chat_id: message_id for chat_id, message_id in rows} == first_ids


async def test_a_personalised_album_with_buttons_greets_each_recipient_in_caption_and_follow_up(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=30, rate_per_s=30)
    names = {1_000_000 + n: name for n, name in enumerate(["Zoë 😀", "李小龍", "<b>x</b>", "*y*"])}
    async with sessionmaker.begin() as session:
        for chat_id, name in names.items():
            await session.execute(
                update(User).where(User.bot_id == bot_id, User.chat_id == chat_id).values(first_name=name)
            )
    caption = "Hi {first_name|friend}, spring sale"
    bold = {"type": "bold", "offset": caption.index("spring"), "length": 6}
    first, *rest = album_from_admin(sim)
    album = (AlbumItem(first.media, caption, (bold,)), *rest)
    grid = parse_buttons("Shop - https://shop.example")
    message = MessageContent("Tap below, {first_name|friend}", album=album, buttons=grid)
    campaign_id = await new_campaign(sessionmaker, bot_id, content=personalise(message.to_json()))
    workers.start(2)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)

    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers, timeout_s=90)

    assert campaign.status is CampaignStatus.COMPLETED, campaign.status_reason
    assert campaign.successful_sents == 30
    async with sessionmaker() as session:
        rows = (await session.execute(select(Delivery).where(Delivery.campaign_id == campaign_id))).scalars()
        ids = {row.chat_id: row.telegram_message_ids for row in rows}
    for chat_id in range(1_000_000, 1_000_030):
        name = names.get(chat_id, "friend")
        messages = sim.chat(TARGET_TOKEN, chat_id).bot_messages
        assert len(messages) == len(FILES) + 1, chat_id
        # Names are data: the bold stays on “spring” whatever the name's width in UTF-16.
        assert messages[0].caption == f"Hi {name}, spring sale"
        assert messages[0].caption_entities == [
            {"type": "bold", "offset": utf16_length(f"Hi {name}, "), "length": 6}
        ]
        assert [m.caption or "" for m in messages[1:3]] == CAPTIONS[1:]
        follow_up = messages[-1]
        assert follow_up.text == f"Tap below, {name}" and follow_up.media_group_id is None
        assert follow_up.reply_markup == {
            "inline_keyboard": [[{"text": "Shop", "url": "https://shop.example"}]]
        }
        assert ids[chat_id] == [m.message_id for m in messages]
    # Each item and the follow-up is a message against the limit: no 429, nothing twice.
    stats = sim.stats(TARGET_TOKEN)
    assert stats.too_many_requests == 0 and stats.duplicates == 0


async def test_the_command_line_creates_an_album_campaign_through_the_control_bot(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
    tmp_path: Path,
    cli_env: dict[str, str],
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=20)
    async with sessionmaker() as session:
        target = await session.get(TargetBot, bot_id)
        assert target is not None
    paths = []
    for index, (kind, data) in enumerate(FILES):
        path = tmp_path / f"item{index}.{'jpg' if kind == 'photo' else 'mp4'}"
        path.write_bytes(data)
        paths.append(str(path))

    album = ["campaigns", "create", "--bot", target.codename, "--album", *paths, "--text", "Spring"]
    # Buttons on an album need the message that carries them: refused before any upload.
    code, out, err = await broadcast_cli(
        *album, "--button", "Shop - https://shop.example", env=cli_env, cwd=tmp_path
    )
    assert code == 1 and "needs --follow-up TEXT" in err, err
    assert not sim.chat(CONTROL_TOKEN, ADMIN_CHAT_ID).bot_messages

    code, out, err = await broadcast_cli(
        *album,
        "--button",
        "Shop - https://shop.example",
        "--follow-up",
        "Hi {first_name|friend}, tap below",
        env=cli_env,
        cwd=tmp_path,
    )
    assert code == 0, err
    campaign_id = int(out.strip())
    # The control bot posted each file to the admin once: that gave it file ids of its own.
    posted = sim.chat(CONTROL_TOKEN, ADMIN_CHAT_ID).bot_messages
    assert [m.media_kind for m in posted] == [kind for kind, _ in FILES]
    campaign = await get_campaign(sessionmaker, campaign_id)
    assert [item["file_id"] for item in campaign.content["album"]] == [m.file_id for m in posted]
    assert [item["caption"] for item in campaign.content["album"]] == ["Spring", "", ""]

    workers.start(1)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)
    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers)
    assert (campaign.status, campaign.successful_sents) == (CampaignStatus.COMPLETED, 20)
    for chat_id in range(1_000_000, 1_000_020):
        messages = sim.chat(TARGET_TOKEN, chat_id).bot_messages
        assert [(m.media_kind, m.caption) for m in messages[:3]] == [
            ("photo", "Spring"),
            ("video", None),
            ("photo", None),
        ]
        follow_up = messages[3]
        assert follow_up.text == "Hi friend, tap below" and follow_up.buttons == [("Shop", None)]
    assert [sim.world.files[str(m.file_id)].data for m in messages[:3]] == [data for _, data in FILES]
