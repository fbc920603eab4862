"""The chaos audit itself: a clean record passes, and each kind of engine failure is caught."""

from __future__ import annotations

import dataclasses

from bench.chaos_audit import DatabaseRecord, DeliveryFact, RunRecord, SimulatorRecord, audit, breaches
from jobs.engine.deliveries import WORKER_LOST
from models import CampaignStatus, DeliveryStatus

SENT = DeliveryStatus.SENT
UNCONFIRMED = DeliveryStatus.UNCONFIRMED


def _records() -> tuple[DatabaseRecord, SimulatorRecord, RunRecord]:
    """Four recipients: two sent, one blocked (unavailable), one lost with its killed worker."""
    rows = [
        DeliveryFact(1, 11, SENT, None),
        DeliveryFact(2, 12, SENT, None),
        DeliveryFact(3, 13, DeliveryStatus.UNAVAILABLE, "Forbidden: bot was blocked by the user"),
        DeliveryFact(4, 14, UNCONFIRMED, WORKER_LOST),
    ]
    db = DatabaseRecord(
        campaign_status=CampaignStatus.COMPLETED,
        total_recipients=4,
        counters={SENT: 2, DeliveryStatus.UNAVAILABLE: 1, UNCONFIRMED: 1},
        deliveries=rows,
        audience_users=4,
        unavailable_chat_ids=frozenset({3}),
    )
    sim = SimulatorRecord(
        delivered_per_chat={1: 1, 2: 1, 4: 1},
        duplicates=0,
        too_many_requests=3,
        server_errors=1,
        hangs=0,
        storm_refusals=3,
        peak_per_second=3,
        requests=6,
    )
    run = RunRecord(blocked_chat_ids=frozenset({3}), in_flight_cap=8, kills_planned=1, stranded_at_kills=[1])
    run.finished_in_time = True
    return db, sim, run


def _breached(db: DatabaseRecord, sim: SimulatorRecord, run: RunRecord) -> set[str]:
    return {figure.name.strip() for figure in breaches(audit(db, sim, run))}


def test_a_clean_run_has_no_breach() -> None:
    assert _breached(*_records()) == set()


def test_a_sent_recipient_who_got_two_messages_is_a_breach() -> None:
    db, sim, run = _records()
    sim = dataclasses.replace(sim, delivered_per_chat={1: 2, 2: 1, 4: 1}, duplicates=1)
    assert _breached(db, sim, run) == {
        "sent rows delivered twice",
        "chats that got the message twice",
        "duplicates (simulator)",
    }


def test_a_delivery_the_database_does_not_know_about_is_a_breach() -> None:
    db, sim, run = _records()
    rows = [*db.deliveries[:3], DeliveryFact(4, 14, DeliveryStatus.FAILED, "Bad Gateway")]
    counters = {SENT: 2, DeliveryStatus.UNAVAILABLE: 1, DeliveryStatus.FAILED: 1}
    db = dataclasses.replace(db, deliveries=rows, counters=counters)
    assert _breached(db, sim, run) == {"delivered, not recorded sent or unconfirmed"}


def test_a_row_left_pending_with_counters_that_do_not_add_up_is_a_breach() -> None:
    db, sim, run = _records()
    rows = [*db.deliveries[:3], DeliveryFact(4, 14, DeliveryStatus.PENDING, None)]
    db = dataclasses.replace(db, deliveries=rows, campaign_status=CampaignStatus.SENDING)
    assert _breached(db, sim, run) == {
        "campaign status",
        "rows not final (pending/sending)",
        "counters = rows (sent/failed/unavail/unconf/cancelled)",
        "delivered, not recorded sent or unconfirmed",
    }


def test_more_unconfirmed_than_the_killed_workers_could_hold_is_a_breach() -> None:
    db, sim, run = _records()
    run = dataclasses.replace(run, in_flight_cap=0)
    assert _breached(db, sim, run) == {"unconfirmed: worker lost"}


def test_a_blocked_user_left_available_is_a_breach() -> None:
    db, sim, run = _records()
    db = dataclasses.replace(db, unavailable_chat_ids=frozenset())
    assert _breached(db, sim, run) == {
        "neither marked nor unconfirmed/failed",
        "unavailable rows whose user is not marked",
    }
