"""The message a campaign sends: text plus Telegram entities, a photo, video or file with a
caption, an album of 2-10 of them (each with its own caption), or a channel's post
forwarded or copied, kept exactly as composed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from panel import texts
from panel.buttons import Buttons
from panel.send_options import SendOptions

MAX_TEXT_UTF16 = 4096
MAX_CAPTION_UTF16 = 1024
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
"""Bots can download files of at most 20 MB (getFile): the limit of what can be passed on."""
MEDIA_KINDS = ("photo", "video", "document")
"""The media a campaign can carry; each is sent with its own Bot API method."""
SEND_METHODS = {"photo": "sendPhoto", "video": "sendVideo", "document": "sendDocument"}
_UPLOAD_NAMES = {"photo": "photo.jpg", "video": "video.mp4"}
CHANNEL_POST_MODES = ("forward", "copy")
"""`forward` keeps the "Forwarded from" header (forwardMessage); `copy` sends it as the bot's own."""
ALBUM_SIZES = range(2, 11)
"""sendMediaGroup takes 2-10 items: photos and videos mixed, or documents only."""


class ContentError(ValueError):
    """The message cannot be sent as it is; the text says why, for the admin."""


def utf16_length(text: str) -> int:
    """Length of `text` in UTF-16 code units, the unit Telegram counts in."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True, slots=True)
class Media:
    """A file the admin sent to the control bot. Its `file_id` is the control bot's: file ids
    belong to one bot, so the workers pass the file on to the target bot once
    (`jobs.engine.media_upload`)."""

    kind: str
    file_id: str
    file_unique_id: str = ""
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in MEDIA_KINDS:
            raise ContentError(texts.CONTENT_KIND_REFUSED.format(kind=self.kind))
        if not self.file_id:
            raise ContentError("The file has no file id.")
        if self.file_size is not None and self.file_size > MAX_DOWNLOAD_BYTES:
            size_mb = texts.decimal(self.file_size / 1024 / 1024)
            raise ContentError(texts.CONTENT_FILE_TOO_BIG.format(size_mb=size_mb))

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "kind": self.kind,
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
        }
        for key in ("file_name", "mime_type", "file_size"):
            value = getattr(self, key)
            if value is not None:
                found[key] = value
        return found

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> Media:
        """Read what `to_json` stored, or a Bot API PhotoSize / Video / Document with a `kind` added."""
        return cls(
            kind=str(payload.get("kind", "")),
            file_id=str(payload.get("file_id", "")),
            file_unique_id=str(payload.get("file_unique_id", "")),
            file_name=payload.get("file_name"),
            mime_type=payload.get("mime_type"),
            file_size=payload.get("file_size"),
        )


@dataclass(frozen=True, slots=True)
class ChannelPost:
    """A channel's post a campaign sends on: the target bot must be able to read the channel."""

    from_chat_id: int
    message_id: int
    mode: str = "forward"

    def __post_init__(self) -> None:
        if self.mode not in CHANNEL_POST_MODES:
            raise ContentError(f"A channel post is forwarded or copied, not {self.mode!r}.")
        if self.message_id <= 0:
            raise ContentError("The channel post has no message id.")

    def to_json(self) -> dict[str, Any]:
        return {"from_chat_id": self.from_chat_id, "message_id": self.message_id, "mode": self.mode}

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> ChannelPost:
        """Read what `to_json` stored."""
        return cls(
            from_chat_id=int(payload.get("from_chat_id", 0)),
            message_id=int(payload.get("message_id", 0)),
            mode=str(payload.get("mode", "forward")),
        )


def upload_name(kind: str, file_name: str | None) -> str:
    """The file name an upload of the media goes under (Telegram keeps a document's name)."""
    return file_name or _UPLOAD_NAMES.get(kind, "file")


def sent_media(message: Any, kind: str) -> dict[str, Any] | None:
    """The Bot API media object of `kind` in a sent message (a photo's largest size), or None."""
    if not isinstance(message, dict):
        return None
    media = message.get(kind)
    if isinstance(media, list) and media:
        media = media[-1]
    return media if isinstance(media, dict) else None


def sent_file_id(message: Any, kind: str) -> str | None:
    """The file id in a sent message's media."""
    media = sent_media(message, kind)
    found = media.get("file_id") if media is not None else None
    return str(found) if found else None


def _check_entities(entities: Sequence[Mapping[str, Any]], length: int) -> None:
    for entity in entities:
        offset, size = entity.get("offset"), entity.get("length")
        if not isinstance(offset, int) or not isinstance(size, int) or offset < 0 or size <= 0:
            raise ContentError("The message has a malformed formatting entity.")
        if offset + size > length:
            raise ContentError("A formatting entity reaches past the end of the text.")
        if not isinstance(entity.get("type"), str):
            raise ContentError("A formatting entity has no type.")


@dataclass(frozen=True, slots=True)
class AlbumItem:
    """One photo, video or file of an album, with its own caption and caption entities."""

    media: Media
    caption: str = ""
    entities: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        length = utf16_length(self.caption)
        if length > MAX_CAPTION_UTF16:
            raise ContentError(
                texts.CONTENT_CAPTION_TOO_LONG.format(
                    length=texts.number(length), limit=texts.number(MAX_CAPTION_UTF16)
                )
            )
        _check_entities(self.entities, length)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.media.to_json(),
            "caption": self.caption,
            "caption_entities": [dict(e) for e in self.entities],
        }

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> AlbumItem:
        """Read what `to_json` stored."""
        return cls(
            media=Media.from_json(payload),
            caption=str(payload.get("caption") or ""),
            entities=tuple(payload.get("caption_entities") or ()),
        )


def _check_album(content: MessageContent) -> None:
    if len(content.album) not in ALBUM_SIZES:
        raise ContentError(texts.CONTENT_ALBUM_SIZE.format(count=len(content.album)))
    kinds = {item.media.kind for item in content.album}
    if "document" in kinds and kinds != {"document"}:
        raise ContentError(texts.CONTENT_ALBUM_MIXED)
    if content.media is not None:
        raise ContentError("An album's files are its items.")
    # Telegram allows no keyboard on a media group: the buttons go in a follow-up message, the text.
    if content.buttons and not content.text.strip():
        raise ContentError(texts.CONTENT_ALBUM_BUTTONS_NEED_TEXT)
    if (content.text or content.entities) and not content.buttons:
        raise ContentError(texts.CONTENT_ALBUM_TEXT_IN_CAPTIONS)
    length = utf16_length(content.text)
    if length > MAX_TEXT_UTF16:
        raise ContentError(
            texts.CONTENT_FOLLOW_UP_TOO_LONG.format(
                length=texts.number(length), limit=texts.number(MAX_TEXT_UTF16)
            )
        )
    _check_entities(content.entities, length)


@dataclass(frozen=True, slots=True)
class BotApiCall:
    """A stored message as one Bot API request, for any chat: `params` holds all but `chat_id`."""

    method: str
    params: dict[str, Any]
    file_field: str | None = None
    """The parameter that carries the media (its file id, or the file's bytes in an upload); None: text."""
    upload_fields: tuple[str | None, ...] = ()
    """An album's items in order: the multipart part an item's bytes go under when it has no file
    id yet (its `media` is `attach://<part>`), or None when it is sent by file id."""


def bot_api_call(
    content: Mapping[str, Any],
    *,
    file_id: str | None,
    paid_broadcast: bool = False,
    options: SendOptions | None = None,
    file_ids: Sequence[str | None] = (),
) -> BotApiCall:
    """The Bot API method and parameters that send a stored message (`MessageContent.to_json()`).

    Every sender builds its request here: the workers' lean client and the control bot's preview
    and test send. The content is not re-validated: content saved under other rules (or edited in
    the database) still goes to Telegram, whose refusal then says what is wrong. Text goes with
    its entities and no parse mode, so nothing needs escaping. `file_id` is the sending bot's id
    of the media (file ids belong to one bot); None leaves it out, for an upload of the bytes
    under `file_field`. `paid_broadcast`: the bot pays to send above 30 messages a second.
    `options`: the campaign's send options (silent, protected, link preview); None: the defaults.
    A channel post is forwarded (only silent and protected apply: forwardMessage takes no buttons
    and no paid broadcast) or copied (buttons and options as for media).
    An album goes as one `sendMediaGroup`; `file_ids` holds the sending bot's id of each item
    (missing or None: the item is uploaded under its `upload_fields` part).
    """
    post = content.get("channel_post")
    if isinstance(post, dict):
        return _channel_post_call(post, content, paid_broadcast=paid_broadcast, options=options)
    album = content.get("album")
    if isinstance(album, list) and album:
        return _album_call(album, file_ids, paid_broadcast=paid_broadcast, options=options)
    text = str(content.get("text", ""))
    # As Telegram reported them, minus empty optional fields (null is not "absent" to every server).
    entities = [
        {key: value for key, value in dict(entity).items() if value is not None}
        for entity in content.get("entities") or ()
    ]
    media = content.get("media")
    params: dict[str, Any] = {}
    if not isinstance(media, dict):
        method, file_field = "sendMessage", None
        params["text"] = text
        if entities:
            params["entities"] = entities
    else:
        kind = str(media.get("kind", "document"))
        method, file_field = SEND_METHODS.get(kind, "send" + kind.capitalize()), kind
        if file_id is not None:
            params[kind] = file_id
        if text:
            params["caption"] = text
        if entities:
            params["caption_entities"] = entities
    if paid_broadcast:
        params["allow_paid_broadcast"] = True
    if options is not None:
        params.update(options.call_params(is_text=file_field is None))
    params.update(reply_markup_params(content))
    return BotApiCall(method, params, file_field)


def _channel_post_call(
    post: Mapping[str, Any],
    content: Mapping[str, Any],
    *,
    paid_broadcast: bool,
    options: SendOptions | None,
) -> BotApiCall:
    params: dict[str, Any] = {"from_chat_id": post.get("from_chat_id"), "message_id": post.get("message_id")}
    copy = post.get("mode") == "copy"
    if paid_broadcast and copy:
        params["allow_paid_broadcast"] = True
    if options is not None:
        params.update(options.call_params(is_text=False))
    if not copy:
        return BotApiCall("forwardMessage", params)
    params.update(reply_markup_params(content))
    return BotApiCall("copyMessage", params)


def _album_call(
    album: list[Any], file_ids: Sequence[str | None], *, paid_broadcast: bool, options: SendOptions | None
) -> BotApiCall:
    media: list[dict[str, Any]] = []
    upload_fields: list[str | None] = []
    for index, item in enumerate(album):
        item = dict(item) if isinstance(item, Mapping) else {}
        file_id = file_ids[index] if index < len(file_ids) else None
        part = None if file_id is not None else f"file{index}"
        entry: dict[str, Any] = {
            "type": str(item.get("kind", "document")),
            "media": file_id if file_id is not None else f"attach://{part}",
        }
        if item.get("caption"):
            entry["caption"] = str(item["caption"])
        entities = [
            {key: value for key, value in dict(entity).items() if value is not None}
            for entity in item.get("caption_entities") or ()
        ]
        if entities:
            entry["caption_entities"] = entities
        media.append(entry)
        upload_fields.append(part)
    params: dict[str, Any] = {"media": media}
    if paid_broadcast:
        params["allow_paid_broadcast"] = True
    if options is not None:
        params.update(options.call_params(is_text=False))
    return BotApiCall("sendMediaGroup", params, None, tuple(upload_fields))


def messages_per_recipient(content: Mapping[str, Any]) -> int:
    """How many messages one recipient's delivery sends (each counts against the token's limit):
    one, or an album's items and its follow-up message."""
    album = content.get("album")
    if not isinstance(album, list) or not album:
        return 1
    return len(album) + (1 if content.get("buttons") else 0)


def takes_paid_broadcast(content: Mapping[str, Any]) -> bool:
    """Whether the message's send method takes `allow_paid_broadcast` (forwardMessage does not,
    so a forwarded post goes at the free 30 messages a second even from a paid bot)."""
    post = content.get("channel_post")
    return not (isinstance(post, dict) and post.get("mode") != "copy")


def follow_up_call(
    content: Mapping[str, Any], *, paid_broadcast: bool = False, options: SendOptions | None = None
) -> BotApiCall | None:
    """The short message that carries an album's buttons after it (Telegram allows no keyboard on
    a media group), or None when there is none: the stored content's text, entities and buttons."""
    if not content.get("album") or not (content.get("buttons") or unsubscribe_rows(content)):
        return None
    text_only = {key: value for key, value in content.items() if key != "album"}
    return bot_api_call(text_only, file_id=None, paid_broadcast=paid_broadcast, options=options)


def reply_markup_params(content: Mapping[str, Any]) -> dict[str, Any]:
    """`reply_markup` with the stored content's URL buttons (and its unsubscribe button, under
    them), or nothing when it has none."""
    rows = [*Buttons.from_json(content.get("buttons")).inline_keyboard(), *unsubscribe_rows(content)]
    return {"reply_markup": {"inline_keyboard": rows}} if rows else {}


UNSUBSCRIBE_KEY = "unsubscribe"
"""In stored content: `{"topic": ..., "text": ...}`, the "Unsubscribe from <topic>" callback
button the engine puts under the message (`panel.topics`; the tracker answers the tap)."""


def unsubscribe_rows(content: Mapping[str, Any]) -> list[list[dict[str, str]]]:
    """The row of the unsubscribe button of stored content, or none."""
    button = content.get(UNSUBSCRIBE_KEY)
    if not isinstance(button, Mapping) or not button.get("topic"):
        return []
    return [[{"text": str(button["text"]), "callback_data": "unsub:" + str(button["topic"])}]]


@dataclass(frozen=True, slots=True)
class MessageContent:
    """Text (or a caption) and its entities (offsets in UTF-16 code units), as Telegram reports them."""

    text: str
    entities: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    media: Media | None = None
    buttons: Buttons = field(default_factory=Buttons)
    """URL buttons under the message (text and single media alike)."""
    channel_post: ChannelPost | None = None
    """A channel's post sent on instead of the text (which then only previews it)."""
    album: tuple[AlbumItem, ...] = ()
    """An album's items (then there is no `media`, captions are per item, and `text` is the
    follow-up message that carries the buttons, or empty when there are none)."""

    def __post_init__(self) -> None:
        if self.album:
            _check_album(self)
            return
        if self.channel_post is not None and self.media is not None:
            raise ContentError(texts.CONTENT_CHANNEL_POST_WITH_FILE)
        if self.channel_post is not None and self.buttons and self.channel_post.mode == "forward":
            raise ContentError(texts.CONTENT_FORWARD_WITH_BUTTONS)
        if self.media is None and self.channel_post is None and (not self.text or not self.text.strip()):
            raise ContentError(texts.CONTENT_EMPTY)
        length = utf16_length(self.text)
        limit = MAX_TEXT_UTF16 if self.media is None else MAX_CAPTION_UTF16
        if length > limit:
            too_long = (
                texts.CONTENT_TEXT_TOO_LONG if self.media is None else texts.CONTENT_CAPTION_OF_MEDIA_TOO_LONG
            )
            raise ContentError(too_long.format(length=texts.number(length), limit=texts.number(limit)))
        _check_entities(self.entities, length)

    @property
    def kind(self) -> str:
        """`text`, `channel_post`, `album`, or the media's kind."""
        if self.channel_post is not None:
            return "channel_post"
        if self.album:
            return "album"
        return "text" if self.media is None else self.media.kind

    def to_json(self) -> dict[str, Any]:
        """The form stored in `campaigns.content`."""
        found: dict[str, Any] = {
            "kind": self.kind,
            "text": self.text,
            "entities": [dict(e) for e in self.entities],
        }
        if self.media is not None:
            found["media"] = self.media.to_json()
        if self.buttons:
            found["buttons"] = self.buttons.to_json()
        if self.channel_post is not None:
            found["channel_post"] = self.channel_post.to_json()
        if self.album:
            found["album"] = [item.to_json() for item in self.album]
        return found

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> MessageContent:
        """Read what `to_json` stored."""
        media = payload.get("media")
        post = payload.get("channel_post")
        return cls(
            text=str(payload.get("text", "")),
            entities=tuple(payload.get("entities") or ()),
            media=Media.from_json(media) if isinstance(media, dict) else None,
            buttons=Buttons.from_json(payload.get("buttons")),
            channel_post=ChannelPost.from_json(post) if isinstance(post, dict) else None,
            album=tuple(
                AlbumItem.from_json(item) for item in payload.get("album") or () if isinstance(item, dict)
            ),
        )

    def preview_text(self) -> str:
        """The text, or a label of the media and its caption, for lists and cards."""
        if self.channel_post is not None:
            forwarded = self.channel_post.mode == "forward"
            label = texts.PREVIEW_FORWARDED_POST if forwarded else texts.PREVIEW_COPIED_POST
            return f"[{label}] {self.text}".rstrip()
        if self.album:
            caption = next((item.caption for item in self.album if item.caption), "")
            return f"[{texts.PREVIEW_ALBUM.format(count=len(self.album))}] {caption}".rstrip()
        if self.media is None:
            return self.text
        label = {"photo": texts.PREVIEW_PHOTO, "video": texts.PREVIEW_VIDEO, "document": texts.PREVIEW_FILE}[
            self.media.kind
        ]
        if self.media.kind == "document" and self.media.file_name:
            label += f" {self.media.file_name}"
        return f"[{label}] {self.text}".rstrip()
