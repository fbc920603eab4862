"""Flood control through aiogram: the per-token window, paid broadcast, per-chat and edit limits."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter

from tests.support.sim import TOKEN
from tgsim.settings import LimitSettings
from tgsim.simulator import Simulator


async def _burst(bot: Bot, chat_ids: range, **kwargs: object) -> tuple[int, list[TelegramRetryAfter]]:
    results = await asyncio.gather(
        *(bot.send_message(chat_id, f"news {chat_id}", **kwargs) for chat_id in chat_ids),  # type: ignore[arg-type]
        return_exceptions=True,
    )
    retries = [r for r in results if isinstance(r, TelegramRetryAfter)]
    others = [r for r in results if isinstance(r, BaseException) and not isinstance(r, TelegramRetryAfter)]
    assert others == []
    return len(results) - len(retries), retries


async def test_burst_gets_429_with_configured_retry_after(
    sim: Simulator, make_bot: Callable[[str], Bot]
) -> None:
    sim.add_users(TOKEN, range(1, 101))
    sent, retries = await _burst(make_bot(TOKEN), range(1, 101))
    stats = sim.stats(TOKEN)
    assert sent == stats.passed_gate <= 30
    assert sent >= 25
    assert len(retries) == 100 - sent == stats.too_many_requests
    assert {r.retry_after for r in retries} == {3}
    assert retries[0].message.endswith("Original description: Too Many Requests: retry after 3")
    assert stats.peak_per_second <= 30
    assert stats.delivered_total == sent


async def test_paid_broadcast_raises_the_limit(sim: Simulator, make_bot: Callable[[str], Bot]) -> None:
    token = "200001:AApaidBroadcastBot"
    sim.add_bot(token, paid_broadcast=True, limits=LimitSettings(global_rate=30, paid_rate=80))
    sim.add_users(token, range(1, 101))
    bot = make_bot(token)
    sent, retries = await _burst(bot, range(1, 101), allow_paid_broadcast=True)
    assert sent == 80 and len(retries) == 20
    assert sim.stats(token).peak_per_second == 80


async def test_paid_flag_ignored_without_permission(sim: Simulator, make_bot: Callable[[str], Bot]) -> None:
    sim.add_users(TOKEN, range(1, 61))
    sent, _ = await _burst(make_bot(TOKEN), range(1, 61), allow_paid_broadcast=True)
    assert sent == 30


async def test_one_chat_is_limited_by_its_bucket(sim: Simulator, make_bot: Callable[[str], Bot]) -> None:
    sim.add_user(TOKEN, 7)
    bot = make_bot(TOKEN)
    for number in range(5):
        await bot.send_message(7, f"msg {number}")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(7, "one too many")
    assert caught.value.retry_after == 3
    # 429'd requests do not count toward the window.
    assert sim.stats(TOKEN).passed_gate == 5


async def test_edits_of_one_message_are_limited(sim: Simulator, make_bot: Callable[[str], Bot]) -> None:
    sim.add_user(TOKEN, 7)
    bot = make_bot(TOKEN)
    message = await bot.send_message(7, "progress 0%")
    for percent in (10, 20, 30):
        await bot.edit_message_text(f"progress {percent}%", chat_id=7, message_id=message.message_id)
    with pytest.raises(TelegramRetryAfter):
        await bot.edit_message_text("progress 40%", chat_id=7, message_id=message.message_id)
    assert sim.stats(TOKEN).edits == 3


async def test_storm_answers_429_for_its_duration(sim: Simulator, make_bot: Callable[[str], Bot]) -> None:
    sim.add_user(TOKEN, 7)
    bot = make_bot(TOKEN)
    sim.storm(TOKEN, duration_s=0.3, retry_after_s=42)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(7, "during the storm")
    assert caught.value.retry_after == 42
    await asyncio.sleep(0.35)
    await bot.send_message(7, "after the storm")
    assert sim.stats(TOKEN).faults["storm"] == 1
