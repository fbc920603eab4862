"""Settings of the Bot API simulator: flood limits, fault injection and the server itself."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class LimitSettings:
    """Flood-control limits applied per bot token, like Telegram's (all configurable)."""

    global_rate: int = 30
    """Send-type requests per `window_s` sliding window that pass the rate gate."""
    paid_rate: int = 1000
    """The same limit for requests with `allow_paid_broadcast=true` from a bot allowed paid broadcast."""
    window_s: float = 1.0
    chat_burst: float = 5.0
    """Token bucket per chat: burst size and refill rate (messages per second)."""
    chat_refill_per_s: float = 1.0
    edit_burst: float = 3.0
    """Token bucket per message for edits: burst size and refill rate (edits per second)."""
    edit_refill_per_s: float = 1.0
    retry_after_s: int = 1
    """The `retry_after` every flood-control 429 carries."""


@dataclass(slots=True)
class FaultSettings:
    """Faults injected into send-type methods of one bot token, drawn from a seeded RNG."""

    latency_mean_s: float = 0.0
    latency_jitter_s: float = 0.0
    """Latency is uniform in [mean - jitter, mean + jitter], clipped at zero."""
    latency_before_gate_share: float = 0.5
    """Share of the latency spent before the request reaches the rate gate; the rest after."""
    latency_drift_to_s: float | None = None
    """The mean latency moves linearly from `latency_mean_s` to this over `latency_drift_over_s`
    (from the bot's first faulted send request), then stays there; None: no drift."""
    latency_drift_over_s: float = 0.0
    stall_every_s: float = 0.0
    """Every `stall_every_s` (from the same start) the route stalls for `stall_s`: requests that
    would reach the rate gate meanwhile reach it together when the stall ends; 0: no stalls."""
    stall_s: float = 0.0
    server_error_share: float = 0.0
    """Share of requests answered 502 `Bad Gateway` or 500 `Internal Server Error`, not delivered."""
    hang_share: float = 0.0
    """Share of requests that answer only after `hang_s` (half delivered first, half not)."""
    hang_s: float = 30.0

    def is_clean(self) -> bool:
        """Whether no fault at all is configured."""
        return (
            self.latency_mean_s <= 0
            and self.latency_jitter_s <= 0
            and self.server_error_share <= 0
            and self.hang_share <= 0
            and not self.drifts()
            and not self.stalls()
        )

    def drifts(self) -> bool:
        """Whether the mean latency moves over time."""
        return self.latency_drift_to_s is not None and self.latency_drift_to_s != self.latency_mean_s

    def stalls(self) -> bool:
        """Whether the route stalls now and then."""
        return self.stall_every_s > 0 and self.stall_s > 0

    def mean_latency_s(self, elapsed_s: float) -> float:
        """The mean latency `elapsed_s` seconds after the first faulted send request."""
        if not self.drifts() or self.latency_drift_to_s is None:
            return self.latency_mean_s
        progress = 1.0 if self.latency_drift_over_s <= 0 else min(1.0, elapsed_s / self.latency_drift_over_s)
        return self.latency_mean_s + (self.latency_drift_to_s - self.latency_mean_s) * max(0.0, progress)

    def stall_end_s(self, elapsed_s: float) -> float | None:
        """When the stall that `elapsed_s` (from the first faulted send) falls in ends; None if in none.

        Stalls start at `stall_every_s`, twice that, and so on, each lasting `stall_s`.
        """
        if not self.stalls() or elapsed_s < self.stall_every_s:
            return None
        started_s = elapsed_s // self.stall_every_s * self.stall_every_s
        end_s = started_s + self.stall_s
        return end_s if elapsed_s < end_s else None


@dataclass(slots=True)
class SimSettings:
    """Everything the simulator needs; defaults behave like Telegram without faults."""

    host: str = "127.0.0.1"
    port: int = 0
    """0 picks a free port."""
    seed: int = 0
    limits: LimitSettings = field(default_factory=LimitSettings)
    faults: FaultSettings = field(default_factory=FaultSettings)
    """Default faults for bots added without their own."""
    delete_window_s: float = 48 * 3600.0
    callback_answer_timeout_s: float = 15.0
    keep_bot_messages: bool = True
    """Store the messages bots send (chat views); off saves memory in million-chat benchmarks."""
    photo_size: tuple[int, int] = (800, 600)
    """Width and height reported for uploaded photos and videos (images are not decoded)."""
