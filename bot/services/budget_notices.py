"""People's Budget by itself: phase notices as scheduled tasks, results published at their time, the admins
told of new proposals and the authors of the decisions. All of it goes through the outbox under unique keys,
so a task or an effect handled twice sends nothing twice.

No aiogram and no wording: each message is a notice (kind and parameters, see ``NOTICE_KINDS``) that
:class:`bot.flows.budget_notice_texts.BudgetTexts` words in the reader's language when it is sent.

Tasks of a campaign (``schedule_phases``), keys ``budget:<id>:<kind>``:

* ``proposals_open`` at proposals_from, ``voting_open`` at voting_from, ``voting_closing`` a day before
  voting_until (only when voting lasts longer than a day): the territory's residents who allow notifications
  hear it in their language. A task that runs late (the bot was down) still sends, unless its phase is over.
* ``results`` at results_at: the tally is published (actor: none, the system) if nobody did it yet, and
  every voter (their own vote: whatever their notification setting) and the territory's residents who allow
  notifications hear the results once (outbox keys ``budget:<id>:results:<resident_id>``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from bot.services.budget import (
    REVIEWABLE,
    BudgetService,
    ResultsAlreadyPublished,
    WrongPhase,
)
from bot.services.outbox import OutboxService, Outgoing, Priority
from bot.services.residents import ResidentService
from bot.services.roles import Role, RoleService
from bot.services.tasks import TaskService
from bot.services.territories import TerritoryService
from storage.models import BudgetCampaign, ScheduledTask

log = logging.getLogger("qatysu.budget")

PROPOSALS_OPEN, VOTING_OPEN, VOTING_CLOSING, RESULTS = "proposals_open", "voting_open", "voting_closing", "results"
PHASE_KINDS = (PROPOSALS_OPEN, VOTING_OPEN, VOTING_CLOSING, RESULTS)
CLOSING_BEFORE = timedelta(days=1)
TASK_PREFIX = "budget_"  # task kinds: budget_proposals_open, …
PROPOSAL_EFFECT, REVIEWED_EFFECT = "budget_proposal", "budget_reviewed"


# notice kinds (outbox rows) and their parameters
PHASE_NOTICE = "budget_phase"  # {"campaign_id", "phase"}: proposals_open, voting_open, voting_closing
RESULTS_NOTICE = "budget_results"  # {"campaign_id"}
PROPOSAL_NOTICE = "budget_proposal"  # {"project_id"}: to an admin, a proposal waiting for review
DECISION_NOTICE = "budget_decision"  # {"project_id"}: to the author, the admin's decision
NOTICE_KINDS = (PHASE_NOTICE, RESULTS_NOTICE, PROPOSAL_NOTICE, DECISION_NOTICE)


def phase_times(c: BudgetCampaign) -> dict[str, datetime]:
    times = {PROPOSALS_OPEN: c.proposals_from, VOTING_OPEN: c.voting_from}
    if c.voting_until - CLOSING_BEFORE > c.voting_from:
        times[VOTING_CLOSING] = c.voting_until - CLOSING_BEFORE
    times[RESULTS] = c.results_at
    return times


def task_key(campaign_id: int, kind: str) -> str:
    return f"budget:{campaign_id}:{kind}"


async def schedule_phases(tasks: TaskService, c: BudgetCampaign) -> int:
    """Schedule the campaign's phase tasks (idempotent). Returns how many were new."""
    new = 0
    for kind, at in phase_times(c).items():
        new += await tasks.schedule(task_key(c.id, kind), TASK_PREFIX + kind, at, ref_id=c.id)
    return new


class BudgetNotices:
    def __init__(self, budget: BudgetService, residents: ResidentService, roles: RoleService,
                 territories: TerritoryService, outbox: OutboxService, *,
                 wake: Callable[[], None] | None = None) -> None:
        self.budget, self.residents, self.roles, self.territories = budget, residents, roles, territories
        self.outbox, self.wake = outbox, wake

    def register(self, tasks: TaskService) -> None:
        for kind in PHASE_KINDS:
            tasks.register(TASK_PREFIX + kind, partial(self.on_task, kind))

    async def _send(self, items: list[Outgoing]) -> int:
        new = await self.outbox.enqueue(items)
        if new and self.wake is not None:
            self.wake()
        return new

    # -- phase tasks ----------------------------------------------------------------------------

    async def on_task(self, kind: str, task: ScheduledTask, now: datetime) -> str:
        c = await self.budget.get_campaign(task.ref_id) if task.ref_id is not None else None
        if c is None:
            return "skipped"
        if kind == RESULTS:
            return await self._results(c)
        over_at = c.proposals_until if kind == PROPOSALS_OPEN else c.voting_until
        if c.published_at is not None or now >= over_at:
            return "skipped"  # late, and the phase it announces is over
        recipients = await self.residents.audience(c.territory_kato)
        items = [Outgoing(f"budget:{c.id}:{kind}:{r.resident_id}", PHASE_NOTICE, {"campaign_id": c.id, "phase": kind},
                          resident_id=r.resident_id, priority=Priority.REMINDER) for r in recipients]
        await self._send(items)
        return "sent" if items else "nobody"

    async def _results(self, c: BudgetCampaign) -> str:
        if c.published_at is None:
            try:
                await self.budget.publish_results(c.id, None)  # type: ignore[arg-type] - the system
            except ResultsAlreadyPublished:
                pass
            except WrongPhase as exc:
                log.warning("results of campaign %s not published: phase %s", c.id, exc.phase)
                return "skipped"
            c = await self.budget.get_campaign(c.id) or c
        voters = await self.budget.voters(c.id)
        recipients: set[int] = set()
        if voters:
            recipients |= {r.resident_id for r in await self.residents.audience(None, resident_ids=voters,
                                                                                notifications_only=False)}
        recipients |= {r.resident_id for r in await self.residents.audience(c.territory_kato)}
        await self._send([Outgoing(f"budget:{c.id}:results:{rid}", RESULTS_NOTICE, {"campaign_id": c.id},
                                   resident_id=rid, priority=Priority.REMINDER) for rid in sorted(recipients)])
        return "published"

    # -- effects of the resident's and the admin's steps ----------------------------------------

    async def on_effect(self, name: str, ref: int) -> None:
        if name == PROPOSAL_EFFECT:
            await self.proposal_submitted(ref)
        elif name == REVIEWED_EFFECT:
            await self.reviewed(ref)

    async def admins(self) -> list[int]:
        return sorted({e.user_id for e in await self.roles.list() if e.role is Role.ADMIN})

    async def proposal_submitted(self, project_id: int) -> int:
        """Tell every admin, in their private chat, of a proposal waiting for review."""
        p = await self.budget.get_project(project_id)
        if p is None or p.status not in REVIEWABLE:
            return 0
        c = await self.budget.get_campaign(p.campaign_id)
        if c is None:
            return 0
        stamp = f"{p.status}:{int(p.submitted_at.timestamp() * 1_000_000)}"  # a resubmission is heard again
        return await self._send([Outgoing(f"budget:proposal:{p.id}:{stamp}:admin:{admin}", PROPOSAL_NOTICE,
                                          {"project_id": p.id}, chat_id=admin, priority=Priority.NOTICE)
                                 for admin in await self.admins()])

    async def reviewed(self, project_id: int) -> int:
        """Tell the author of the decision, in their language, with the reason."""
        p = await self.budget.get_project(project_id)
        if p is None or p.author_resident_id is None or p.reviewed_at is None:
            return 0
        author = await self.residents.get_by_id(p.author_resident_id)
        c = await self.budget.get_campaign(p.campaign_id)
        chat = None if author is None else await self.residents.chat_of(author.id)
        if author is None or chat is None or author.deleted_at is not None or c is None:
            return 0
        key = f"budget:proposal:{p.id}:{p.status}:{int(p.reviewed_at.timestamp() * 1_000_000)}"
        return await self._send([Outgoing(key, DECISION_NOTICE, {"project_id": p.id}, resident_id=author.id,
                                          priority=Priority.NOTICE)])
