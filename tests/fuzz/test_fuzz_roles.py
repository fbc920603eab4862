"""Random conversations as an admin with a role: nothing happens beyond what the role allows.

The same conversations as tests/fuzz/test_fuzz_conversation.py (the same steps, the same
checks that only a shown Confirm acts), held by an admin who is not an owner:

- a viewer changes nothing: no campaign, segment or audit entry, no job;
- an editor composes, schedules and deletes drafts, but never starts, pauses, resumes,
  cancels or recalls anything, so no job is ever queued;
- a sender of the shop bot alone never touches a news campaign, composes nothing, and every
  job it queues is for a shop campaign.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from models import Campaign, CampaignStatus
from panel.admins import add_admin
from panel.after_send import JOB_RECALL
from panel.roles import Role, set_role
from tests.fuzz.test_fuzz_conversation import (
    FUZZ_SETTINGS,
    STRANGERS,
    Action,
    Actor,
    Conversation,
    Snapshot,
    admin_step,
    reset,
    stranger_step,
)
from tests.support.control import CONTROL_TOKEN, ControlBot
from tests.support.log_watch import LogWatch

ROLE_ADMIN = 9401
# The roles share the budget of one conversation fuzz: each explores what its checks add.
EXAMPLES = int(
    os.environ.get("FUZZ_ROLE_EXAMPLES")
    or (25 if os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql") else 60)
)
NEVER_BY_AN_EDITOR = {CampaignStatus.SENDING, CampaignStatus.PAUSED, CampaignStatus.CANCELLED}


@dataclass(frozen=True)
class Grant:
    role: Role
    bots: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.role.value} of {', '.join(self.bots) or 'all bots'}"


@dataclass
class RoleConversation(Conversation):
    """A conversation whose every admin step is also checked against the admin's role."""

    grant: Grant = Grant(Role.VIEWER)
    bot_of: dict[int, int] | None = None

    def _check_admin(self, action: Action, before: Snapshot, after: Snapshot) -> None:
        super()._check_admin(action, before, after)
        where = f"as a {self.grant}, after {action!r}"
        if self.grant.role is Role.VIEWER:
            assert after.campaigns == before.campaigns, f"campaigns changed {where}"
            assert after.jobs == before.jobs, f"a job was queued {where}"
            assert after.segments == before.segments, f"segments changed {where}"
            assert after.audit_entries == before.audit_entries, f"the audit log grew {where}"
        elif self.grant.role is Role.EDITOR:
            assert after.jobs == before.jobs, f"a job was queued {where}"
            for campaign_id, row in after.campaigns.items():
                old = before.campaigns.get(campaign_id)
                if old is not None and row[0] is not old[0]:
                    assert row[0] not in NEVER_BY_AN_EDITOR, (
                        f"#{campaign_id} went {old[0]} → {row[0]} {where}"
                    )
        else:
            assert self.bot_of is not None
            shop = self.control.bots["shop"]
            assert after.campaigns.keys() <= before.campaigns.keys(), f"a campaign was composed {where}"
            for campaign_id, row in after.campaigns.items():
                if self.bot_of[campaign_id] != shop:
                    assert row == before.campaigns[campaign_id], (
                        f"news campaign #{campaign_id} changed {where}"
                    )
            for (function, args), _ in (after.jobs - before.jobs).items():
                if function != JOB_RECALL:  # its argument is the recall, not a campaign
                    assert self.bot_of[args[0]] == shop, f"{function}{args} queued {where}"


GRANTS = (Grant(Role.VIEWER), Grant(Role.EDITOR), Grant(Role.SENDER, ("shop",)))


@pytest.mark.parametrize("grant", GRANTS, ids=str)
@settings(FUZZ_SETTINGS, max_examples=EXAMPLES)
@given(data=st.data())
async def test_random_conversations_stay_within_the_role(
    fuzz_control: ControlBot, log_watch: LogWatch, grant: Grant, data: st.DataObject
) -> None:
    fuzz_control.sim.add_user(CONTROL_TOKEN, ROLE_ADMIN, first_name="Rolf")
    async with fuzz_control.sessionmaker.begin() as session:
        await add_admin(session, ROLE_ADMIN, display_name="Rolf")
        await set_role(session, ROLE_ADMIN, grant.role, bot_codenames=grant.bots or None)
    await reset(fuzz_control)
    log_watch.errors.clear()
    conversation = RoleConversation(
        fuzz_control,
        log_watch,
        first_message_id=fuzz_control.last_id(ROLE_ADMIN) + 1,
        admin_id=ROLE_ADMIN,
        grant=grant,
    )
    conversation.known_ids = sorted((await conversation.snapshot()).campaigns)
    conversation.bot_of = await _bots_of(fuzz_control)
    for _ in range(data.draw(st.integers(5, 15), label="steps")):
        if data.draw(st.integers(0, 9), label="actor") < 9:
            action, entities = data.draw(admin_step(conversation), label="admin")
            await conversation.step(Actor.ADMIN, ROLE_ADMIN, action, entities)
            conversation.bot_of = await _bots_of(fuzz_control)
        else:
            user = data.draw(st.sampled_from(STRANGERS), label="stranger")
            action, entities = data.draw(stranger_step(conversation.known_ids), label="stranger step")
            await conversation.step(Actor.STRANGER, user, action, entities)


async def _bots_of(control: ControlBot) -> dict[int, int]:
    async with control.sessionmaker() as session:
        rows: Any = await session.execute(select(Campaign.id, Campaign.bot_id))
        return {campaign_id: bot_id for campaign_id, bot_id in rows}
