"""Every Redis key of a deployment, under its queue name, so two deployments may share one Redis.

The bot, the CLI and the workers build keys only here: a reader finds what lives in Redis in
one place, and nothing escapes the deployment's prefix (`QUEUE_NAME`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class RedisKeys:
    """The keys of the deployment whose arq queue is `queue_name`."""

    queue_name: str

    def _key(self, *parts: object) -> str:
        return ":".join([self.queue_name, *(str(part) for part in parts)])

    def worker(self, worker_id: str) -> str:
        """Present while the worker is alive."""
        return self._key("worker", worker_id)

    def lease(self, job_id: str) -> str:
        """Present while a batch job runs on a live worker."""
        return self._key("lease", job_id)

    def rate(self, token: str) -> str:
        """A bot token's shared pacing state; the token itself never appears in Redis."""
        return self._key("rate", _token_digest(token))

    def route(self, token: str, part: str) -> str:
        """Whether Telegram can be reached through a token's route (`jobs.engine.route`):
        "down" (since when, probes made), "probe" (the probe's turn), "last" (the last outage)."""
        return self._key("route", _token_digest(token), part)

    def claim(self, name: str) -> str:
        """A one-shot claim (a start pressed twice starts once)."""
        return self._key("claim", name)

    def progress(self, campaign_id: int, part: str) -> str:
        """The live progress message's lock, last text or rate sample."""
        return self._key("progress", campaign_id, part)

    def recall_progress(self, action_id: int, part: str) -> str:
        """A recall's progress message: its edit lock, its last text."""
        return self._key("recall-progress", action_id, part)

    # ---- edit sent messages (issue 14)
    def content_edit(self, campaign_id: int) -> str:
        """The id of the campaign's latest edit: a batch that sees it change sends the new version."""
        return self._key("content-edit", campaign_id)

    def batch_edit_seen(self, job_id: str) -> str:
        """The latest edit a running batch job sends the version of (it restarted for it)."""
        return self._key("edit-seen", job_id)

    def media_upload(self, campaign_id: int) -> str:
        """Held by the one worker uploading a campaign's media."""
        return self._key("media-upload", campaign_id)

    def album(self, chat_id: int, media_group_id: str) -> str:
        """The items of an album an admin is sending, collected until the last one arrives."""
        return self._key("album", chat_id, media_group_id)

    def flood_wait(self, campaign_id: int) -> str:
        """Held while a campaign's 429 pause lasts: the worker that set it records the pause."""
        return self._key("flood-wait", campaign_id)

    def seen(self, campaign_id: int) -> str:
        """How many of a campaign's rows were final when the reconciler last looked (a stall check)."""
        return self._key("seen", campaign_id)

    def batch_job_prefix(self) -> str:
        """Prefix of every batch job id."""
        return self._key("batch") + ":"

    @property
    def fsm_prefix(self) -> str:
        """Prefix of the control bot's conversation state."""
        return self._key("fsm")

    @property
    def health_check(self) -> str:
        """arq's health-check key."""
        return self._key("health-check")

    @property
    def cron_queue(self) -> str:
        """The arq queue of the crons (scheduled starts, the reconcilers): no batch waits in it."""
        return self._key("cron")

    @property
    def cron_health_check(self) -> str:
        """arq's health-check key of the cron queue's worker."""
        return self._key("cron", "health-check")
