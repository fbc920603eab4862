"""The content-error streak of one batch: identical content errors in a row pause the campaign.

A content error (Telegram refusing the message itself: a caption too long, a bad entity) would
hit every recipient alike, so a run of `limit` identical ones stops the campaign instead of
failing the audience. Results of a streak are held back until it is decided: broken by another
answer, they are recorded as they are; at the limit, their rows go back to pending (released),
to be sent once the admin fixes the message and resumes. Pure: no I/O, no clock.
"""

from __future__ import annotations

from jobs.engine.results import DeliveryResult, Outcome


class ContentErrorStreak:
    """Holds back a run of identical content errors until it breaks or reaches `limit`."""

    __slots__ = ("_held", "limit", "paused_error")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.paused_error: str | None = None
        """The error that reached the limit: the campaign pauses with it (None: no pause)."""
        self._held: list[DeliveryResult] = []

    def add(self, result: DeliveryResult, *, is_content: bool) -> list[DeliveryResult]:
        """Take one send's result; returns the results that are decided, to be recorded now."""
        if not is_content:
            decided, self._held = [*self._held, result], []
            return decided
        if self.paused_error is not None:
            return [released(result)]  # sent while the streak was reached: it goes again later
        if self._held and self._held[-1].error != result.error:
            decided, self._held = self._held, [result]
            return decided
        self._held.append(result)
        if len(self._held) < self.limit:
            return []
        self.paused_error = result.error
        decided, self._held = [released(held) for held in self._held], []
        return decided

    def drain(self) -> list[DeliveryResult]:
        """The results held back, as they are (the batch ends before the streak is decided)."""
        decided, self._held = self._held, []
        return decided


def released(result: DeliveryResult) -> DeliveryResult:
    """`result`'s row back to pending, Telegram's answer kept as its last error."""
    return DeliveryResult(result.recipient, Outcome.RELEASE, error_code=result.error_code, error=result.error)
