"""What a Bot API answer means for one recipient of a broadcast. Pure: no I/O."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import aiohttp
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)


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


def _description(exc: TelegramAPIError) -> str:
    return str(exc.message).strip()


def _sent_nothing(exc: TelegramNetworkError) -> bool:
    """Whether a network error happened before the request could reach Telegram."""
    cause = exc.__cause__
    return isinstance(cause, aiohttp.ClientConnectorError)


def classify(exc: BaseException) -> Answer:
    """The verdict for an exception raised by a send method."""
    if isinstance(exc, TelegramRetryAfter):
        return Answer(Verdict.FLOOD, 429, "Too Many Requests", retry_after_s=float(exc.retry_after))
    if isinstance(exc, TelegramMigrateToChat):
        return Answer(Verdict.MIGRATED, 400, _description(exc), new_chat_id=int(exc.migrate_to_chat_id))
    if isinstance(exc, TelegramEntityTooLarge):
        return Answer(Verdict.CONTENT, 413, _description(exc))
    if isinstance(exc, TelegramNetworkError):
        if _sent_nothing(exc):
            return Answer(Verdict.TRANSIENT, None, _description(exc))
        return Answer(Verdict.AMBIGUOUS, None, _description(exc))
    if isinstance(exc, TelegramUnauthorizedError):
        return Answer(Verdict.UNAUTHORIZED, 401, _description(exc))
    if isinstance(exc, TelegramForbiddenError):
        return Answer(Verdict.UNAVAILABLE, 403, _description(exc))
    if isinstance(exc, TelegramServerError):
        return Answer(Verdict.TRANSIENT, 500, _description(exc))
    if isinstance(exc, TelegramBadRequest | TelegramNotFound):
        description = _description(exc)
        lowered = description.lower()
        code = 404 if isinstance(exc, TelegramNotFound) else 400
        if any(marker in lowered for marker in _UNAVAILABLE_400):
            return Answer(Verdict.UNAVAILABLE, code, description)
        if any(marker in lowered for marker in _CONTENT_400):
            return Answer(Verdict.CONTENT, code, description)
        return Answer(Verdict.FAILED, code, description)
    if isinstance(exc, TelegramAPIError):
        return Answer(Verdict.FAILED, None, _description(exc))
    if isinstance(exc, aiohttp.ClientConnectorError | ConnectionRefusedError):
        return Answer(Verdict.TRANSIENT, None, f"{type(exc).__name__}: {exc}")
    if isinstance(exc, TimeoutError | aiohttp.ClientError):
        return Answer(Verdict.AMBIGUOUS, None, f"{type(exc).__name__}: {exc}")
    return Answer(Verdict.FAILED, None, f"{type(exc).__name__}: {exc}")
