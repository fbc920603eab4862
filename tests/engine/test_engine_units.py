"""Pure parts of the engine: answer classification, progress rendering, batch ranges, and the
database operations on their own (real database, no workers)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from arq.worker import Retry
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.callbacks import ProgressAction, ProgressCallback
from bot.keyboards import progress_keyboard
from jobs.engine import deliveries, results
from jobs.engine.media_upload import target_file_id
from jobs.engine.results import DeliveryResult, Outcome
from jobs.engine.route import OUTAGE_FAILURES, Outage, RouteWatch
from jobs.engine.sendclient import BotAPI, BotAPIError, BotAPINetworkError, PreparedSend
from jobs.engine.sendclient import answer_result as sendclient_result
from jobs.lifecycle import is_retryable
from jobs.outcomes import Verdict, classify
from models import Campaign, CampaignStatus, Delivery, DeliveryStatus, TargetBot, User
from panel.campaigns import Counters, create_campaign
from panel.content import MessageContent, sent_file_id
from panel.keys import RedisKeys
from panel.progress import (
    ProgressView,
    SummaryView,
    pack_progress_callback,
    percent,
    progress_bar,
    progress_markup,
    render_progress,
    render_summary,
)
from tests.support.engine import PROJECT_ROOT, TARGET_TOKEN
from tests.support.keys import sealed
from tgsim.simulator import Simulator
from tgsim.world import UserState


def test_answers_are_classified_like_telegram_means_them() -> None:
    def answer(code: int, description: str, **parameters: float) -> BotAPIError:
        return BotAPIError(
            code,
            description,
            retry_after_s=parameters.get("retry_after"),
            migrate_to_chat_id=int(parameters["migrate_to_chat_id"])
            if "migrate_to_chat_id" in parameters
            else None,
        )

    flood = classify(answer(429, "Too Many Requests: retry after 3", retry_after=3))
    assert (flood.verdict, flood.retry_after_s) == (Verdict.FLOOD, 3)
    blocked = classify(answer(403, "Forbidden: bot was blocked by the user"))
    assert (blocked.verdict, blocked.error_code) == (Verdict.UNAVAILABLE, 403)
    assert classify(answer(400, "Bad Request: chat not found")).verdict is Verdict.UNAVAILABLE
    migrated = classify(answer(400, "Bad Request: group chat was upgraded", migrate_to_chat_id=-100123))
    assert (migrated.verdict, migrated.new_chat_id) == (Verdict.MIGRATED, -100123)
    assert classify(answer(400, "Bad Request: can't parse entities: x")).verdict is Verdict.CONTENT
    assert classify(answer(400, "Bad Request: message is too long")).verdict is Verdict.CONTENT
    assert classify(answer(400, "Bad Request: something else")).verdict is Verdict.FAILED
    assert classify(answer(401, "Unauthorized")).verdict is Verdict.UNAUTHORIZED
    assert classify(answer(502, "Bad Gateway")).verdict is Verdict.TRANSIENT
    assert (
        classify(BotAPINetworkError("Request timeout error", sent_nothing=False)).verdict is Verdict.AMBIGUOUS
    )
    assert (
        classify(BotAPINetworkError("ClientConnectorError", sent_nothing=True)).verdict is Verdict.TRANSIENT
    )


async def test_the_lean_client_reads_real_answers(sim: Simulator) -> None:
    """Against the simulator's HTTP answers: each case gets the verdict aiogram's exception got."""
    sim.add_users(TARGET_TOKEN, [501], state=UserState.BLOCKED)
    sim.add_users(TARGET_TOKEN, [502])
    bot = BotAPI(TARGET_TOKEN, api_url=sim.base_url, timeout_s=2)
    try:
        sent = await bot.send_message(502, "hello", entities=[{"type": "bold", "offset": 0, "length": 5}])
        assert isinstance(sent["message_id"], int)
        verdicts = []
        for chat_id in (501, 999_999):
            with pytest.raises(BotAPIError) as refused_chat:
                await bot.send_message(chat_id, "hello")
            verdicts.append(classify(refused_chat.value))
        assert [(a.verdict, a.error_code, a.description) for a in verdicts] == [
            (Verdict.UNAVAILABLE, 403, "Forbidden: bot was blocked by the user"),
            (Verdict.UNAVAILABLE, 400, "Bad Request: chat not found"),
        ]
        sim.storm(TARGET_TOKEN, 5, retry_after_s=4)
        with pytest.raises(BotAPIError) as flood:
            await bot.send_message(502, "again")
        assert (classify(flood.value).verdict, classify(flood.value).retry_after_s) == (Verdict.FLOOD, 4)
    finally:
        await bot.close()
    unknown = BotAPI("999:AAunknownTokenValue", api_url=sim.base_url)
    try:
        with pytest.raises(BotAPIError) as unauthorized:
            await unknown.send_message(502, "x")
    finally:
        await unknown.close()
    assert classify(unauthorized.value).verdict is Verdict.UNAUTHORIZED
    assert "AAunknown" not in str(unauthorized.value)
    # Nothing listens on port 9: the request never left, so it is safe to send again.
    refused = BotAPI(TARGET_TOKEN, api_url="http://127.0.0.1:9", timeout_s=2)
    try:
        with pytest.raises(BotAPINetworkError) as not_sent:
            await refused.send_message(502, "x")
    finally:
        await refused.close()
    assert classify(not_sent.value).verdict is Verdict.TRANSIENT
    assert TARGET_TOKEN.split(":")[1] not in str(not_sent.value)


async def test_a_request_without_answer_is_ambiguous(sim: Simulator) -> None:
    sim.add_users(TARGET_TOKEN, [503])
    sim.set_faults(TARGET_TOKEN, hang_share=1.0, hang_s=5)
    bot = BotAPI(TARGET_TOKEN, api_url=sim.base_url, timeout_s=0.5)
    try:
        with pytest.raises(BotAPINetworkError) as hung:
            await bot.send_message(503, "x")
    finally:
        await bot.close()
    assert classify(hung.value).verdict is Verdict.AMBIGUOUS


def test_prepared_body_is_the_json_of_the_full_call() -> None:
    params = {
        "text": 'Привет "x"',
        "entities": [{"type": "bold", "offset": 0, "length": 6}],
        "allow_paid_broadcast": True,
    }
    assert json.loads(PreparedSend("sendMessage", params).body(-100123)) == {"chat_id": -100123, **params}
    assert json.loads(PreparedSend("sendMessage", {}).body(7)) == {"chat_id": 7}


def test_worker_buttons_pack_like_aiogram() -> None:
    for status, actions in (
        (CampaignStatus.SENDING, [ProgressAction.PAUSE, ProgressAction.CANCEL]),
        (CampaignStatus.PAUSED, [ProgressAction.RESUME, ProgressAction.CANCEL]),
    ):
        markup = progress_markup(7, status)
        assert markup is not None
        packed = [button["callback_data"] for button in markup["inline_keyboard"][0]]
        assert packed == [ProgressCallback(action=action, campaign_id=7).pack() for action in actions]
        keyboard = progress_keyboard(7, status)
        assert keyboard is not None
        assert keyboard.model_dump(exclude_none=True) == markup
    for action in ProgressAction:
        assert (
            pack_progress_callback(action.value, 12345)
            == ProgressCallback(action=action, campaign_id=12345).pack()
        )
    assert progress_markup(7, CampaignStatus.COMPLETED) is None


def test_the_worker_does_not_import_aiogram() -> None:
    probe = (
        "import sys, jobs.worker, jobs.__main__; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'aiogram'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_progress_rendering() -> None:
    counters = Counters(total=1000, sent=600, failed=5, unavailable=45, unconfirmed=0, cancelled=0)
    text = render_progress(
        ProgressView(
            campaign_id=7, name="News", status=CampaignStatus.SENDING, counters=counters, rate_per_s=29.5
        )
    )
    assert "Campaign #7 “News”" in text
    assert "65%" in text and "Remaining: 350 of 1,000" in text
    assert "Rate: 29.5/s · ETA 12 s" in text
    assert progress_bar(0, 10) == "░" * 12 and progress_bar(10, 10) == "▓" * 12
    assert percent(999, 1000) == 99 and percent(1000, 1000) == 100 and percent(0, 0) == 100
    sending = progress_keyboard(7, CampaignStatus.SENDING)
    paused = progress_keyboard(7, CampaignStatus.PAUSED)
    assert sending is not None and paused is not None
    assert (
        sending.inline_keyboard[0][0].callback_data
        == ProgressCallback(action=ProgressAction.PAUSE, campaign_id=7).pack()
    )
    assert (
        paused.inline_keyboard[0][0].callback_data
        == ProgressCallback(action=ProgressAction.RESUME, campaign_id=7).pack()
    )
    assert progress_keyboard(7, CampaignStatus.COMPLETED) is None


def test_progress_tells_of_an_outage_while_sending() -> None:
    counters = Counters(total=10, sent=4, failed=0, unavailable=0, unconfirmed=0, cancelled=0)
    since = datetime(2026, 1, 1, 21, 40, 5, tzinfo=UTC)
    down = ProgressView(
        campaign_id=7,
        name=None,
        status=CampaignStatus.SENDING,
        counters=counters,
        unreachable_since=since,
    )
    assert "Telegram can't be reached since 21:40:05 UTC; retrying" in render_progress(down)
    over = replace(down, unreachable_until=since + timedelta(seconds=61))
    assert "couldn't be reached from 21:40:05 UTC to 21:41:06 UTC" in render_progress(over)
    assert "reached" not in render_progress(replace(down, status=CampaignStatus.COMPLETED))


def test_a_batchs_own_retry_keeps_its_defer() -> None:
    """A batch with no room raises `Retry` from the TimeoutError of its wait: not a lost connection."""
    try:
        try:
            raise TimeoutError
        except TimeoutError:
            raise Retry(defer=0.5) from None
    except Retry as retry:
        assert not is_retryable(retry)
    assert is_retryable(ConnectionRefusedError())


def test_a_proxys_own_answer_is_a_network_failure() -> None:
    """A bare 502/503/504 (no Bot API envelope) comes from a proxy on the way, not from Telegram."""
    with pytest.raises(BotAPINetworkError) as unavailable:
        sendclient_result(503, b"<html>503 Service Temporarily Unavailable</html>")
    assert unavailable.value.sent_nothing and unavailable.value.route
    with pytest.raises(BotAPINetworkError) as gateway:
        sendclient_result(502, b"<html>502 Bad Gateway</html>")
    assert not gateway.value.sent_nothing and gateway.value.route
    assert classify(gateway.value).verdict is Verdict.AMBIGUOUS
    with pytest.raises(BotAPIError):  # Telegram's own 502 carries its envelope
        sendclient_result(502, b'{"ok":false,"error_code":502,"description":"Bad Gateway"}')
    with pytest.raises(BotAPINetworkError) as unreadable:
        sendclient_result(200, b"<html>")
    assert not unreadable.value.route


def test_summary_rendering() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    text = render_summary(
        SummaryView(
            campaign_id=3,
            name=None,
            status=CampaignStatus.COMPLETED,
            counters=Counters(total=100, sent=90, failed=2, unavailable=5, unconfirmed=1, cancelled=2),
            started_at=start,
            completed_at=start + timedelta(seconds=10),
            errors=(("Forbidden: bot was blocked by the user", 5),),
        )
    )
    assert "Unconfirmed (may have arrived): 1" in text and "Cancelled: 2" in text
    assert "Duration: 10 s · average 9.8/s" in text
    assert "• Forbidden: bot was blocked by the user: 5" in text


def test_batch_ranges_cover_every_id_once() -> None:
    assert deliveries.batch_ranges(5, 14, 4) == [(5, 8), (9, 12), (13, 14)]
    assert deliveries.batch_ranges(1, 1, 500) == [(1, 1)]


async def _campaign_with_audience(session: AsyncSession, users: int) -> tuple[int, int]:
    bot = TargetBot(codename="units", sealed_token=sealed("1:abc"))
    session.add(bot)
    await session.flush()
    session.add_all(User(bot_id=bot.id, chat_id=100 + i) for i in range(users))
    campaign = await create_campaign(session, bot_id=bot.id, content=MessageContent(text="hi"))
    return bot.id, campaign.id


async def test_freeze_once_claim_record_and_migrate(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        _, campaign_id = await _campaign_with_audience(session, 10)
    async with sessionmaker.begin() as session:
        assert (await deliveries.freeze_audience(session, campaign_id)).total == 10
        assert not (await deliveries.freeze_audience(session, campaign_id)).started
    async with sessionmaker.begin() as session:
        low, high = await deliveries.delivery_id_bounds(session, campaign_id) or (0, 0)
        assert await deliveries.pending_batch_ranges(session, campaign_id, 4) == deliveries.batch_ranges(
            low, high, 4
        )
        claimed = await deliveries.claim(session, campaign_id, low, high, worker_id="w1", limit=3)
    assert len(claimed) == 3
    sent, migrated, retry = claimed
    outcomes = [
        DeliveryResult(sent, Outcome.SENT, message_id=55),
        DeliveryResult(migrated, Outcome.MIGRATED, new_chat_id=-100777),
        DeliveryResult(retry, Outcome.RETRY, error_code=502, error="Bad Gateway", retry_at=datetime.now(UTC)),
    ]
    async with sessionmaker.begin() as session:
        recorded = await results.record_results(session, campaign_id, outcomes, worker_id="w1")
        # Recording twice (a retried flush) changes nothing.
        again = await results.record_results(session, campaign_id, outcomes, worker_id="w1")
    assert recorded.final == {DeliveryStatus.SENT: 1} and recorded.returned_to_pending == 2
    assert sum(again.final.values()) == 0 and again.returned_to_pending == 0
    async with sessionmaker() as session:
        rows = {row.id: row for row in (await session.execute(select(Delivery))).scalars()}
        campaign = await session.get(Campaign, campaign_id)
        user = await session.get(User, rows[migrated.delivery_id].user_id)
    assert rows[sent.delivery_id].telegram_message_id == 55
    assert (
        rows[migrated.delivery_id].chat_id == -100777
        and rows[migrated.delivery_id].status is DeliveryStatus.PENDING
    )
    assert user is not None and user.chat_id == -100777
    assert rows[retry.delivery_id].attempts == 1 and rows[retry.delivery_id].status is DeliveryStatus.PENDING
    assert campaign is not None and campaign.successful_sents == 1


async def test_stale_claims_of_dead_workers_become_unconfirmed(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        _, campaign_id = await _campaign_with_audience(session, 5)
        await deliveries.freeze_audience(session, campaign_id)
    async with sessionmaker.begin() as session:
        low, high = await deliveries.delivery_id_bounds(session, campaign_id) or (0, 0)
        await deliveries.claim(session, campaign_id, low, high, worker_id="dead", limit=2)
    async with sessionmaker.begin() as session:
        assert await deliveries.claimers(session, campaign_id) == ["dead"]
        later = datetime.now(UTC) + timedelta(seconds=1)
        settled = await deliveries.settle_stale_claims(
            session, campaign_id, ["dead"], claimed_before=later, at_least_once=False
        )
    assert settled == 2
    async with sessionmaker() as session:
        campaign = await session.get(Campaign, campaign_id)
    assert campaign is not None and campaign.unconfirmed_count == 2


def test_the_target_bots_own_file_id_is_read_from_the_stored_content() -> None:
    photo = {"kind": "photo", "text": "", "media": {"kind": "photo", "file_id": "AgAC"}}
    assert target_file_id(photo | {"target_file_ids": {"7": "AgAC-7"}}, 7) == "AgAC-7"
    assert target_file_id(photo, 7) is None


def test_the_file_id_is_read_from_the_sent_message() -> None:
    sizes = [{"file_id": "small"}, {"file_id": "large"}]
    assert sent_file_id({"message_id": 1, "photo": sizes}, "photo") == "large"
    assert sent_file_id({"message_id": 1, "video": {"file_id": "vid"}}, "video") == "vid"
    assert sent_file_id({"message_id": 1, "text": "no media"}, "photo") is None
    assert sent_file_id(True, "photo") is None


async def test_the_route_watch_marks_an_outage_probes_in_turns_and_clears_it(
    sim: Simulator, redis: Redis
) -> None:
    """Against real Redis and the simulator's real socket: down after five failures in a row,
    one probe per turn while the port is closed, cleared by the first answer."""
    keys = RedisKeys("test:route")
    watch = RouteWatch(redis, keys)
    bot = BotAPI(TARGET_TOKEN, api_url=sim.base_url, timeout_s=2)
    try:
        for _ in range(OUTAGE_FAILURES - 1):
            assert not await watch.failed(TARGET_TOKEN)
        watch.answered(TARGET_TOKEN)  # an answer in between: no outage, the count starts again
        for _ in range(OUTAGE_FAILURES - 1):
            assert not await watch.failed(TARGET_TOKEN)
        assert await watch.failed(TARGET_TOKEN)
        since = await watch.down_since(TARGET_TOKEN)
        assert since is not None and await watch.last_outage(TARGET_TOKEN) == Outage(since)
        await sim.go_away()
        try:
            assert await watch.check(TARGET_TOKEN, bot) == 1.0  # getMe refused: next turn in 1 s
            assert await redis.hget(keys.route(TARGET_TOKEN, "down"), "probes") == b"1"  # type: ignore[misc]
            assert await watch.check(TARGET_TOKEN, bot) == 2.0  # not this turn; turns now 2 s apart
        finally:
            await sim.come_back()
        await asyncio.sleep(1.1)  # the next turn
        assert await watch.check(TARGET_TOKEN, bot) == 0
        assert sim.stats(TARGET_TOKEN).requests["getme"] == 1
        assert await watch.down_since(TARGET_TOKEN) is None
        over = await watch.last_outage(TARGET_TOKEN)
        assert over is not None and over.since == since and over.until is not None
    finally:
        await bot.close()
