"""The content-error streak and what an answer does to its row, on their own (pure, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime

from jobs.engine.results import DeliveryResult, Outcome, Recipient
from jobs.engine.row_outcome import RetryPolicy, cut_short, row_outcome
from jobs.engine.streak import ContentErrorStreak
from jobs.outcomes import Answer, Verdict

TOO_LONG = "Bad Request: message caption is too long"
BAD_ENTITY = "Bad Request: can't parse entities"


def _recipient(n: int, attempts: int = 0) -> Recipient:
    return Recipient(delivery_id=n, user_id=n, chat_id=1000 + n, attempts=attempts)


def _refused(n: int, error: str = TOO_LONG) -> DeliveryResult:
    return DeliveryResult(_recipient(n), Outcome.FAILED, error_code=400, error=error)


def _sent(n: int) -> DeliveryResult:
    return DeliveryResult(_recipient(n), Outcome.SENT, message_id=n)


def test_identical_content_errors_up_to_the_limit_go_back_to_pending_and_pause() -> None:
    streak = ContentErrorStreak(3)
    assert streak.add(_refused(1), is_content=True) == []
    assert streak.add(_refused(2), is_content=True) == []
    decided = streak.add(_refused(3), is_content=True)
    assert [(r.recipient.delivery_id, r.outcome, r.error) for r in decided] == [
        (1, Outcome.RELEASE, TOO_LONG),
        (2, Outcome.RELEASE, TOO_LONG),
        (3, Outcome.RELEASE, TOO_LONG),
    ]
    assert streak.paused_error == TOO_LONG
    # Sends already under way when the streak was reached go again later, too.
    assert [r.outcome for r in streak.add(_refused(4), is_content=True)] == [Outcome.RELEASE]
    assert streak.drain() == []


def test_a_streak_broken_by_another_answer_is_recorded_as_it_is() -> None:
    streak = ContentErrorStreak(3)
    assert streak.add(_refused(1), is_content=True) == []
    assert streak.add(_refused(2), is_content=True) == []
    assert streak.add(_sent(3), is_content=False) == [_refused(1), _refused(2), _sent(3)]
    assert streak.paused_error is None


def test_a_different_content_error_starts_a_new_streak() -> None:
    streak = ContentErrorStreak(2)
    assert streak.add(_refused(1), is_content=True) == []
    assert streak.add(_refused(2, BAD_ENTITY), is_content=True) == [_refused(1)]
    assert [r.outcome for r in streak.add(_refused(3, BAD_ENTITY), is_content=True)] == [Outcome.RELEASE] * 2
    assert streak.paused_error == BAD_ENTITY


def test_a_batch_ending_mid_streak_records_the_held_results_as_they_are() -> None:
    streak = ContentErrorStreak(5)
    streak.add(_refused(1), is_content=True)
    assert streak.drain() == [_refused(1)]
    assert streak.drain() == []
    assert streak.paused_error is None


def test_answers_become_the_row_outcomes_they_mean() -> None:
    once = RetryPolicy(at_least_once=False, max_attempts=3, retry_backoff_s=1.0)
    twice = RetryPolicy(at_least_once=True, max_attempts=3, retry_backoff_s=1.0)
    fresh, worn = _recipient(1), _recipient(2, attempts=2)
    blocked = Answer(Verdict.UNAVAILABLE, 403, "Forbidden: bot was blocked by the user")
    assert row_outcome(fresh, blocked, once).outcome is Outcome.UNAVAILABLE
    moved = row_outcome(fresh, Answer(Verdict.MIGRATED, 400, "migrated", new_chat_id=-100), once)
    assert (moved.outcome, moved.new_chat_id) == (Outcome.MIGRATED, -100)
    timeout = Answer(Verdict.AMBIGUOUS, None, "Request timeout error")
    assert row_outcome(fresh, timeout, once).outcome is Outcome.UNCONFIRMED
    retried = row_outcome(fresh, timeout, twice)
    assert retried.outcome is Outcome.RETRY and retried.retry_at is not None
    assert retried.retry_at > datetime.now(UTC)
    server = Answer(Verdict.TRANSIENT, 502, "Bad Gateway")
    assert row_outcome(fresh, server, once).outcome is Outcome.RETRY
    assert row_outcome(worn, server, once).outcome is Outcome.FAILED  # the last attempt
    for verdict in (Verdict.CONTENT, Verdict.UNAUTHORIZED, Verdict.FAILED):
        assert row_outcome(fresh, Answer(verdict, 400, "no"), once).outcome is Outcome.FAILED
    assert cut_short(fresh, once).outcome is Outcome.UNCONFIRMED
    assert cut_short(fresh, twice).outcome is Outcome.RETRY
