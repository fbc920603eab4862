"""A Prometheus scrape parses, and after a campaign its send counters agree with the ledger."""

from __future__ import annotations

import asyncio
import socket
import urllib.request
from collections.abc import AsyncIterator

import pytest
from arq.worker import Worker
from prometheus_client import start_http_server
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from models import Campaign, Delivery
from panel import actions
from panel.audit import CLI
from panel.campaigns import create_campaign
from panel.content import MessageContent
from tests.support.control import NEWS_USERS, ControlBot, engine_worker_running


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


@pytest.fixture
async def worker(control: ControlBot) -> AsyncIterator[Worker]:
    async with engine_worker_running(control.settings) as engine_worker:
        yield engine_worker


async def test_a_scrape_agrees_with_the_ledger(control: ControlBot, worker: Worker) -> None:
    port = _free_port()
    server, thread = start_http_server(port, addr="127.0.0.1")
    try:
        before = await asyncio.to_thread(_scrape, port)
        await control.say("/help", expect="")
        async with control.sessionmaker.begin() as session:
            campaign = await create_campaign(
                session, bot_id=control.bots["news"], content=MessageContent("Counted"), name="Counted"
            )
        outcome = await actions.start(
            control.sessionmaker,
            control.arq_pool,
            campaign.id,
            queue_name=control.settings.queue_name,
            actor=CLI,
        )
        assert outcome is actions.StartOutcome.STARTED
        for _ in range(300):
            async with control.sessionmaker() as session:
                done = await session.get(Campaign, campaign.id)
            if done is not None and done.summary_sent_at is not None:
                break
            await asyncio.sleep(0.05)
        after = await asyncio.to_thread(_scrape, port)
    finally:
        server.shutdown()
        thread.join(timeout=5)

    async with control.sessionmaker() as session:
        ledger = dict(
            (
                await session.execute(
                    select(Delivery.status, func.count())
                    .where(Delivery.campaign_id == campaign.id)
                    .group_by(Delivery.status)
                )
            ).all()
        )
    assert sum(ledger.values()) == len(NEWS_USERS)

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    for status, count in ledger.items():
        assert delta("broadcast_sends_total", bot="news", outcome=status.value) == count, status
    assert delta("broadcast_control_updates_total", kind="message") >= 1
    assert after[("broadcast_rate_limit_per_second", (("bot", "news"),))] == 30
