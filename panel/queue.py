"""Names of the arq jobs and the calls that enqueue them, shared by the bot, the CLI and workers.

The control bot and the CLI enqueue jobs by name, so neither imports the workers.
"""

from __future__ import annotations

from arq.connections import ArqRedis, RedisSettings, create_pool

from panel.keys import RedisKeys

JOB_START_CAMPAIGN = "start_campaign"
JOB_SEND_BATCH = "send_batch"
JOB_FINALIZE_CAMPAIGN = "finalize_campaign"
JOB_RESUME_CAMPAIGN = "resume_campaign"


def redis_settings(redis_url: str) -> RedisSettings:
    """arq's connection settings for `redis_url`, retrying while Redis restarts."""
    settings = RedisSettings.from_dsn(redis_url)
    settings.conn_retries = 30
    settings.conn_retry_delay = 1
    return settings


async def connect(redis_url: str) -> ArqRedis:
    """An arq Redis pool for enqueueing jobs."""
    return await create_pool(redis_settings(redis_url))


async def enqueue_start(pool: ArqRedis, campaign_id: int, *, queue_name: str) -> None:
    """Ask a worker to start `campaign_id`; asking twice starts it once."""
    # No fixed _job_id: a kept result would block a later legitimate start for an hour.
    # start_campaign is a compare-and-set, so duplicates are harmless.
    await pool.enqueue_job(JOB_START_CAMPAIGN, campaign_id, _queue_name=queue_name)


async def enqueue_resume(pool: ArqRedis, campaign_id: int, *, queue_name: str) -> None:
    """Ask a worker to continue sending `campaign_id` after a pause."""
    await pool.enqueue_job(JOB_RESUME_CAMPAIGN, campaign_id, _queue_name=queue_name)


def batch_job_prefix(queue_name: str) -> str:
    """The start of every batch job id of one deployment (its queue name keeps deployments apart)."""
    return RedisKeys(queue_name).batch_job_prefix()


def batch_job_id(campaign_id: int, first_id: int, last_id: int, *, queue_name: str) -> str:
    """The fixed arq job id of one batch, so a batch is queued or running at most once.

    arq keeps job keys outside the queue, so the queue name is part of the id: two
    deployments (or a demo) sharing one Redis never take each other's batch ids.
    """
    return f"{batch_job_prefix(queue_name)}{campaign_id}:{first_id}:{last_id}"


def parse_batch_job_id(job_id: str, *, queue_name: str) -> tuple[int, int, int] | None:
    """(campaign id, first id, last id) of a batch job id, None for any other job."""
    prefix = batch_job_prefix(queue_name)
    if not job_id.startswith(prefix):
        return None
    try:
        campaign_id, first_id, last_id = (int(part) for part in job_id[len(prefix) :].split(":"))
    except ValueError:
        return None
    return campaign_id, first_id, last_id


async def enqueue_batch(
    pool: ArqRedis, campaign_id: int, first_id: int, last_id: int, *, queue_name: str
) -> bool:
    """Queue the batch of delivery ids `first_id..last_id`; False if it is already queued or running."""
    # keep_result=0: a kept result would block the same job id (a later resume) for an hour.
    job = await pool.enqueue_job(
        JOB_SEND_BATCH,
        campaign_id,
        first_id,
        last_id,
        _job_id=batch_job_id(campaign_id, first_id, last_id, queue_name=queue_name),
        _queue_name=queue_name,
    )
    return job is not None


async def enqueue_finalize(pool: ArqRedis, campaign_id: int, *, queue_name: str) -> None:
    """Ask a worker to settle a campaign whose rows may all be final (idempotent)."""
    await pool.enqueue_job(JOB_FINALIZE_CAMPAIGN, campaign_id, _queue_name=queue_name)
