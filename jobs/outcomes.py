"""What a Bot API answer means for one recipient of a broadcast. Pure: no I/O."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import aiohttp

from jobs.engine.sendclient import BotAPIError, BotAPINetworkError
from panel.logsafe import redact


class Verdict(enum.StrEnum):
    """How the engine treats an answer."""

    SENT = "sent"
    FLOOD = "flood"  # 429: pause the token, send to the same recipient again; not an attempt
    UNAVAILABLE = "unavailable"  # blocked, deactivated, kicked, never started, chat not found
    MIGRATED = "migrated"  # group became a supergroup: new chat id, send again
    TRANSIENT = "transient"  # 5xx or no connection: the message did not go out; retry with backoff
    AMBIGUOUS = "ambiguous"  # timeout or broken connection: the message may have arrived
    CONTENT = "content"  # the message itself is refused: the same for every recipient
    UNAUTHORIZED = "unauthorized"  # the target bot's token is wrong or revoked
    FAILED = "failed"  # any other refusal for this recipient


@dataclass(frozen=True, slots=True)
class Answer:
    """The classified answer to one send."""

    verdict: Verdict
    error_code: int | None = None
    description: str | None = None
    retry_after_s: float = 0.0
    new_chat_id: int | None = None


# Bad Request descriptions that mean the recipient cannot be reached.
_UNAVAILABLE_400 = ("chat not found", "user not found", "peer_id_invalid", "have no rights to send")
# Bad Request descriptions that mean the message is refused whoever receives it.
_CONTENT_400 = (
    "can't parse entities",
    "message is too long",
    "message text is empty",
    "caption is too long",
    "wrong file identifier",
    "wrong remote file identifier",
    "there is no photo in the request",
    "failed to get http url content",
    "wrong type of the web page content",
    "button_data_invalid",
    "button_text_invalid",
    "can't parse inlinekeyboardbutton",
    "can't parse reply keyboard markup",
    "entity_text_invalid",
    "message must be non-empty",
)


def classify(exc: BaseException) -> Answer:
    """The verdict for an exception raised by a `jobs.engine.sendclient` call.

    The order follows aiogram's (`check_response`): a `retry_after` means a 429 and a
    `migrate_to_chat_id` a migration whatever the status, then the HTTP status decides.
    """
    if isinstance(exc, BotAPIError):
        return _classify_answer(exc)
    if isinstance(exc, BotAPINetworkError):
        return Answer(Verdict.TRANSIENT if exc.sent_nothing else Verdict.AMBIGUOUS, None, exc.description)
    if isinstance(exc, aiohttp.ClientConnectorError | ConnectionRefusedError):
        return Answer(Verdict.TRANSIENT, None, redact(f"{type(exc).__name__}: {exc}"))
    if isinstance(exc, TimeoutError | aiohttp.ClientError):
        return Answer(Verdict.AMBIGUOUS, None, redact(f"{type(exc).__name__}: {exc}"))
    return Answer(Verdict.FAILED, None, redact(f"{type(exc).__name__}: {exc}"))


def _classify_answer(exc: BotAPIError) -> Answer:
    code, description = exc.error_code, exc.description.strip()
    if exc.retry_after_s is not None or code == 429:
        return Answer(Verdict.FLOOD, 429, "Too Many Requests", retry_after_s=float(exc.retry_after_s or 1.0))
    if exc.migrate_to_chat_id is not None:
        return Answer(Verdict.MIGRATED, code, description, new_chat_id=exc.migrate_to_chat_id)
    if code == 413:
        return Answer(Verdict.CONTENT, 413, description)
    if code == 401:
        return Answer(Verdict.UNAUTHORIZED, 401, description)
    if code == 403:
        return Answer(Verdict.UNAVAILABLE, 403, description)
    if code >= 500:
        return Answer(Verdict.TRANSIENT, 500, description)
    if code in (400, 404):
        lowered = description.lower()
        if any(marker in lowered for marker in _UNAVAILABLE_400):
            return Answer(Verdict.UNAVAILABLE, code, description)
        if any(marker in lowered for marker in _CONTENT_400):
            return Answer(Verdict.CONTENT, code, description)
        return Answer(Verdict.FAILED, code, description)
    return Answer(Verdict.FAILED, None, description)
