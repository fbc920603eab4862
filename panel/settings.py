"""Settings read from the environment and an optional `.env` file."""

from __future__ import annotations

import base64
import hashlib
import hmac
import zoneinfo
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///" + str(Path("var") / "broadcast.sqlite3")
TELEGRAM_API_URL = "https://api.telegram.org"


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable."""


class Settings(BaseSettings):
    """Everything configurable about Broadcast Panel; see the README's configuration table."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = None
    admin_ids: Annotated[tuple[int, ...], NoDecode] = ()
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str = "redis://127.0.0.1:6379/0"
    telegram_api_url: str = TELEGRAM_API_URL
    timezone: str = "UTC"
    secret_key: SecretStr | None = None
    """SECRET_KEY: Fernet keys, comma-separated; the first encrypts, every one decrypts (rotation)."""
    # Tracked links (panel/links.py, linktracker/): the public base URL of the link service, and
    # where `broadcast links serve` (and `broadcast run`) listens.
    links_base_url: str | None = None
    """LINKS_BASE_URL: e.g. https://l.example.com; unset: no campaign tracks its links."""
    links_host: str = "0.0.0.0"
    links_port: int = Field(default=8080, ge=1, le=65535)
    metrics_port: int = Field(default=0, ge=0, le=65535)
    """METRICS_PORT: where this process serves its Prometheus metrics (0: it does not)."""

    # Engine tuning; sensible for production, overridden by tests and benchmarks.
    batch_size: int = Field(default=500, ge=1)
    send_concurrency: int = Field(default=64, ge=1)
    max_attempts: int = Field(default=5, ge=1)
    request_timeout_s: float = Field(default=15.0, gt=0)
    lateness_cutoff_s: float = Field(default=3600.0, ge=0)
    progress_interval_s: float = Field(default=3.0, ge=0)
    at_least_once: bool = False
    content_error_streak: int = Field(default=5, ge=1)
    # The arq queue, and the prefix of every Redis key of this deployment (claims, progress,
    # batch job ids, conversation state), so deployments sharing one Redis stay apart.
    queue_name: str = "broadcast:queue"
    # Sending engine (jobs/); see jobs/engine/ratelimit.py and jobs/batch.py for what each one paces.
    pacing_factor: float = Field(default=0.985, gt=0, le=1)
    """Share of a bot's rate the engine aims at, so jittered arrivals never exceed the limit.

    Send slots are exactly 1/(rate × factor) apart and each is used within 5 ms or given up, so
    a one-second window of Telegram's sees at most `rate` sends while the spread of the network's
    delay before Telegram's gate stays under about 1/factor - 1 - 0.005 s: 10 ms at 0.985 (a
    route of 100 ms ± 10 ms, the benchmark's), 15 ms at 0.98, 25 ms at 0.97. Lower it for a
    jittery route; a 429 costs the token a whole second.
    """
    rate_lookahead_s: float = Field(default=0.5, gt=0)
    """How far ahead of now a sender may reserve a send slot (bounds what a pause strands)."""
    worker_max_jobs: int = Field(default=100, ge=1)
    """Jobs one worker process runs at once. A batch holds its slot while it sends at its token's
    rate (500 rows at 30/s: 17 s), so the slots must cover every token sending at once, times
    `batches_per_token`: with 10, twenty bots' campaigns ran five tokens at a time (bench/fleet_bench.py).
    A job is a coroutine waiting on the network: slots cost little memory and no CPU."""
    batches_per_token: int = Field(default=2, ge=1)
    """Batches of one bot token that one worker process sends at once; more wait in the queue
    (each batch can reach the token's rate alone; more would only add claims and writes).
    A bot of 30/s or less keeps one (`jobs.context.SLOW_TOKEN_RATE`)."""
    worker_lease_s: float = Field(default=15.0, gt=0)
    """A worker silent this long is dead: its claimed rows are settled by the reconciler."""
    flush_interval_s: float = Field(default=0.2, gt=0)
    flush_size: int = Field(default=200, ge=1)
    status_check_interval_s: float = Field(default=0.5, gt=0)
    retry_backoff_s: float = Field(default=1.0, ge=0)
    cron_interval_s: int = Field(default=5, ge=1, le=60)
    """How often the scheduler check and the reconciler run (seconds, a divisor of 60 reads best)."""
    batch_job_timeout_s: float = Field(default=3600.0, gt=0)
    scheduled_full_gc: bool = True
    """Workers run full garbage collections between send slots (jobs/engine/collector.py)."""
    stall_log_ms: float = Field(default=0, ge=0)
    """Log each event-loop stall or garbage collection of a worker at least this long (0: off)."""

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _parse_admin_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            try:
                return tuple(int(part) for part in parts)
            except ValueError:
                raise ValueError("expected comma-separated Telegram user ids, e.g. 12345,67890") from None
        if isinstance(value, int):
            return (value,)
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Berlin") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _check_api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// base URL")
        return value.rstrip("/")

    @field_validator("links_base_url")
    @classmethod
    def _check_links_base_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")) or not value.split("://", 1)[1]:
            raise ValueError("must be an http:// or https:// base URL, e.g. https://l.example.com")
        if info.data.get("secret_key") is None:
            raise ValueError("needs SECRET_KEY: tracked links are signed with a key derived from it")
        return value

    @field_validator("bot_token")
    @classmethod
    def _check_bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value() and not looks_like_token(value.get_secret_value()):
            raise ValueError("does not look like a bot token (expected 123456:ABC...)")
        if value is not None and not value.get_secret_value():
            return None
        return value

    @field_validator("secret_key")
    @classmethod
    def _check_secret_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        for number, key in enumerate(split_keys(value.get_secret_value()), start=1):
            if not looks_like_fernet_key(key):
                raise ValueError(
                    f"key {number} is not a Fernet key (44 characters of url-safe base64 for 32 bytes);"
                    " make one with `broadcast secrets generate`"
                )
        return value

    def require_secret_keys(self) -> tuple[str, ...]:
        """The keys that encrypt target bot tokens, the writing one first, or `SettingsError`."""
        if self.secret_key is None:
            raise SettingsError(
                "SECRET_KEY: missing; target bot tokens are stored encrypted under it"
                " (make one with `broadcast secrets generate`)"
            )
        return split_keys(self.secret_key.get_secret_value())

    def derived_key(self, purpose: str) -> bytes:
        """A 32-byte key for one purpose (signing links, say), derived from the writing key, so
        one secret serves every use and no use can be turned into another."""
        writing_key = base64.urlsafe_b64decode(self.require_secret_keys()[0])
        return hmac.new(writing_key, b"broadcast-panel:" + purpose.encode(), hashlib.sha256).digest()

    def require_bot_token(self) -> str:
        """Return the control bot's token or raise `SettingsError` naming `BOT_TOKEN`."""
        if self.bot_token is None:
            raise SettingsError(
                "BOT_TOKEN: missing; create the control bot with @BotFather and set its token"
            )
        return self.bot_token.get_secret_value()


def split_keys(value: str) -> tuple[str, ...]:
    """SECRET_KEY's keys in order, blanks dropped."""
    return tuple(part.strip() for part in value.split(",") if part.strip())


def looks_like_fernet_key(key: str) -> bool:
    """Whether `key` is what Fernet takes: 32 bytes in url-safe base64."""
    try:
        return len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32 and len(key) == 44
    except (ValueError, UnicodeEncodeError):
        return False


def looks_like_token(token: str) -> bool:
    """Whether `token` has the shape of a Telegram bot token (`123456:ABC...`)."""
    bot_id, sep, secret = token.partition(":")
    return (
        bool(sep) and bot_id.isdigit() and len(secret) >= 1 and all(c.isalnum() or c in "_-" for c in secret)
    )


def mask_token(token: str) -> str:
    """Show a token without its secret part, e.g. `123456:AB…yz`."""
    bot_id, _, secret = token.partition(":")
    if len(secret) <= 4:
        return f"{bot_id}:…"
    return f"{bot_id}:{secret[:2]}…{secret[-2:]}"


def load_settings(**overrides: object) -> Settings:
    """Read the settings; a missing or malformed value raises `SettingsError` in one line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        variable = str(error["loc"][0]).upper() if error["loc"] else "settings"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{variable}: {message}") from None
