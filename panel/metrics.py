"""Prometheus metrics of the workers, the control bot and the link service (`prometheus_client`).

Each process serves its own on `METRICS_PORT` (off when 0); `broadcast run` is one process, so
one port. Counters count what was committed (a send's outcome once it is in the ledger), so a
scrape after a campaign agrees with the ledger. The README lists the metrics and queries.
"""

from __future__ import annotations

import logging

from prometheus_client import Counter, Gauge, start_http_server

logger = logging.getLogger(__name__)

SENDS = Counter(
    "broadcast_sends",
    "Recipients settled by the workers, by target bot and outcome (sent, failed, unavailable, ...).",
    ["bot", "outcome"],
)
FLOOD_WAITS = Counter(
    "broadcast_flood_waits", "429 answers (flood waits) from Telegram, by target bot.", ["bot"]
)
FLOOD_WAIT_SECONDS = Counter(
    "broadcast_flood_wait_seconds", "Seconds a target bot's token was paused by 429s (retry_after).", ["bot"]
)
RATE_LIMIT = Gauge(
    "broadcast_rate_limit_per_second",
    "The sending rate a target bot's token is paced at (its limit).",
    ["bot"],
)
QUEUE_DEPTH = Gauge("broadcast_queue_depth", "Jobs waiting in the arq queue (batches, starts, crons).")
JOB_LAG_SECONDS = Gauge("broadcast_job_lag_seconds", "How long the oldest due job has waited in the queue.")
CAMPAIGN_PROGRESS = Gauge(
    "broadcast_campaign_progress", "Share of a sending campaign's recipients settled (0-1).", ["campaign"]
)
CAMPAIGNS_ACTIVE = Gauge("broadcast_campaigns_active", "Campaigns sending or paused.")
UPDATES = Counter("broadcast_control_updates", "Updates the control bot handled, by kind.", ["kind"])
REDIRECTS = Counter(
    "broadcast_link_redirects", "Requests to the link service, by answer (302, 404).", ["status"]
)
CLICKS = Counter("broadcast_link_clicks", "Clicks on tracked links recorded by the link service.")


def serve(port: int, *, host: str = "0.0.0.0") -> None:
    """Expose this process's metrics on `port` (0: not at all)."""
    if port <= 0:
        return
    start_http_server(port, addr=host)
    logger.info("metrics on http://%s:%s/metrics", host, port)
