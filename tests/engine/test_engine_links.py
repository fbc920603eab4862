"""Tracked links end to end: real workers send them, the real link service redirects and counts.

Every part is the production one: worker processes built by `jobs.launch`, the link service of
`linktracker.serve` on a real port, the simulator's users opening URL buttons with a real GET.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from arq.connections import ArqRedis
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from linktracker.serve import link_service
from linktracker.writer import ClickWriter
from models import Campaign, CampaignStatus, TargetBot, User, utcnow
from models.tables import LinkClick
from panel import texts
from panel.buttons import parse_buttons
from panel.content import AlbumItem, Media, MessageContent, utf16_length
from panel.db import create_engine, create_sessionmaker
from panel.exports import report_summary
from panel.greetings import personalise
from panel.link_stats import Click, click_stats
from panel.links import LINK_PATH, LinkRef, signer_for
from panel.migrations import upgrade
from panel.queue import enqueue_start
from panel.send_options import SendOptions
from tests.processes import broadcast_cli
from tests.support.engine import (
    ADMIN_CHAT_ID,
    CONTROL_TOKEN,
    TARGET_TOKEN,
    LinkHarness,
    Workers,
    add_audience,
    engine_workers,
    link_settings,
    new_campaign,
    wait_for_status,
    wait_until,
)
from tests.support.keys import TEST_SECRET_KEY
from tgsim.simulator import Simulator, open_link

SECRET_KEY = TEST_SECRET_KEY
"""The suite's key: it seals the bots' tokens and signs the links."""
GRID = "Read more - https://example.com/post | Shop - https://shop.example\nNews - https://t.me/news"
TARGETS = {
    "Read more": "https://example.com/post",
    "Shop": "https://shop.example",
    "News": "https://t.me/news",
}
TEXT = "Spring sale: example.com/spring"
URL_ENTITY = {"type": "url", "offset": 13, "length": 18}
URL_CAPTION = {"type": "url", "offset": 4, "length": 11}
FIRST = 1_000_000


@pytest.fixture
def link_workers(
    database_url: str, redis_url: str, sim: Simulator, queue_name: str, tmp_path: Path, links: LinkHarness
) -> Iterator[Workers]:
    """Worker processes that track links through `links` (as the engine tests' workers, else)."""
    harness = engine_workers(
        database_url=database_url,
        redis_url=redis_url,
        sim=sim,
        queue_name=queue_name,
        log_dir=tmp_path / "workers",
        links_base_url=links.base_url,
    )
    yield harness
    harness.stop_all()


async def _clicks(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(LinkClick)) or 0)


async def _wait_for_clicks(sessionmaker: async_sessionmaker[AsyncSession], count: int) -> None:
    async def probe() -> bool:
        return await _clicks(sessionmaker) >= count

    await wait_until(probe, timeout_s=10, what=f"{count} clicks recorded")


async def _send(
    sessionmaker: async_sessionmaker[AsyncSession],
    pool: ArqRedis,
    queue_name: str,
    workers: Workers,
    bot_id: int,
    *,
    options: SendOptions | None = None,
) -> int:
    content = MessageContent(TEXT, entities=(URL_ENTITY,), buttons=parse_buttons(GRID)).to_json()
    campaign_id = await new_campaign(sessionmaker, bot_id, content=content, options=options)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)
    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers)
    assert campaign.status is CampaignStatus.COMPLETED, campaign.status_reason
    return campaign_id


async def test_a_tracked_campaign_redirects_at_once_and_counts_people_and_opens(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    links: LinkHarness,
    link_workers: Workers,
    pool: ArqRedis,
    queue_name: str,
    cli_env: dict[str, str],
    tmp_path: Path,
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=20)
    link_workers.start(1)
    campaign_id = await _send(sessionmaker, pool, queue_name, link_workers, bot_id)

    tracked_prefix = links.base_url + LINK_PATH
    seen: set[str] = set()
    for chat_id in range(FIRST, FIRST + 20):
        (message,) = sim.chat(TARGET_TOKEN, chat_id).bot_messages
        assert message.text == TEXT
        rows = message.url_buttons
        assert [[label for label, _ in row] for row in rows] == [["Read more", "Shop"], ["News"]]
        urls = [url for row in rows for _, url in row]
        assert all(url.startswith(tracked_prefix) for url in urls), urls
        seen.update(urls)
        # The address in the text reads the same and leads through the tracker too.
        (entity,) = message.entities
        assert (entity["type"], entity["offset"], entity["length"]) == ("text_link", 13, 18)
        assert entity["url"].startswith(tracked_prefix)
        seen.add(entity["url"])
        # The preview still shows the real page, not a redirect per recipient.
        assert message.link_preview_options == {"url": "http://example.com/spring"}
    assert len(seen) == 20 * 4  # every recipient's every link is their own

    first, second = (
        sim.chat(TARGET_TOKEN, FIRST).bot_messages[0],
        sim.chat(TARGET_TOKEN, FIRST + 1).bot_messages[0],
    )
    opened = [
        await sim.open_url_button(TARGET_TOKEN, FIRST, first.message_id, text="Read more"),
        await sim.open_url_button(TARGET_TOKEN, FIRST, first.message_id, text="Read more"),
        await sim.open_url_button(TARGET_TOKEN, FIRST, first.message_id, text="Shop"),
        await sim.open_url_button(TARGET_TOKEN, FIRST + 1, second.message_id, text="Read more"),
        await open_link(first.entities[0]["url"]),
    ]
    assert [(o.status, o.location) for o in opened] == [
        (302, TARGETS["Read more"]),
        (302, TARGETS["Read more"]),
        (302, TARGETS["Shop"]),
        (302, TARGETS["Read more"]),
        (302, "http://example.com/spring"),
    ]
    await _wait_for_clicks(sessionmaker, 5)

    # A forged or mangled link is a plain 404 and records nothing.
    token = opened[0].url.removeprefix(tracked_prefix)
    mangled = token[:-1] + ("A" if token[-1] != "A" else "B")
    for url in (
        tracked_prefix + mangled,
        tracked_prefix + "AAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        tracked_prefix + "x",
    ):
        forged = await open_link(url)
        assert (forged.status, forged.location) == (404, None)
    await asyncio.sleep(0.6)  # three flushes of the click writer
    assert await _clicks(sessionmaker) == 5

    async with sessionmaker() as session:
        stats = await click_stats(session, campaign_id)
        campaign = await session.get(Campaign, campaign_id)
        assert campaign is not None
        summary = await report_summary(session, campaign)
    assert [(c.label, c.unique, c.total) for c in stats.links] == [
        ("Read more", 2, 3),
        ("Shop", 1, 1),
        ("News", 0, 0),
        (None, 1, 1),
    ]
    assert (stats.unique, stats.total) == (2, 5)
    assert "📊 Clicks: 2 people · 5 opens" in summary
    assert "• Read more: 2 people · 3 opens" in summary

    env = {**cli_env, "SECRET_KEY": SECRET_KEY, "LINKS_BASE_URL": links.base_url}
    code, out, err = await broadcast_cli(
        "campaigns", "status", str(campaign_id), "--json", env=env, cwd=tmp_path
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["track_links"] is True
    assert report["clicks"] == stats.to_json()
    code, out, err = await broadcast_cli("campaigns", "status", str(campaign_id), env=env, cwd=tmp_path)
    assert code == 0, err
    assert "clicks: 2 people · 5 opens" in out and "  Read more: 2 people · 3 opens" in out


async def test_a_deleted_campaigns_links_still_redirect_and_an_untracked_campaign_keeps_its_links(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    links: LinkHarness,
    link_workers: Workers,
    pool: ArqRedis,
    queue_name: str,
    database_url: str,
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=5)
    link_workers.start(1)
    tracked_id = await _send(sessionmaker, pool, queue_name, link_workers, bot_id)
    untracked_id = await _send(
        sessionmaker, pool, queue_name, link_workers, bot_id, options=SendOptions(track_links=False)
    )
    for chat_id in range(FIRST, FIRST + 5):
        tracked, untracked = sim.chat(TARGET_TOKEN, chat_id).bot_messages
        assert untracked.url_buttons == [
            [("Read more", TARGETS["Read more"]), ("Shop", TARGETS["Shop"])],
            [("News", TARGETS["News"])],
        ]
        assert untracked.entities == [URL_ENTITY]
        assert all(url.startswith(links.base_url) for row in tracked.url_buttons for _, url in row)
    async with sessionmaker() as session:
        assert (await click_stats(session, untracked_id)).links == ()

    async with sessionmaker.begin() as session:
        await session.execute(delete(Campaign).where(Campaign.id == tracked_id))
    message = sim.chat(TARGET_TOKEN, FIRST).bot_messages[0]
    # A service started after the deletion (nothing cached) still knows where the link leads.
    async with link_service(link_settings(database_url), host="127.0.0.1", port=0) as runner:
        port = runner.addresses[0][1]
        url = sim.url_button(TARGET_TOKEN, FIRST, message.message_id, text="Shop")
        fresh = await open_link(url.replace(links.base_url, f"http://127.0.0.1:{port}"))
    assert (fresh.status, fresh.location) == (302, TARGETS["Shop"])
    await _wait_for_clicks(sessionmaker, 1)


async def test_the_command_line_chooses_tracking_and_serves_the_links(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    cli_env: dict[str, str],
    tmp_path: Path,
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=1)
    async with sessionmaker() as session:
        codename = (await session.get(TargetBot, bot_id)).codename  # type: ignore[union-attr]
    create = (
        "campaigns",
        "create",
        "--bot",
        codename,
        "--text",
        "Sale",
        "--button",
        "Shop - https://shop.example",
    )
    untracked_env = {**cli_env, "LINKS_BASE_URL": "", "SECRET_KEY": SECRET_KEY}
    code, out, err = await broadcast_cli(*create, "--track", env=untracked_env, cwd=tmp_path)
    assert (code, out) == (1, "")
    assert err.strip() == "broadcast: " + texts.LINKS_TRACK_NEEDS_BASE_URL
    code, _, err = await broadcast_cli("links", "serve", env=untracked_env, cwd=tmp_path)
    assert code == 2
    assert "LINKS_BASE_URL: missing" in err
    code, _, err = await broadcast_cli(
        "campaigns", "list", env={**cli_env, "LINKS_BASE_URL": "ftp://l.example"}, cwd=tmp_path
    )
    assert code == 2 and "LINKS_BASE_URL: must be an http:// or https:// base URL" in err

    tracked_env = {**cli_env, "LINKS_BASE_URL": "https://l.example", "SECRET_KEY": SECRET_KEY}
    ids = []
    for flag in ("--no-track", "--track", None):
        code, out, err = await broadcast_cli(
            *create, *([flag] if flag else []), env=tracked_env, cwd=tmp_path
        )
        assert code == 0, err
        ids.append(int(out))
    async with sessionmaker() as session:
        chosen = [(await session.get(Campaign, campaign_id)).track_links for campaign_id in ids]  # type: ignore[union-attr]
    assert chosen == [False, True, None]

    # `broadcast links serve` as an operator runs it: a process on its own port.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    service = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli.main",
        "links",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        env={**os.environ, **tracked_env},
        cwd=tmp_path,
    )
    try:

        async def healthy() -> bool:
            try:
                return (await open_link(f"http://127.0.0.1:{port}/healthz")).status == 200
            except OSError:
                return False

        await wait_until(healthy, timeout_s=60, what="the link service")
        forged = await open_link(f"http://127.0.0.1:{port}{LINK_PATH}AAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        assert forged.status == 404
    finally:
        service.terminate()
        await service.wait()


def _ref(links: LinkHarness, url: str) -> LinkRef | None:
    prefix = links.base_url + LINK_PATH
    return signer_for(links.settings).verify(url.removeprefix(prefix)) if url.startswith(prefix) else None


async def test_greetings_captions_and_an_albums_follow_up_carry_each_recipients_own_links(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    links: LinkHarness,
    link_workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=6, rate_per_s=30)
    names = {FIRST: "Zoë 😀", FIRST + 1: "李小龍"}
    async with sessionmaker.begin() as session:
        for chat_id, name in names.items():
            await session.execute(
                update(User).where(User.bot_id == bot_id, User.chat_id == chat_id).values(first_name=name)
            )
    shop = parse_buttons("Shop - https://shop.example")
    greeting = "Hi {first_name|friend}, read the news"
    news = {
        "type": "text_link",
        "offset": greeting.index("news"),
        "length": 4,
        "url": "https://example.com/n",
    }
    personal = personalise(MessageContent(greeting, entities=(news,), buttons=shop).to_json())
    photo_sent = sim.send_message(CONTROL_TOKEN, ADMIN_CHAT_ID, photo=b"\xff\xd8\xff\xe0 photo" * 50)
    photo = Media.from_json({"kind": "photo", **photo_sent["photo"][-1]})
    caption = MessageContent("See example.org", entities=(URL_CAPTION,), media=photo, buttons=shop).to_json()
    items = []
    for data in (b"\xff\xd8\xff\xe0 one" * 40, b"\xff\xd8\xff\xe0 two" * 40):
        sent = sim.send_message(CONTROL_TOKEN, ADMIN_CHAT_ID, photo=data)
        items.append(AlbumItem(Media.from_json({"kind": "photo", **sent["photo"][-1]}), "", ()))
    album = MessageContent("Tap below", album=tuple(items), buttons=shop).to_json()

    link_workers.start(1)
    ids = []
    for content in (personal, caption, album):
        campaign_id = await new_campaign(sessionmaker, bot_id, content=content)
        await enqueue_start(pool, campaign_id, queue_name=queue_name)
        done = await wait_for_status(sessionmaker, campaign_id, workers=link_workers, timeout_s=90)
        assert done.status is CampaignStatus.COMPLETED, done.status_reason
        ids.append(campaign_id)
    greeted_id, photo_id, album_id = ids

    for chat_id in range(FIRST, FIRST + 6):
        greeted, captioned, *album_items, follow_up = sim.chat(TARGET_TOKEN, chat_id).bot_messages
        name = names.get(chat_id, "friend")
        assert greeted.text == f"Hi {name}, read the news"
        (link,) = greeted.entities
        assert (link["type"], link["offset"], link["length"]) == (
            "text_link",
            utf16_length(f"Hi {name}, read the "),
            4,
        )
        assert _ref(links, link["url"]) == LinkRef(greeted_id, chat_id, 1)
        assert _ref(links, greeted.url_buttons[0][0][1]) == LinkRef(greeted_id, chat_id, 0)

        assert (captioned.caption, captioned.media_kind) == ("See example.org", "photo")
        (link,) = captioned.caption_entities
        assert link["type"] == "text_link" and _ref(links, link["url"]) == LinkRef(photo_id, chat_id, 1)
        assert _ref(links, captioned.url_buttons[0][0][1]) == LinkRef(photo_id, chat_id, 0)

        assert len(album_items) == 2 and follow_up.text == "Tap below"
        assert _ref(links, follow_up.url_buttons[0][0][1]) == LinkRef(album_id, chat_id, 0)

    opened = await open_link(sim.chat(TARGET_TOKEN, FIRST).bot_messages[1].caption_entities[0]["url"])
    assert (opened.status, opened.location) == (302, "http://example.org")


async def test_clicks_wait_in_memory_while_the_database_cannot_take_them(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'late.sqlite3'}"
    writer = ClickWriter(url, interval_s=0.05)
    writer.start()
    try:
        for chat_id in (1, 2, 2):
            writer.add(Click(7, chat_id, 0, utcnow()))
        await asyncio.sleep(0.3)  # the table is not there yet: every flush fails, nothing is lost
        assert (writer.pending, writer.written) == (3, 0)
        engine = create_engine(url)
        try:
            await upgrade(engine)

            async def written() -> bool:
                return writer.written == 3

            await wait_until(written, timeout_s=10, what="the kept clicks written")
            async with create_sessionmaker(engine)() as session:
                stats = await click_stats(session, 7)
                rows = await session.scalar(select(func.count()).select_from(LinkClick))
            assert rows == 3 and (stats.unique, stats.total, stats.links) == (2, 3, ())  # no targets kept
        finally:
            await engine.dispose()
    finally:
        await writer.stop()
