"""The Bot API error answer, and Telegram's exact error texts used by the simulator."""

from __future__ import annotations

from typing import Any

UNAUTHORIZED = "Unauthorized"
NOT_FOUND = "Not Found"
CHAT_NOT_FOUND = "Bad Request: chat not found"
BLOCKED = "Forbidden: bot was blocked by the user"
DEACTIVATED = "Forbidden: user is deactivated"
CANT_INITIATE = "Forbidden: bot can't initiate conversation with a user"
TEXT_EMPTY = "Bad Request: message text is empty"
TEXT_TOO_LONG = "Bad Request: message is too long"
CAPTION_TOO_LONG = "Bad Request: message caption is too long"
BUTTON_DATA_INVALID = "Bad Request: BUTTON_DATA_INVALID"
BUTTON_TEXT_INVALID = "Bad Request: BUTTON_TEXT_INVALID"
BUTTON_URL_INVALID = "Bad Request: BUTTON_URL_INVALID"
TEXT_BUTTONS_UNALLOWED = (
    "Bad Request: can't parse InlineKeyboardButton: Text buttons are not allowed in the inline keyboard"
)
PARSE_ENTITIES = "Bad Request: can't parse entities: "
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
EDIT_NOT_FOUND = "Bad Request: message to edit not found"
NO_TEXT_TO_EDIT = "Bad Request: there is no text in the message to edit"
NO_CAPTION_TO_EDIT = "Bad Request: there is no caption in the message to edit"
DELETE_NOT_FOUND = "Bad Request: message to delete not found"
PIN_NOT_FOUND = "Bad Request: message to pin not found"
UNPIN_NOT_FOUND = "Bad Request: message to unpin not found"
LINK_PREVIEW_INVALID = "Bad Request: can't parse link preview options JSON object"
CANT_DELETE = "Bad Request: message can't be deleted for everyone"
COPY_NOT_FOUND = "Bad Request: message to copy not found"
FORWARD_NOT_FOUND = "Bad Request: message to forward not found"
WRONG_FILE = "Bad Request: wrong file identifier/HTTP URL specified"
FILE_MISSING = "Bad Request: there is no photo in the request"
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
MARKUP_INVALID = "Bad Request: can't parse reply keyboard markup JSON object"
CHAT_ID_EMPTY = "Bad Request: chat_id is empty"
MESSAGE_ID_INVALID = "Bad Request: message identifier is not specified"
FILE_ID_EMPTY = "Bad Request: file_id is empty"
FILE_TOO_BIG = "Bad Request: file is too big"
GROUP_MIGRATED = "Bad Request: group chat was upgraded to a supergroup chat"
BAD_GATEWAY = "Bad Gateway"
INTERNAL = "Internal Server Error"
CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"


def too_many_requests(retry_after_s: int) -> ApiError:
    """Telegram's flood-control answer."""
    return ApiError(429, f"Too Many Requests: retry after {retry_after_s}", {"retry_after": retry_after_s})


class ApiError(Exception):
    """A Bot API error answer: HTTP status, `description` and optional `parameters`."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def envelope(self) -> dict[str, Any]:
        """The JSON body Telegram answers with."""
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(description: str) -> ApiError:
    """A 400 answer with Telegram's text."""
    return ApiError(400, description)


MEDIA_GROUP_COUNT = "Bad Request: wrong number of media in the group"
MEDIA_GROUP_NOT_SPECIFIED = "Bad Request: media to send are not specified"
MEDIA_GROUP_INVALID = "Bad Request: can't parse media JSON object"
MEDIA_GROUP_MARKUP = "Bad Request: reply markup can't be used with a media group"
