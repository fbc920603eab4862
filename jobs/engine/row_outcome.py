"""What one send's classified answer does to its delivery row. Pure: no I/O.

`jobs.outcomes.classify` says what Telegram meant; this says what is recorded: sent, failed,
unavailable, unconfirmed, a retry after a backoff, or a new chat id. The 429 (wait and send
again) and the content-error streak are the batch's to handle.
"""

from __future__ import annotations

from dataclasses import dataclass

from jobs.engine import deliveries
from jobs.engine.results import DeliveryResult, Outcome, Recipient
from jobs.outcomes import Answer, Verdict


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a row that may not have been reached is treated (from the worker's settings)."""

    at_least_once: bool
    """A send that may have arrived is retried (a duplicate is possible) instead of left unconfirmed."""
    max_attempts: int
    retry_backoff_s: float


def row_outcome(recipient: Recipient, answer: Answer, policy: RetryPolicy) -> DeliveryResult:
    """The result to record for `recipient` after `answer` (any verdict but a 429's)."""
    verdict = answer.verdict
    code, description = answer.error_code, answer.description
    if verdict is Verdict.UNAVAILABLE:
        return DeliveryResult(recipient, Outcome.UNAVAILABLE, error_code=code, error=description)
    if verdict is Verdict.MIGRATED:
        return DeliveryResult(recipient, Outcome.MIGRATED, new_chat_id=answer.new_chat_id)
    if verdict is Verdict.AMBIGUOUS and not policy.at_least_once:
        return DeliveryResult(recipient, Outcome.UNCONFIRMED, error_code=code, error=description)
    if verdict in (Verdict.AMBIGUOUS, Verdict.TRANSIENT):
        return _retry_or_fail(recipient, answer, policy)
    return DeliveryResult(recipient, Outcome.FAILED, error_code=code, error=description)


def cut_short(
    recipient: Recipient, policy: RetryPolicy, error: str = deliveries.WORKER_LOST
) -> DeliveryResult:
    """The result of a send cut short mid-request: unconfirmed, or a retry when at-least-once."""
    if policy.at_least_once:
        return _retry_or_fail(recipient, Answer(Verdict.AMBIGUOUS, None, error), policy)
    return DeliveryResult(recipient, Outcome.UNCONFIRMED, error=error)


def _retry_or_fail(recipient: Recipient, answer: Answer, policy: RetryPolicy) -> DeliveryResult:
    attempts = recipient.attempts + 1
    if attempts >= policy.max_attempts:
        return DeliveryResult(
            recipient, Outcome.FAILED, error_code=answer.error_code, error=answer.description
        )
    return DeliveryResult(
        recipient,
        Outcome.RETRY,
        error_code=answer.error_code,
        error=answer.description,
        retry_at=deliveries.backoff(attempts, policy.retry_backoff_s),
    )
