"""Retry the failed through real worker processes: after a 5xx storm, a new campaign linked to
the first reaches exactly its failed recipients, nobody twice; unconfirmed ones only on request."""

from __future__ import annotations

import json
from pathlib import Path

from arq.connections import ArqRedis
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import CampaignStatus, DeliveryStatus, User
from panel import after_send
from panel.after_send import RetryOutcome
from panel.audit import CLI
from panel.queue import enqueue_start
from tests.processes import broadcast_cli
from tests.support.engine import (
    TARGET_TOKEN,
    Workers,
    add_audience,
    get_campaign,
    new_campaign,
    rows,
    wait_for_status,
)
from tgsim.simulator import Simulator


async def test_retry_after_a_5xx_storm_reaches_exactly_the_failed(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
    cli_env: dict[str, str],
    tmp_path: Path,
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=200)
    campaign_id = await new_campaign(sessionmaker, bot_id, text="Flash sale")
    sim.set_faults(TARGET_TOKEN, server_error_share=0.6, hang_share=0.03, hang_s=6)
    workers.start(2, max_attempts=3)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)
    parent = await wait_for_status(sessionmaker, campaign_id, workers=workers, timeout_s=90)
    assert parent.status is CampaignStatus.COMPLETED
    by_row = await rows(sessionmaker, campaign_id)
    failed = {row.chat_id: row.user_id for row in by_row if row.status is DeliveryStatus.FAILED}
    unconfirmed = {row.chat_id for row in by_row if row.status is DeliveryStatus.UNCONFIRMED}
    sent = {row.chat_id for row in by_row if row.status is DeliveryStatus.SENT}
    assert len(failed) >= 5 and unconfirmed, (len(failed), len(unconfirmed))
    # One of the failed blocked the bot since: a retry leaves them out.
    gone_chat, gone_user = next(iter(failed.items()))
    async with sessionmaker.begin() as session:
        await session.execute(update(User).where(User.id == gone_user).values(is_unavailable=True))
    expected = set(failed) - {gone_chat}
    sim.set_faults(TARGET_TOKEN, server_error_share=0.0, hang_share=0.0)
    before = dict(sim.stats(TARGET_TOKEN).delivered_per_chat)

    async with sessionmaker() as session:
        preview = await after_send.retry_preview(session, campaign_id)
    assert preview is not None and after_send.can_retry(preview)
    assert (preview.retryable, preview.unconfirmed) == (len(expected), len(unconfirmed))

    code, out, err = await broadcast_cli("campaigns", "retry", str(campaign_id), env=cli_env, cwd=tmp_path)
    assert code == 0, err
    async with sessionmaker() as session:
        child = await after_send.retry_child(session, campaign_id)
    assert child is not None and f"retry #{child.id}" in out and f"{len(expected)} recipients" in out
    done = await wait_for_status(sessionmaker, child.id, workers=workers, timeout_s=60)

    assert done.status is CampaignStatus.COMPLETED and done.parent_id == campaign_id
    child_rows = await rows(sessionmaker, child.id)
    assert {row.chat_id for row in child_rows} == expected
    assert all(row.status is DeliveryStatus.SENT for row in child_rows)
    after = sim.stats(TARGET_TOKEN).delivered_per_chat
    # Exactly the retried chats got one message more; nobody who had it got it twice.
    grown = {chat for chat, count in after.items() if count != before.get(chat, 0)}
    assert grown == expected and all(after[chat] == 1 for chat in expected)
    assert all(after[chat] == 1 for chat in sent)
    assert sim.stats(TARGET_TOKEN).duplicates == 0

    # The parent's report shows its retry and the reach of both; a second retry is refused.
    code, out, err = await broadcast_cli(
        "campaigns", "status", str(campaign_id), "--json", env=cli_env, cwd=tmp_path
    )
    report = json.loads(out)
    assert report["retries"] == [child.id] and report["combined_sent"] == len(sent) + len(expected)
    outcome, same = await after_send.retry_failed(
        sessionmaker, pool, campaign_id, queue_name=queue_name, actor=CLI
    )
    assert (outcome, same) == (RetryOutcome.ALREADY_RETRIED, child.id)
    code, out, err = await broadcast_cli("campaigns", "retry", str(campaign_id), env=cli_env, cwd=tmp_path)
    assert (code, err.strip()) == (
        1,
        f"broadcast: campaign #{campaign_id} was retried already as #{child.id}: retry from that one",
    )

    # The unconfirmed are offered only on an explicit choice, and only once, from the retry's
    # parent: a fresh campaign whose timeouts are retried with --include-unconfirmed.
    second = await new_campaign(sessionmaker, bot_id, text="Second")
    sim.set_faults(TARGET_TOKEN, hang_share=0.05, hang_s=6)
    await enqueue_start(pool, second, queue_name=queue_name)
    await wait_for_status(sessionmaker, second, workers=workers, timeout_s=60)
    sim.set_faults(TARGET_TOKEN, hang_share=0.0)
    timed_out = {
        row.chat_id for row in await rows(sessionmaker, second) if row.status is DeliveryStatus.UNCONFIRMED
    }
    assert timed_out
    code, out, err = await broadcast_cli("campaigns", "retry", str(second), env=cli_env, cwd=tmp_path)
    assert code == 1 and "no failed recipient to retry" in err and "--include-unconfirmed" in err
    code, out, err = await broadcast_cli(
        "campaigns", "retry", str(second), "--include-unconfirmed", env=cli_env, cwd=tmp_path
    )
    assert code == 0, err
    async with sessionmaker() as session:
        third = await after_send.retry_child(session, second)
    assert third is not None
    await wait_for_status(sessionmaker, third.id, workers=workers, timeout_s=60)
    assert {row.chat_id for row in await rows(sessionmaker, third.id)} == timed_out
    assert (await get_campaign(sessionmaker, third.id)).retry_unconfirmed
