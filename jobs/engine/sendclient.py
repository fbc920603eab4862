"""A lean Bot API client for the sending workers: JSON over one aiohttp session per token.

The control bot (`bot/`) talks through aiogram. The workers' hot path does not: aiogram builds
and validates pydantic models both ways, and importing it is heavy; this client costs less than
half its CPU per send and a fraction of its memory (`bench/engine_bench.py --client-cost`; the
figures are in bench/RESULTS.md). This client speaks the same protocol aiogram does
(`POST {base}/bot{token}/{method}`, the answer envelope `{"ok", "result" | "error_code",
"description", "parameters"}`) and raises errors that carry what Telegram said, for
`jobs.outcomes.classify` to map exactly as it maps aiogram's exceptions.

Tokens never appear in an error's text: URLs are not rendered, descriptions are redacted.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from panel.logsafe import redact
from panel.settings import TELEGRAM_API_URL


class BotAPIError(Exception):
    """Telegram answered, and not with ok: its status, description and parameters."""

    def __init__(
        self,
        error_code: int,
        description: str,
        *,
        retry_after_s: float | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after_s = retry_after_s
        self.migrate_to_chat_id = migrate_to_chat_id

    def __repr__(self) -> str:
        return f"BotAPIError({self.error_code}, {self.description!r})"


class BotAPINetworkError(Exception):
    """No answer from Telegram. `sent_nothing`: the request never left (connection refused,
    connect timeout), so the message was certainly not delivered; otherwise it may have been.
    `route`: the network failed (not an unreadable answer): a sign of an outage (`jobs.engine.route`)."""

    def __init__(self, description: str, *, sent_nothing: bool, route: bool = True) -> None:
        super().__init__(description)
        self.description = description
        self.sent_nothing = sent_nothing
        self.route = route


_JSON_HEADERS = CIMultiDict({"Content-Type": "application/json"})


def api_base(api_url: str) -> str:
    """The server's base URL without a trailing slash (Telegram's own by default)."""
    return (api_url or TELEGRAM_API_URL).rstrip("/")


def _error_from_envelope(status: int, envelope: dict[str, Any]) -> BotAPIError:
    parameters = envelope.get("parameters") or {}
    retry_after = parameters.get("retry_after")
    migrate_to = parameters.get("migrate_to_chat_id")
    return BotAPIError(
        int(envelope.get("error_code") or status),
        redact(str(envelope.get("description") or f"HTTP {status}")),
        retry_after_s=float(retry_after) if retry_after is not None else None,
        migrate_to_chat_id=int(migrate_to) if migrate_to is not None else None,
    )


class BotAPI:
    """One bot token's client: `call(method, params)` returns Telegram's `result` or raises.

    Sessions are created lazily (inside the running loop) and closed by `close()`.
    """

    def __init__(
        self, token: str, *, api_url: str = TELEGRAM_API_URL, timeout_s: float = 30.0, limit: int = 100
    ) -> None:
        self._token = token
        self._base = f"{api_base(api_url)}/bot{token}/"
        self._file_base = f"{api_base(api_url)}/file/bot{token}/"
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._limit = limit
        self._session: aiohttp.ClientSession | None = None
        self._urls: dict[str, URL] = {}  # parsed once per method, not per request

    @property
    def bot_id(self) -> str:
        """The public part of the token (before the colon)."""
        return self._token.partition(":")[0]

    def __repr__(self) -> str:
        return f"BotAPI(bot_id={self.bot_id})"

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._limit, limit_per_host=self._limit, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)
        return self._session

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        """Call `method` with JSON `params`; Telegram's `result` (a dict for a sent message)."""
        return await self.call_raw(method, json.dumps(params, separators=(",", ":")).encode())

    def _url(self, method: str) -> URL:
        url = self._urls.get(method)
        if url is None:
            url = self._urls[method] = URL(self._base + method)
        return url

    async def call_raw(self, method: str, body: bytes) -> Any:
        """Call `method` with a JSON body already encoded (the hot path builds it once per batch)."""
        status, raw = await self._request("POST", self._url(method), data=body, headers=_JSON_HEADERS)
        return answer_result(status, raw)

    async def _request(self, method: str, url: URL, **kwargs: Any) -> tuple[int, bytes]:
        """One HTTP request, its errors mapped as `call_raw` maps them."""
        try:
            async with self._client().request(method, url, **kwargs) as response:
                return response.status, await response.read()
        except aiohttp.ClientConnectorError as exc:  # refused / DNS / TLS handshake: nothing was sent
            raise BotAPINetworkError(redact(f"{type(exc).__name__}: {exc}"), sent_nothing=True) from None
        except aiohttp.ConnectionTimeoutError:  # no connection within the timeout: nothing was sent
            raise BotAPINetworkError("Connection timeout error", sent_nothing=True) from None
        except TimeoutError:
            raise BotAPINetworkError("Request timeout error", sent_nothing=False) from None
        except aiohttp.ClientError as exc:
            raise BotAPINetworkError(redact(f"{type(exc).__name__}: {exc}"), sent_nothing=False) from None

    async def upload(
        self,
        method: str,
        params: dict[str, Any],
        *,
        field: str,
        data: bytes,
        filename: str,
        timeout_s: float | None = None,
    ) -> Any:
        """Call `method` as multipart/form-data with the file's bytes in `field` (a new upload);
        `timeout_s` replaces the client's timeout (a large file takes longer than a message)."""
        form = aiohttp.FormData()
        for key, value in params.items():
            form.add_field(key, value if isinstance(value, str) else json.dumps(value, separators=(",", ":")))
        form.add_field(field, data, filename=filename)
        timeout = aiohttp.ClientTimeout(total=timeout_s) if timeout_s is not None else self._timeout
        status, raw = await self._request("POST", self._url(method), data=form, timeout=timeout)
        return answer_result(status, raw)

    async def upload_files(
        self,
        method: str,
        params: dict[str, Any],
        *,
        files: list[tuple[str, bytes, str]],
        timeout_s: float | None = None,
    ) -> Any:
        """Call `method` as multipart/form-data with several files, each `(part, bytes, file name)`
        (an album's items point at their part with `attach://<part>`)."""
        form = aiohttp.FormData()
        for key, value in params.items():
            form.add_field(key, value if isinstance(value, str) else json.dumps(value, separators=(",", ":")))
        for part, data, filename in files:
            form.add_field(part, data, filename=filename)
        timeout = aiohttp.ClientTimeout(total=timeout_s) if timeout_s is not None else self._timeout
        status, raw = await self._request("POST", self._url(method), data=form, timeout=timeout)
        return answer_result(status, raw)

    async def download(self, file_id: str) -> bytes:
        """The bytes of a file this bot can see (getFile, then the file URL; 20 MB at most)."""
        found = await self.call("getFile", {"file_id": file_id})
        path = found.get("file_path") if isinstance(found, dict) else None
        if not path:
            raise BotAPIError(400, "Bad Request: the file has no download path")
        url = URL(self._file_base + path)
        status, raw = await self._request("GET", url)
        if status != 200:
            raise BotAPIError(status, f"file download failed: HTTP {status}")
        return raw

    async def send_message(self, chat_id: int, text: str, **params: Any) -> dict[str, Any]:
        """sendMessage; the sent message as Telegram returned it."""
        result: dict[str, Any] = await self.call("sendMessage", {"chat_id": chat_id, "text": text, **params})
        return result

    async def edit_message_text(self, *, chat_id: int, message_id: int, text: str, **params: Any) -> Any:
        """editMessageText; the edited message (or True for inline messages)."""
        return await self.call(
            "editMessageText", {"chat_id": chat_id, "message_id": message_id, "text": text, **params}
        )

    async def pin_chat_message(
        self, chat_id: int, message_id: int, *, disable_notification: bool = True
    ) -> Any:
        """pinChatMessage; True once the message is pinned (silently by default)."""
        return await self.call(
            "pinChatMessage",
            {"chat_id": chat_id, "message_id": message_id, "disable_notification": disable_notification},
        )

    async def close(self) -> None:
        """Close the connection pool."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


_PROXY_STATUSES = frozenset({502, 503, 504})


def answer_result(status: int, raw: bytes) -> Any:
    """Telegram's `result` from an answer's body, or the error it carries."""
    try:
        envelope = json.loads(raw)
    except ValueError:
        envelope = None
    if not isinstance(envelope, dict):
        if status in _PROXY_STATUSES:
            # Telegram answers its errors with a JSON envelope: a bare 502/503/504 is a proxy
            # on the way that did not reach it (503) or lost its answer (502, 504).
            raise BotAPINetworkError(f"HTTP {status} from a proxy", sent_nothing=status == 503)
        if status >= 500 or status in (429, 400, 401, 403, 404):
            raise BotAPIError(status, f"HTTP {status}")
        # An unreadable 2xx: the request arrived, the message may have gone out.
        raise BotAPINetworkError(f"unreadable answer (HTTP {status})", sent_nothing=False, route=False)
    if envelope.get("ok") is True:
        return envelope.get("result")
    raise _error_from_envelope(status, envelope)


class PreparedSend:
    """One method with fixed parameters for many chats: the JSON is encoded once, not per send."""

    def __init__(
        self,
        method: str,
        params: dict[str, Any],
        *,
        personal: tuple[str, str] | None = None,
        varying: tuple[str, ...] = (),
    ) -> None:
        self.method = method
        self.personal = personal
        """The text and entities fields filled per recipient (a personalised campaign), if any."""
        self.varying = varying
        """Further fields each recipient gets their own of (`extra` of `body`: tracked buttons)."""
        fixed_params = {
            k: v for k, v in params.items() if (personal is None or k not in personal) and k not in varying
        }
        fixed = json.dumps(fixed_params, separators=(",", ":"), ensure_ascii=False)
        self._tail = ("," + fixed[1:] if fixed != "{}" else "}").encode()

    def body(
        self,
        chat_id: int,
        text: str | None = None,
        entities: list[dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> bytes:
        """The request body for `chat_id`; a personalised send adds its own `text` and `entities`,
        a tracked one its own `extra` fields (those named in `varying`)."""
        head = b'{"chat_id":' + str(int(chat_id)).encode()
        own: dict[str, Any] = {}
        if self.personal is not None and text is not None:
            text_field, entities_field = self.personal
            own = {text_field: text, **({entities_field: entities} if entities else {})}
        if extra:
            own.update(extra)
        if own:
            head += b"," + json.dumps(own, separators=(",", ":"), ensure_ascii=False)[1:-1].encode()
        return head + self._tail
