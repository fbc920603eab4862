"""The audit of a chaos run: a pure function of three records (the database's, the simulator's and
the run's), so the suite's shorter chaos tests (tests/chaos/) check exactly what `bench/chaos.py`
checks. Every check is a figure with its limit; `breaches` are the checks that do not hold."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from jobs.engine.deliveries import WORKER_LOST
from models import CampaignStatus, DeliveryStatus

COUNTER_COLUMNS = {
    DeliveryStatus.SENT: "successful_sents",
    DeliveryStatus.FAILED: "failed_sents",
    DeliveryStatus.UNAVAILABLE: "unavailable_count",
    DeliveryStatus.UNCONFIRMED: "unconfirmed_count",
    DeliveryStatus.CANCELLED: "cancelled_count",
}


@dataclass(frozen=True, slots=True)
class DeliveryFact:
    """One delivery row as the audit needs it."""

    chat_id: int
    user_id: int
    status: DeliveryStatus
    last_error: str | None


@dataclass(frozen=True, slots=True)
class DatabaseRecord:
    """What the database says at the end of the run."""

    campaign_status: CampaignStatus
    total_recipients: int
    counters: dict[DeliveryStatus, int]
    deliveries: list[DeliveryFact]
    audience_users: int
    """Users of the target bot when the campaign started (none were unavailable then)."""
    unavailable_chat_ids: frozenset[int]
    """Users of the target bot marked `is_unavailable`."""


@dataclass(frozen=True, slots=True)
class SimulatorRecord:
    """What the simulator saw."""

    delivered_per_chat: dict[int, int]
    duplicates: int
    too_many_requests: int
    server_errors: int
    hangs: int
    storm_refusals: int
    peak_per_second: int
    requests: int

    @classmethod
    def from_stats(cls, stats: dict[str, Any]) -> SimulatorRecord:
        """From the JSON of `/sim/stats` (or `StatsSnapshot.to_json()`)."""
        faults = stats.get("faults", {})
        return cls(
            delivered_per_chat={int(chat): int(count) for chat, count in stats["delivered_per_chat"].items()},
            duplicates=int(stats["duplicates"]),
            too_many_requests=int(stats["too_many_requests"]),
            server_errors=int(faults.get("server_error", 0)),
            hangs=int(faults.get("hang_before_delivery", 0)) + int(faults.get("hang_after_delivery", 0)),
            storm_refusals=int(faults.get("storm", 0)),
            peak_per_second=int(stats["peak_per_second"]),
            requests=int(stats.get("requests", {}).get("sendmessage", 0)),
        )


@dataclass(slots=True)
class RunRecord:
    """What the chaos harness did, and saw of its workers."""

    blocked_chat_ids: frozenset[int]
    in_flight_cap: int
    kills_planned: int = 0
    storms_planned: int = 0
    flushes_planned: int = 0
    outages_planned: int = 0
    stranded_at_kills: list[int] = field(default_factory=list)
    """Rows each killed worker held claimed (in flight, about to be sent, or sent but unrecorded)."""
    storms: int = 0
    flushes: int = 0
    outages: list[str] = field(default_factory=list)
    crashed_workers: int = 0
    """Worker processes that ended without being killed by the harness."""
    finished_in_time: bool = False
    duration_s: float = 0.0

    @property
    def kills(self) -> int:
        """Worker processes SIGKILLed."""
        return len(self.stranded_at_kills)


@dataclass(frozen=True, slots=True)
class Figure:
    """One line of the audit: a figure and, for a check, its limit and whether it holds."""

    name: str
    value: object
    limit: str = ""
    ok: bool | None = None
    """None: only reported."""


def _check(name: str, value: int, *, at_most: int) -> Figure:
    return Figure(name, value, f"≤ {at_most}" if at_most else "= 0", value <= at_most)


def audit(db: DatabaseRecord, sim: SimulatorRecord, run: RunRecord) -> list[Figure]:
    """Compare the simulator's record with the database's; every check a figure with its limit."""
    rows = db.deliveries
    by_status = Counter(row.status for row in rows)
    sent = {row.chat_id for row in rows if row.status is DeliveryStatus.SENT}
    unconfirmed_rows = [row for row in rows if row.status is DeliveryStatus.UNCONFIRMED]
    unconfirmed = {row.chat_id for row in unconfirmed_rows}
    worker_lost = sum(1 for row in unconfirmed_rows if row.last_error == WORKER_LOST)
    worker_lost_delivered = sum(
        1
        for row in unconfirmed_rows
        if row.last_error == WORKER_LOST and sim.delivered_per_chat.get(row.chat_id, 0)
    )
    timed_out = len(unconfirmed_rows) - worker_lost
    delivered = sim.delivered_per_chat
    blocked = run.blocked_chat_ids
    ambiguous_or_failed = {
        row.chat_id for row in rows if row.status in (DeliveryStatus.UNCONFIRMED, DeliveryStatus.FAILED)
    }
    unavailable_rows = {row.chat_id for row in rows if row.status is DeliveryStatus.UNAVAILABLE}
    kill_bound = run.kills * run.in_flight_cap
    counters_off = sorted(
        status.value for status in COUNTER_COLUMNS if db.counters.get(status, 0) != by_status.get(status, 0)
    )

    figures = [
        Figure("duration", f"{run.duration_s:.1f} s"),
        Figure(
            "finished within the time limit",
            "yes" if run.finished_in_time else "no",
            "yes",
            run.finished_in_time,
        ),
        Figure(
            "campaign status",
            db.campaign_status.value,
            "completed",
            db.campaign_status is CampaignStatus.COMPLETED,
        ),
        Figure("recipients (audience)", db.audience_users),
        Figure(
            "delivery rows",
            len(rows),
            f"= {db.total_recipients} (total_recipients)",
            len(rows) == db.total_recipients == db.audience_users,
        ),
        Figure(
            "recipients with two rows",
            len(rows) - len({row.user_id for row in rows}),
            "= 0",
            len(rows) == len({row.user_id for row in rows}),
        ),
        _check(
            "rows not final (pending/sending)",
            by_status[DeliveryStatus.PENDING] + by_status[DeliveryStatus.SENDING],
            at_most=0,
        ),
        Figure(
            "counters = rows (sent/failed/unavail/unconf/cancelled)",
            " / ".join(f"{db.counters.get(s, 0)}" for s in COUNTER_COLUMNS),
            "= " + " / ".join(f"{by_status.get(s, 0)}" for s in COUNTER_COLUMNS),
            not counters_off,
        ),
        Figure("sent", by_status[DeliveryStatus.SENT]),
        Figure("failed", by_status[DeliveryStatus.FAILED]),
        Figure("unavailable", by_status[DeliveryStatus.UNAVAILABLE]),
        _check("cancelled", by_status[DeliveryStatus.CANCELLED], at_most=0),
        Figure("messages delivered (simulator)", sum(delivered.values())),
        _check("sent rows delivered twice", sum(1 for chat in sent if delivered.get(chat, 0) > 1), at_most=0),
        _check(
            "sent rows never delivered", sum(1 for chat in sent if delivered.get(chat, 0) == 0), at_most=0
        ),
        _check(
            "chats that got the message twice", sum(1 for count in delivered.values() if count > 1), at_most=0
        ),
        _check("duplicates (simulator)", sim.duplicates, at_most=0),
        _check(
            "delivered, not recorded sent or unconfirmed",
            sum(1 for chat in delivered if chat not in sent and chat not in unconfirmed),
            at_most=0,
        ),
        Figure("unconfirmed", len(unconfirmed_rows)),
        Figure("  of them delivered", sum(1 for chat in unconfirmed if delivered.get(chat, 0) > 0)),
        _check("  timed out (request_timeout_s)", timed_out, at_most=sim.hangs),
        Figure("  hanging requests injected", sim.hangs),
        Figure(
            "worker kills (SIGKILL + restart)",
            run.kills,
            f"= {run.kills_planned}",
            run.kills == run.kills_planned,
        ),
        Figure("  rows claimed by the killed workers", "+".join(map(str, run.stranded_at_kills)) or "0"),
        _check("  unconfirmed: worker lost", worker_lost, at_most=kill_bound),
        Figure("    of them delivered (the message arrived)", worker_lost_delivered),
        Figure("    most rows one killed worker held", max(run.stranded_at_kills, default=0)),
        Figure("  bound: kills × in-flight cap", f"{run.kills} × {run.in_flight_cap} = {kill_bound}"),
        Figure("Redis FLUSHDB", run.flushes, f"= {run.flushes_planned}", run.flushes == run.flushes_planned),
        Figure("429 storms", run.storms, f"= {run.storms_planned}", run.storms == run.storms_planned),
        Figure("429 answers", sim.too_many_requests),
        Figure("5xx answers", sim.server_errors),
        Figure("sendMessage requests", sim.requests),
        Figure("busiest second (requests through the gate)", sim.peak_per_second),
        Figure("blocked users", len(blocked)),
        Figure("  marked unavailable", len(blocked & db.unavailable_chat_ids)),
        _check(
            "  neither marked nor unconfirmed/failed",
            len(blocked - db.unavailable_chat_ids - ambiguous_or_failed),
            at_most=0,
        ),
        _check(
            "unavailable rows whose user is not marked",
            len(unavailable_rows - db.unavailable_chat_ids),
            at_most=0,
        ),
        _check(
            "users marked unavailable that are not blocked", len(db.unavailable_chat_ids - blocked), at_most=0
        ),
        _check("worker processes that crashed", run.crashed_workers, at_most=0),
    ]
    if run.outages_planned:
        figures.append(
            Figure(
                "database outages",
                ", ".join(run.outages) or "none",
                f"{run.outages_planned}",
                len(run.outages) == run.outages_planned,
            )
        )
    return figures


def breaches(figures: Iterable[Figure]) -> list[Figure]:
    """The checks that do not hold."""
    return [figure for figure in figures if figure.ok is False]


def render(figures: Sequence[Figure]) -> str:
    """The figures as a compact table."""
    width = max(len(figure.name) for figure in figures)
    value_width = max(len(str(figure.value)) for figure in figures)
    lines = []
    for figure in figures:
        mark = "" if figure.ok is None else ("ok" if figure.ok else "BREACH")
        line = f"{figure.name:<{width}}  {figure.value!s:>{value_width}}  {figure.limit:<28} {mark}"
        lines.append(line.rstrip())
    return "\n".join(lines)
