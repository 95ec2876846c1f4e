"""People's Budget by itself: phase notices as scheduled tasks, results published at their time, the admins
told of new proposals and the authors of the decisions. All of it goes through the outbox under unique keys,
so a task or an effect handled twice sends nothing twice.

No aiogram and no wording: the texts come from an object with the :class:`NoticeTexts` methods (the bot
gives :class:`bot.flows.budget_notice_texts.BudgetTexts`).

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
from typing import Any, Protocol

from bot.services.budget import (
    REVIEWABLE,
    BudgetService,
    ResultsAlreadyPublished,
    WrongPhase,
)
from bot.services.media import MediaService
from bot.services.outbox import OutboxService, Outgoing, Priority
from bot.services.residents import Recipient, ResidentService
from bot.services.roles import Role, RoleService
from bot.services.tasks import TaskService
from bot.services.territories import TerritoryService
from storage.models import BudgetCampaign, BudgetProject, ScheduledTask, Territory

log = logging.getLogger("qatysu.budget")

PROPOSALS_OPEN, VOTING_OPEN, VOTING_CLOSING, RESULTS = "proposals_open", "voting_open", "voting_closing", "results"
PHASE_KINDS = (PROPOSALS_OPEN, VOTING_OPEN, VOTING_CLOSING, RESULTS)
CLOSING_BEFORE = timedelta(days=1)
TASK_PREFIX = "budget_"  # task kinds: budget_proposals_open, …
PROPOSAL_EFFECT, REVIEWED_EFFECT = "budget_proposal", "budget_reviewed"


class NoticeTexts(Protocol):
    """Outbox payloads ({"text", "buttons", "photo"}) in the reader's language."""

    def proposal(self, lang: str, p: BudgetProject, c: BudgetCampaign, place: Territory | None,
                 photo: str | None = None) -> dict[str, Any]: ...

    def decision(self, lang: str, p: BudgetProject, c: BudgetCampaign) -> dict[str, Any]: ...

    def phase(self, lang: str, kind: str, c: BudgetCampaign, place: Territory | None) -> dict[str, Any]: ...

    def results(self, lang: str, c: BudgetCampaign) -> dict[str, Any]: ...


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
                 territories: TerritoryService, outbox: OutboxService, texts: NoticeTexts, *,
                 default_language: str = "kk", wake: Callable[[], None] | None = None,
                 media: MediaService | None = None) -> None:
        self.budget, self.residents, self.roles, self.territories = budget, residents, roles, territories
        self.media = media
        self.outbox, self.texts, self.default_language, self.wake = outbox, texts, default_language, wake

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
        place = await self.territories.get(c.territory_kato)
        recipients = await self.residents.audience(c.territory_kato, default_language=self.default_language)
        payloads: dict[str, dict[str, Any]] = {}
        items = []
        for r in recipients:
            if r.language not in payloads:
                payloads[r.language] = self.texts.phase(r.language, kind, c, place)
            items.append(Outgoing(f"budget:{c.id}:{kind}:{r.resident_id}", r.chat_id, payloads[r.language],
                                  Priority.REMINDER, resident_id=r.resident_id))
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
        recipients: dict[int, Recipient] = {}
        if voters:
            for r in await self.residents.audience(None, resident_ids=voters, notifications_only=False,
                                                   default_language=self.default_language):
                recipients[r.resident_id] = r
        for r in await self.residents.audience(c.territory_kato, default_language=self.default_language):
            recipients.setdefault(r.resident_id, r)
        payloads: dict[str, dict[str, Any]] = {}
        items = []
        for rid, r in sorted(recipients.items()):
            if r.language not in payloads:
                payloads[r.language] = self.texts.results(r.language, c)
            items.append(Outgoing(f"budget:{c.id}:results:{rid}", r.chat_id, payloads[r.language],
                                  Priority.REMINDER, resident_id=rid))
        await self._send(items)
        return "published"

    # -- effects of the resident's and the admin's steps ----------------------------------------

    async def on_effect(self, name: str, ref: int) -> None:
        if name == PROPOSAL_EFFECT:
            await self.proposal_submitted(ref)
        elif name == REVIEWED_EFFECT:
            await self.reviewed(ref)

    async def _language_of(self, user_id: int) -> str:
        r = await self.residents.get(user_id)
        return r.language if r is not None and r.language else self.default_language

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
        place = await self.territories.get(p.territory_kato or c.territory_kato)
        stamp = f"{p.status}:{int(p.submitted_at.timestamp() * 1_000_000)}"  # a resubmission is heard again
        items = []
        # the outbox sends on Telegram: the photo goes by its Telegram file id
        photo = None if self.media is None else await self.media.file_id(p.photo_media_id, "telegram")
        for admin in await self.admins():
            payload = self.texts.proposal(await self._language_of(admin), p, c, place, photo)
            items.append(Outgoing(f"budget:proposal:{p.id}:{stamp}:admin:{admin}", admin, payload, Priority.NOTICE))
        return await self._send(items)

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
        lang = author.language or self.default_language
        key = f"budget:proposal:{p.id}:{p.status}:{int(p.reviewed_at.timestamp() * 1_000_000)}"
        return await self._send([Outgoing(key, chat, self.texts.decision(lang, p, c), Priority.NOTICE,
                                          resident_id=author.id)])
