"""The arq worker: its settings class, an in-process factory, and the production runner.

`create_worker` builds exactly what `broadcast worker` runs, so tests, `broadcast run` and
`broadcast demo` use the same functions, crons and startup as production.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
from typing import Any

from arq import cron, func
from arq.worker import Worker

from jobs import edit, lifecycle, recall, step_run
from jobs.context import EngineContext, new_worker_id
from jobs.engine import eventloop
from jobs.engine.collector import FullCollector
from jobs.engine.ratelimit import TokenRateLimiter
from jobs.engine.sendclient import BotAPI
from panel.after_send import JOB_RECALL
from panel.db import create_engine, create_sessionmaker
from panel.keys import RedisKeys
from panel.queue import (
    JOB_FINALIZE_CAMPAIGN,
    JOB_RESUME_CAMPAIGN,
    JOB_SEND_BATCH,
    JOB_START_CAMPAIGN,
    redis_settings,
)
from panel.sent_edits import JOB_EDIT
from panel.settings import Settings

logger = logging.getLogger(__name__)

SHORT_JOB_TIMEOUT_S = 600


def _cron_seconds(interval_s: int) -> set[int]:
    return set(range(0, 60, interval_s))


def cron_worker(settings: Settings, ctx: dict[str, Any]) -> Worker:
    """The arq worker of the crons, run inside every worker process on a queue of its own.

    On the batches' queue, a cron job waited behind every batch due before it, each holding a
    job slot while it waited for room behind its token. On its own queue, with its own slots,
    it runs on time however many batches wait (tests/engine/test_engine_on_time.py).
    """
    seconds = _cron_seconds(settings.cron_interval_s)
    keys = RedisKeys(settings.queue_name)
    crons = [
        cron(
            lifecycle.check_scheduled_campaigns,
            second=seconds,
            run_at_startup=True,
            timeout=SHORT_JOB_TIMEOUT_S,
        ),
        cron(lifecycle.reconcile, second=seconds, run_at_startup=True, timeout=SHORT_JOB_TIMEOUT_S),
        cron(step_run.reconcile_recalls, second=seconds, run_at_startup=True, timeout=SHORT_JOB_TIMEOUT_S),
    ]
    return Worker(
        cron_jobs=crons,
        queue_name=keys.cron_queue,
        redis_settings=redis_settings(settings.redis_url),
        ctx=ctx,
        max_jobs=len(crons),
        keep_result=0,
        poll_delay=0.2,
        handle_signals=False,  # the process's worker handles them, and stops this one
        health_check_key=keys.cron_health_check,
    )


async def _run_crons(worker: Worker) -> None:
    with contextlib.suppress(asyncio.CancelledError):  # stopped with the process's worker
        await worker.async_run()


def worker_settings(settings: Settings) -> type:
    """An arq `WorkerSettings` class for `settings` (every option set on the class itself)."""

    async def on_startup(ctx: dict[str, Any]) -> None:
        db = create_engine(settings.database_url)
        redis = ctx["redis"]
        control_bot = None
        if settings.bot_token is not None:
            control_bot = BotAPI(
                settings.require_bot_token(), api_url=settings.telegram_api_url, timeout_s=30, limit=8
            )
        collector = FullCollector() if settings.scheduled_full_gc else None
        engine = EngineContext(
            settings=settings,
            db=db,
            sessionmaker=create_sessionmaker(db),
            redis=redis,
            limiter=TokenRateLimiter(
                redis,
                keys=RedisKeys(settings.queue_name),
                lookahead_s=settings.rate_lookahead_s,
                collector=collector,
                pacing_factor=settings.pacing_factor,
            ),
            worker_id=new_worker_id(),
            control_bot=control_bot,
        )
        engine.heartbeat_task = asyncio.create_task(engine.heartbeat())
        # Everything loaded so far lives as long as the process: out of the collector's sight,
        # a full collection stops the event loop for less time (send slots are kept to 5 ms).
        gc.collect()
        gc.freeze()
        if collector is not None:
            collector.enable()
            engine.spawn(engine.limiter.collect_while_idle())
        # The database driver's thread holds the GIL for up to the switch interval (5 ms by
        # default) before a timer of the event loop may run: 1 ms keeps slots on time.
        sys.setswitchinterval(0.001)
        if settings.stall_log_ms > 0:
            engine.stall_watch = eventloop.StallWatch(
                f"worker {engine.worker_id}", settings.stall_log_ms / 1000
            )
            engine.stall_watch.start()
        ctx["engine"] = engine
        ctx["in_progress_ms"] = int((max(settings.batch_job_timeout_s, SHORT_JOB_TIMEOUT_S) + 10) * 1000)
        crons = cron_worker(settings, {"engine": engine, "in_progress_ms": ctx["in_progress_ms"]})
        ctx["cron_worker"] = crons
        ctx["cron_task"] = asyncio.create_task(_run_crons(crons))
        logger.info("worker %s ready on queue %s", engine.worker_id, settings.queue_name)

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        crons: Worker | None = ctx.get("cron_worker")
        if crons is not None:
            await close_worker(crons)
            await ctx["cron_task"]
        engine: EngineContext | None = ctx.get("engine")
        if engine is not None:
            await engine.close()

    namespace: dict[str, Any] = {
        "functions": [
            func(
                lifecycle.start_campaign, name=JOB_START_CAMPAIGN, timeout=SHORT_JOB_TIMEOUT_S, keep_result=0
            ),
            # Many tries: a batch whose worker died is run again (see reconcile), and one that
            # finds its worker busy with the same token goes back to the queue; it is idempotent.
            func(
                lifecycle.send_batch,
                name=JOB_SEND_BATCH,
                timeout=settings.batch_job_timeout_s,
                keep_result=0,
                max_tries=1_000_000,
            ),
            func(
                lifecycle.finalize_campaign,
                name=JOB_FINALIZE_CAMPAIGN,
                timeout=SHORT_JOB_TIMEOUT_S,
                keep_result=0,
            ),
            func(
                lifecycle.resume_campaign,
                name=JOB_RESUME_CAMPAIGN,
                timeout=SHORT_JOB_TIMEOUT_S,
                keep_result=0,
            ),
            # A recall run carries on until its steps run out; a run cut short leaves its steps
            # to the next (`step_run.reconcile_recalls` queues one), so tries need no limit.
            func(
                recall.recall_campaign,
                name=JOB_RECALL,
                timeout=settings.batch_job_timeout_s,
                keep_result=0,
                max_tries=1_000_000,
            ),
            # An edit of sent messages: the same machinery as a recall (edit sent messages, issue 14).
            func(
                edit.edit_campaign,
                name=JOB_EDIT,
                timeout=settings.batch_job_timeout_s,
                keep_result=0,
                max_tries=1_000_000,
            ),
        ],
        "on_startup": on_startup,
        "on_shutdown": on_shutdown,
        "redis_settings": redis_settings(settings.redis_url),
        "queue_name": settings.queue_name,
        "max_jobs": settings.worker_max_jobs,
        "keep_result": 0,
        "poll_delay": 0.2,
        "handle_signals": True,
        "health_check_key": RedisKeys(settings.queue_name).health_check,
    }
    return type("WorkerSettings", (), namespace)


def create_worker(settings: Settings, **overrides: Any) -> Worker:
    """An arq `Worker` with the production functions, crons and startup; `overrides` win."""
    options = {
        key: value for key, value in vars(worker_settings(settings)).items() if not key.startswith("__")
    }
    options.update(overrides)
    return Worker(**options)


async def close_worker(worker: Worker) -> None:
    """Close `worker`: cancel its running jobs, wait for them, then arq's own close.

    arq's `close()` gathers the job tasks without `return_exceptions`: a task cancelled while it
    wrote its job's end to Redis would raise out of it and skip the shutdown hook (the database
    engine and the bots' sessions stay open). Awaited here first, they cannot.
    """
    tasks = list(worker.tasks.values())
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    worker.tasks.clear()
    await worker.close()


async def run_worker(settings: Settings, *, burst: bool = False) -> None:
    """Run a worker until it is stopped (SIGINT/SIGTERM finish the running jobs' current step).

    `burst`: stop once the queue is empty.
    """
    worker = create_worker(settings, burst=burst)
    try:
        # async_run (not main): arq's SIGTERM/SIGINT handler cancels the task it starts.
        await worker.async_run()
    except asyncio.CancelledError:
        pass  # stopped by a signal
    finally:
        await close_worker(worker)
