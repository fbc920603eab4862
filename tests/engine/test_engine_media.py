"""Media campaigns through real worker processes: the control bot's file reaches every recipient
through the target bot, uploaded once and then sent by the target bot's own file id."""

from __future__ import annotations

from pathlib import Path

from arq.connections import ArqRedis
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import CampaignStatus, DeliveryStatus, TargetBot
from panel import actions, texts
from panel.audit import CLI
from panel.content import Media, MessageContent
from panel.keys import RedisKeys
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
    status_counts,
    wait_for_status,
    wait_until,
)
from tgsim.simulator import Simulator
from tgsim.world import UserState

PHOTO = b"\xff\xd8\xff\xe0 a photo for the engine tests " + bytes(range(256)) * 40
CAPTION = "Spring 🌸 sale: -20%"
# "Spring" bold, "sale" italic (the emoji counts as two UTF-16 code units).
CAPTION_ENTITIES = [{"type": "bold", "offset": 0, "length": 6}, {"type": "italic", "offset": 10, "length": 4}]


def photo_from_admin(sim: Simulator) -> Media:
    """The admin sends a photo to the control bot: its file id is the control bot's."""
    message = sim.send_message(CONTROL_TOKEN, ADMIN_CHAT_ID, photo=PHOTO, caption="for the campaign")
    return Media.from_json({"kind": "photo", **message["photo"][-1]})


async def test_a_photo_is_uploaded_once_then_sent_by_the_target_bots_file_id(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    # The first recipients blocked the bot: the upload passes on to the next one.
    bot_id = await add_audience(
        sessionmaker, sim, active=300, states={UserState.BLOCKED: 5}, first_chat_id=1_000_000
    )
    for chat_id in range(1_000_000, 1_000_005):
        sim.set_user_state(TARGET_TOKEN, chat_id, UserState.BLOCKED)
    for chat_id in range(1_000_300, 1_000_305):
        sim.set_user_state(TARGET_TOKEN, chat_id, UserState.ACTIVE)
    media = photo_from_admin(sim)
    content = MessageContent(CAPTION, tuple(CAPTION_ENTITIES), media=media).to_json()
    campaign_id = await new_campaign(sessionmaker, bot_id, content=content)
    workers.start(2)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)

    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers)

    assert campaign.status is CampaignStatus.COMPLETED, campaign.status_reason
    assert (campaign.successful_sents, campaign.unavailable_count, campaign.failed_sents) == (300, 5, 0)
    await assert_counters_match_rows(sessionmaker, campaign_id)
    received = []
    for chat_id in range(1_000_005, 1_000_305):
        messages = sim.chat(TARGET_TOKEN, chat_id).bot_messages
        assert len(messages) == 1, (chat_id, messages)
        received.append(messages[0])
    assert {(m.media_kind, m.caption) for m in received} == {("photo", CAPTION)}
    assert all(m.caption_entities == CAPTION_ENTITIES for m in received)
    # One upload: every message carries the same file, owned by the target bot, same bytes.
    file_ids = {m.file_id for m in received}
    assert len(file_ids) == 1
    (file_id,) = file_ids
    record = sim.world.files[str(file_id)]
    assert record.owner_bot_id == sim.world.bots[TARGET_TOKEN].bot_id
    assert record.data == PHOTO and record.file_unique_id == media.file_unique_id
    assert campaign.content["target_file_ids"] == {str(bot_id): file_id}
    assert sim.stats(TARGET_TOKEN).duplicates == 0

    # A second campaign of the same message (a duplicate) reuses the stored id: no upload.
    files_before = len(sim.world.files)
    second_id = await new_campaign(sessionmaker, bot_id, content=campaign.content)
    await enqueue_start(pool, second_id, queue_name=queue_name)
    second = await wait_for_status(sessionmaker, second_id, workers=workers)
    assert (second.status, second.successful_sents) == (CampaignStatus.COMPLETED, 300)
    assert len(sim.world.files) == files_before


async def test_a_file_the_control_bot_cannot_fetch_pauses_the_campaign_and_tells_the_admin(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=20)
    # A file id of the target bot's, not the control bot's: getFile refuses it.
    foreign = sim.send_message(TARGET_TOKEN, 1_000_000, photo=PHOTO)["photo"][-1]["file_id"]
    content = MessageContent("Caption", media=Media("photo", foreign)).to_json()
    campaign_id = await new_campaign(sessionmaker, bot_id, content=content)
    workers.start(1)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)

    campaign = await wait_for_status(sessionmaker, campaign_id, {CampaignStatus.PAUSED}, workers=workers)

    assert campaign.status_reason == texts.PAUSED_FILE_REASON.format(
        error="Bad Request: wrong file identifier/HTTP URL specified"
    )
    counts = await status_counts(sessionmaker, campaign_id)
    assert counts == {DeliveryStatus.PENDING: 20}
    assert sim.stats(TARGET_TOKEN).delivered_per_chat == {}

    async def notice() -> str | None:
        for message in sim.chat(CONTROL_TOKEN, ADMIN_CHAT_ID).bot_messages:
            if message.text and "could not be passed on" in message.text:
                return message.text
        return None

    text = await wait_until(notice)
    assert f"#{campaign_id}" in text
    assert (await get_campaign(sessionmaker, campaign_id)).status is CampaignStatus.PAUSED


async def test_an_upload_left_by_a_dead_worker_is_taken_over(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
    redis: Redis,
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=50)
    content = MessageContent(CAPTION, media=photo_from_admin(sim)).to_json()
    campaign_id = await new_campaign(sessionmaker, bot_id, content=content)
    # A worker that died while uploading still holds the lock, for a minute; its heartbeat is gone.
    await redis.set(RedisKeys(queue_name).media_upload(campaign_id), "worker-killed-mid-upload", px=60_000)
    workers.start(1)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)

    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers, timeout_s=20)

    assert (campaign.status, campaign.successful_sents) == (CampaignStatus.COMPLETED, 50)
    assert (
        len(
            {
                sim.chat(TARGET_TOKEN, chat_id).bot_messages[0].file_id
                for chat_id in range(1_000_000, 1_000_050)
            }
        )
        == 1
    )


async def test_uploads_that_keep_failing_pause_the_campaign_instead_of_using_up_the_audience(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=100)
    content = MessageContent(CAPTION, media=photo_from_admin(sim)).to_json()
    campaign_id = await new_campaign(sessionmaker, bot_id, content=content)
    sim.set_faults(TARGET_TOKEN, server_error_share=1.0)  # every upload answered with a 5xx
    workers.start(1)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)

    campaign = await wait_for_status(sessionmaker, campaign_id, (CampaignStatus.PAUSED,), workers=workers)

    assert campaign.status_reason is not None
    assert campaign.status_reason.startswith(
        texts.PAUSED_FILE_REASON.format(error="5 uploads in a row went unanswered or failed, the last with")
    )

    # Five recipients were tried (each back to pending, to retry later); the rest never were.
    # The status turns paused first; batches that had claimed rows hand them back a moment later.
    async def all_handed_back() -> dict[DeliveryStatus, int] | None:
        counts = await status_counts(sessionmaker, campaign_id)
        return None if counts.get(DeliveryStatus.SENDING) else counts

    counts = await wait_until(all_handed_back, timeout_s=10, what="claimed rows handed back", logs=workers)
    assert counts == {DeliveryStatus.PENDING: 100}
    assert sum(sim.stats(TARGET_TOKEN).faults.values()) == 5

    # The route recovers; Resume sends to everyone, the file uploaded once.
    sim.set_faults(TARGET_TOKEN, server_error_share=0.0)
    await resume_campaign_now(sessionmaker, pool, campaign_id, queue_name)
    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers)
    assert (campaign.status, campaign.successful_sents) == (CampaignStatus.COMPLETED, 100)
    files = {
        sim.chat(TARGET_TOKEN, chat_id).bot_messages[0].file_id for chat_id in range(1_000_000, 1_000_100)
    }
    assert len(files) == 1


async def resume_campaign_now(
    sessionmaker: async_sessionmaker[AsyncSession], pool: ArqRedis, campaign_id: int, queue_name: str
) -> None:
    assert await actions.resume(sessionmaker, pool, campaign_id, queue_name=queue_name, actor=CLI)


async def test_the_command_line_creates_a_photo_campaign_through_the_control_bot(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
    tmp_path: Path,
    cli_env: dict[str, str],
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=30)
    async with sessionmaker() as session:
        target = await session.get(TargetBot, bot_id)
        assert target is not None
    photo = tmp_path / "launch.JPG"
    photo.write_bytes(PHOTO)

    code, out, err = await broadcast_cli(
        "campaigns",
        "create",
        "--bot",
        target.codename,
        "--file",
        str(photo),
        "--text",
        CAPTION,
        env=cli_env,
        cwd=tmp_path,
    )
    assert code == 0, err
    campaign_id = int(out.strip())
    # The control bot posted the photo to the admin: that gave it a file id of its own.
    (posted,) = sim.chat(CONTROL_TOKEN, ADMIN_CHAT_ID).bot_messages
    assert posted.media_kind == "photo" and posted.caption == texts.CLI_FILE_CAPTION.format(name="launch.JPG")
    campaign = await get_campaign(sessionmaker, campaign_id)
    assert campaign.content["media"]["file_id"] == posted.file_id
    assert campaign.content["text"] == CAPTION

    workers.start(1)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)
    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers)
    assert (campaign.status, campaign.successful_sents) == (CampaignStatus.COMPLETED, 30)
    received = [sim.chat(TARGET_TOKEN, chat_id).bot_messages for chat_id in range(1_000_000, 1_000_030)]
    assert {(m[0].media_kind, m[0].caption) for m in received} == {("photo", CAPTION)}
    assert sim.world.files[str(received[0][0].file_id)].data == PHOTO
