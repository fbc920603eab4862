"""The demo's scripted walk-through: Ada composes an announcement in the control bot, sends a test to
herself, sends it to everyone, and watches the progress; then the database and the simulator are
compared."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable

from sqlalchemy import func, select

from cli.demo.screen import ChatMirror, Printer
from cli.demo.stack import ADMIN_ID, CONTROL_TOKEN, TARGET_TOKEN, Stack
from models import FINAL_CAMPAIGN_STATUSES, Campaign, CampaignStatus, User
from panel import texts
from panel.campaigns import delivery_counts, get_campaign, list_campaigns
from panel.link_stats import click_stats, render_clicks
from tgsim.entities import parse_html
from tgsim.simulator import ChatEntry, Simulator, open_link
from tgsim.world import UserState

DEMO_MESSAGE_HTML = (
    "<b>Big news!</b> Version 2.0 is out 🎉\n\n"
    "• <i>twice as fast</i> on every device\n"
    "• a <u>dark theme</u> that finally matches your night\n"
    "• and a <tg-spoiler>secret feature</tg-spoiler> for early birds\n\n"
    'Read the <a href="https://example.com/changelog">changelog</a>.'
)


# A person reads before they type or tap; Telegram's per-chat limit (about one message a second)
# expects as much, and the transcript is easier to follow.
READING_PAUSE_S = 1.2


def _has_button(label: str) -> Callable[[ChatEntry], bool]:
    return lambda entry: any(text == label for text, _ in entry.buttons)


async def _tap(sim: Simulator, say: Printer, entry: ChatEntry, label: str) -> None:
    await asyncio.sleep(READING_PAUSE_S)
    say.admin_taps(label)
    query_id = sim.press_button(CONTROL_TOKEN, ADMIN_ID, entry.message_id, text=label)
    await sim.wait_for_callback_answer(CONTROL_TOKEN, query_id, timeout_s=20)


async def play(stack: Stack, say: Printer) -> int:
    """Play Ada's conversation: compose, test, send now, confirm, watch; 0 if the outcome adds up."""
    sim = stack.sim
    mirror = ChatMirror(sim, say)

    say.step("Ada opens the control bot.")
    say.admin_says("/start")
    sim.send_message(CONTROL_TOKEN, ADMIN_ID, "/start")
    await mirror.wait_for(lambda e: True)

    say.step("Ada composes an announcement with /new.")
    await asyncio.sleep(READING_PAUSE_S)
    say.admin_says("/new")
    before = _last_id(sim)
    sim.send_message(CONTROL_TOKEN, ADMIN_ID, "/new")
    await mirror.wait_for(lambda e: e.message_id > before)

    text, entities = parse_html(DEMO_MESSAGE_HTML)
    await asyncio.sleep(READING_PAUSE_S)
    say.admin_says(text, entities)
    sim.send_message(CONTROL_TOKEN, ADMIN_ID, text, entities=entities)
    buttons_prompt = await mirror.wait_for(lambda e: texts.ASK_BUTTONS in (e.text or ""))
    await _tap(sim, say, buttons_prompt, texts.BTN_SKIP)
    name_prompt = await mirror.wait_for(lambda e: texts.ASK_NAME in (e.text or ""))
    await _tap(sim, say, name_prompt, texts.BTN_SKIP)
    card = await mirror.wait_for(_has_button(texts.BTN_SEND_NOW))

    say.step("Ada sends a test to herself first; it arrives through the demo bot:")
    await _tap(sim, say, card, texts.BTN_TEST)
    test_copy = await sim.wait_for_message(TARGET_TOKEN, ADMIN_ID, timeout_s=20)
    mirror.refresh()
    if test_copy.text != text or test_copy.entities != entities:
        say.step("The test message differs from what Ada composed: the formatting was not kept.")
        return 1
    mirror.refresh()

    say.step("Ada taps Send now and confirms.")
    card = await mirror.wait_for(_has_button(texts.BTN_SEND_NOW))
    await _tap(sim, say, card, texts.BTN_SEND_NOW)
    confirm = await mirror.wait_for(_has_button(texts.BTN_CONFIRM))
    await _tap(sim, say, confirm, texts.BTN_CONFIRM)

    say.step("The workers deliver it; the progress message in Ada's chat is edited as they go:")
    campaign = await _wait_started(stack)
    final = await _watch(stack, mirror, say, campaign.id)
    mirror.refresh()
    clicks_agree = await _click_some(stack, say, final.id)
    code = await _report(stack, say, final) or (0 if clicks_agree else 1)
    code = code or await _people_come_and_go(stack, mirror, say)
    say.step(
        "Where to look next: `broadcast demo --interactive` to be the admin yourself; README.md to go live."
    )
    return code


async def _wait_started(stack: Stack, timeout_s: float = 30.0) -> Campaign:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        async with stack.sessionmaker() as session:
            campaigns, _ = await list_campaigns(session, limit=1)
        if campaigns and campaigns[0].status is not CampaignStatus.DRAFT:
            return campaigns[0]
        await asyncio.sleep(0.2)
    raise TimeoutError("the campaign did not start within 30 s")


async def _watch(stack: Stack, mirror: ChatMirror, say: Printer, campaign_id: int) -> Campaign:
    """Mirror the chat and draw a progress bar from the database until the campaign ends."""
    started = time.monotonic()
    while True:
        mirror.refresh()
        async with stack.sessionmaker() as session:
            campaign = await get_campaign(session, campaign_id)
        assert campaign is not None
        done = campaign.finished_count
        elapsed = max(time.monotonic() - started, 0.001)
        say.bar(done, campaign.total_recipients, f"· {done / elapsed:,.0f}/s · {campaign.status.value}")
        if campaign.status in FINAL_CAMPAIGN_STATUSES:
            # The summary message follows the final status; give it a moment to arrive.
            with contextlib.suppress(TimeoutError):
                await mirror.wait_for(lambda e: e.text is not None and "🏁" in e.text, timeout_s=10)
            return campaign
        await asyncio.sleep(0.5)


async def _report(stack: Stack, say: Printer, campaign: Campaign) -> int:
    async with stack.sessionmaker() as session:
        rows = await delivery_counts(session, campaign.id)
    stats = stack.sim.stats(TARGET_TOKEN)
    say.step("What the database says about the campaign:")
    print(f"  status {campaign.status.value}; {campaign.total_recipients:,} recipients")
    print(
        f"  counters: sent {campaign.successful_sents:,} · unavailable {campaign.unavailable_count:,} · "
        f"failed {campaign.failed_sents:,} · unconfirmed {campaign.unconfirmed_count:,} · "
        f"cancelled {campaign.cancelled_count:,}"
    )
    print(
        "  delivery rows: "
        + " · ".join(f"{status.value} {count:,}" for status, count in sorted(rows.items()))
    )
    print(
        f"  the simulated Telegram saw {stats.delivered_total:,} messages delivered, "
        f"{stats.duplicates:,} duplicates, {stats.too_many_requests:,} answers 429, "
        f"at most {stats.peak_per_second:,} messages in any one second"
    )
    agree = campaign.finished_count == sum(rows.values()) and campaign.status is CampaignStatus.COMPLETED
    return 0 if agree and stats.duplicates == 0 else 1


# ---------------------------------------------------------------- tracked links

CLICKERS = 40
"""Recipients who tap the changelog link in the demo; every fourth taps it twice."""
CHANGELOG_URL = "https://example.com/changelog"


async def _click_some(stack: Stack, say: Printer, campaign_id: int) -> bool:
    """Some recipients open the link (a real GET to the link service); True if every open was
    redirected to the changelog and counted."""
    base_url = stack.settings.links_base_url
    if base_url is None:
        return True
    say.step("Some recipients tap the changelog link: it leads through the link service, which counts it.")
    opens = people = 0
    redirected = True
    for chat_id in sorted(stack.sim.world.bot(TARGET_TOKEN).members):
        if people == CLICKERS:
            break
        messages = stack.sim.chat(TARGET_TOKEN, chat_id).bot_messages
        links = [e["url"] for m in messages for e in m.entities if str(e.get("url", "")).startswith(base_url)]
        if not links:
            continue  # blocked, deleted, never started: nothing arrived
        people += 1
        for _ in range(2 if people % 4 == 0 else 1):
            opened = await open_link(links[0])
            redirected = redirected and (opened.status, opened.location) == (302, CHANGELOG_URL)
            opens += 1
    answered = (
        "each got a 302 to the changelog" if redirected else "NOT every answer was a 302 to the changelog"
    )
    print(f"  {people} people opened it {opens} times; {answered}")
    deadline = time.monotonic() + 10
    stats = None
    while time.monotonic() < deadline:
        async with stack.sessionmaker() as session:
            stats = await click_stats(session, campaign_id)
        if stats.total >= opens:
            break
        await asyncio.sleep(0.2)
    shown = render_clicks(stats) if stats is not None else None
    print("  the campaign's card now says: " + (shown or "no clicks").replace("\n", "\n  "))
    return redirected and stats is not None and (stats.unique, stats.total) == (people, opens)


# ---------------------------------------------------------------- the users table follows people

LEAVERS = 30
"""Recipients who block the demo bot after the announcement."""
RETURNERS = 15
"""People who had blocked it (the campaign found them out) and unblock it."""
NEWCOMERS = 5
"""New people who start the demo bot."""


async def _available(stack: Stack) -> int:
    async with stack.sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).select_from(User).where(User.is_unavailable.is_(False))
        )
    return int(count or 0)


async def _people_come_and_go(stack: Stack, mirror: ChatMirror, say: Printer) -> int:
    """Some recipients block the bot, some who had blocked it come back, newcomers start it; the
    demo bot's tracker writes it all to the users table, and Ada's next card counts it. 0 if the
    numbers add up."""
    sim = stack.sim
    rng = random.Random(7)
    before = await _available(stack)
    members = sim.world.bot(TARGET_TOKEN).members
    reached = [
        chat for chat, state in sorted(members.items()) if state is UserState.ACTIVE and chat != ADMIN_ID
    ]
    blocked = [chat for chat, state in sorted(members.items()) if state is UserState.BLOCKED]
    leavers = rng.sample(reached, min(LEAVERS, len(reached)))
    returners = rng.sample(blocked, min(RETURNERS, len(blocked)))
    newcomers = [max(members) + 1 + index for index in range(NEWCOMERS)]
    say.step(
        f"Life goes on in the demo bot: {len(leavers)} people block it, {len(returners)} who had blocked "
        f"it come back, {len(newcomers)} newcomers send /start. Its tracker keeps the users table true."
    )
    for chat_id in leavers:
        sim.block(TARGET_TOKEN, chat_id)
    for chat_id in returners:
        sim.unblock(TARGET_TOKEN, chat_id)
    for chat_id in newcomers:
        sim.add_user(TARGET_TOKEN, chat_id, first_name=f"New{chat_id % 100}", language_code="en")
        sim.send_message(TARGET_TOKEN, chat_id, "/start")
    expected = before - len(leavers) + len(returners) + len(newcomers)
    deadline = time.monotonic() + 15
    now = before
    while time.monotonic() < deadline and now != expected:
        await asyncio.sleep(0.2)
        now = await _available(stack)
    print(f"  available users in the table: {before:,} before, {now:,} now (expected {expected:,})")

    say.step("Ada starts the next announcement: its card already counts the audience as it is now.")
    await asyncio.sleep(READING_PAUSE_S)
    before_id = _last_id(sim)

    def fresh(wanted: str) -> Callable[[ChatEntry], bool]:
        return lambda e: e.message_id > before_id and wanted in (e.text or "")

    say.admin_says("/new")
    sim.send_message(CONTROL_TOKEN, ADMIN_ID, "/new")
    await mirror.wait_for(fresh(texts.ASK_MESSAGE))
    await asyncio.sleep(READING_PAUSE_S)
    say.admin_says("Thanks for reading! Part two comes on Friday.")
    sim.send_message(CONTROL_TOKEN, ADMIN_ID, "Thanks for reading! Part two comes on Friday.")
    await _tap(sim, say, await mirror.wait_for(fresh(texts.ASK_BUTTONS)), texts.BTN_SKIP)
    await _tap(sim, say, await mirror.wait_for(fresh(texts.ASK_NAME)), texts.BTN_SKIP)
    card = await mirror.wait_for(lambda e: e.message_id > before_id and _has_button(texts.BTN_SEND_NOW)(e))
    counted = f"Audience: {texts.number(expected)} users" in (card.text or "")
    say.step("Ada leaves it for later with /cancel.")
    say.admin_says("/cancel")
    sim.send_message(CONTROL_TOKEN, ADMIN_ID, "/cancel")
    await mirror.wait_for(lambda e: e.message_id > card.message_id)
    agree = now == expected and counted
    print(f"  the card counts {expected:,} users: " + ("yes" if counted else "NO"))
    return 0 if agree else 1


def _last_id(sim: Simulator) -> int:
    messages = sim.chat(CONTROL_TOKEN, ADMIN_ID).bot_messages
    return messages[-1].message_id if messages else 0
