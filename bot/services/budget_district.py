"""One phone, one vote across territories (People's Budget).

Two rules, so that a settlement changed for the purpose gives no second vote:

* **the settlement on record when voting opens decides**: a resident votes in a campaign when the settlement
  they had on record at the campaign's ``voting_from`` lies in its territory (``resident_territory`` keeps
  since when each settlement was set). A resident who chose no settlement before then counts with the first
  one they chose; a resident with no record at all (rows older than the history) with the current one;
* **one phone, one campaign at a time within a district**: of the campaigns below one district (or a city)
  whose voting periods overlap, a phone votes in one. ``district_vote`` holds, per district and
  district-scoped phone token, the campaign the phone voted in; its primary key makes two concurrent votes
  in two such campaigns collide, so one of them is refused. The row moves to a later campaign only when the
  two campaigns' voting periods do not overlap (a guarded UPDATE). Campaigns of a whole district or above are
  outside this rule: every settlement of the district votes there anyway.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import BudgetCampaign, DistrictVote, Resident, ResidentTerritory, Territory

DISTRICT_LEVELS = ("district", "city")


class LostRace(Exception):
    """A concurrent vote moved the district row first: the caller tries again."""


async def voting_territory(s: AsyncSession, r: Resident, campaign: BudgetCampaign) -> str | None:
    """The settlement that decides where the resident votes in ``campaign`` (see the module's first rule)."""
    rows = (await s.execute(select(ResidentTerritory.territory_kato, ResidentTerritory.since)
                            .where(ResidentTerritory.resident_id == r.id)
                            .order_by(ResidentTerritory.since, ResidentTerritory.id))).all()
    if not rows:
        return r.territory_kato
    before = [kato for kato, since in rows if since <= campaign.voting_from]
    return before[-1] if before else rows[0][0]


async def district_of(s: AsyncSession, kato: str) -> str | None:
    """The district a campaign of ``kato`` belongs to: the topmost territory above it (not itself) that is a
    district or a city. None for a campaign of a district, of a city of oblast significance, or above."""
    district, node = None, await s.get(Territory, kato)
    for _ in range(10):
        if node is None or node.parent_kato is None:
            break
        node = await s.get(Territory, node.parent_kato)
        if node is not None and node.level in DISTRICT_LEVELS:
            district = node.kato
    return district


def district_token(phone_token: str, district_kato: str) -> str:
    """The phone's token within one district, derived (HMAC-SHA256) from its keyed phone token, so that
    ``district_vote`` holds no value that matches a column of another table."""
    return hmac.new(phone_token.encode(), f"district:{district_kato}".encode(), hashlib.sha256).hexdigest()


def overlap(a: BudgetCampaign, b: BudgetCampaign) -> bool:
    return a.voting_from < b.voting_until and b.voting_from < a.voting_until


async def _row(s: AsyncSession, r: Resident, c: BudgetCampaign,
               lock: bool = False) -> tuple[str, str, DistrictVote | None] | None:
    district = await district_of(s, c.territory_kato)
    if district is None or not r.phone_hash:
        return None
    token = district_token(r.phone_hash, district)
    q = select(DistrictVote).where(DistrictVote.district_kato == district, DistrictVote.token == token)
    return district, token, await s.scalar(q.with_for_update() if lock else q)


async def voted_elsewhere(s: AsyncSession, r: Resident, c: BudgetCampaign) -> BudgetCampaign | None:
    """The other campaign of the district, with overlapping voting, this phone voted in (None: none)."""
    found = await _row(s, r, c)
    if found is None or found[2] is None or found[2].campaign_id == c.id:
        return None
    other = await s.get(BudgetCampaign, found[2].campaign_id)
    return other if other is not None and overlap(other, c) else None


async def claim_district(s: AsyncSession, r: Resident, c: BudgetCampaign, now: datetime) -> BudgetCampaign | None:
    """Within the vote's transaction: hold the phone's place in the district for ``c``. Returns the other
    campaign when the phone already voted in one whose voting overlaps (nothing is written then). A concurrent
    claim ends in IntegrityError (the insert) or LostRace (the guarded move): try again."""
    found = await _row(s, r, c, lock=True)
    if found is None:
        return None
    district, token, row = found
    if row is None:
        s.add(DistrictVote(district_kato=district, token=token, campaign_id=c.id, created_at=now))
        await s.flush()
        return None
    if row.campaign_id == c.id:
        return None
    other = await s.get(BudgetCampaign, row.campaign_id)
    if other is not None and overlap(other, c):
        return other
    moved = await s.execute(update(DistrictVote).where(
        DistrictVote.district_kato == district, DistrictVote.token == token,
        DistrictVote.campaign_id == row.campaign_id).values(campaign_id=c.id, created_at=now))
    if moved.rowcount != 1:
        raise LostRace
    return None


async def forget_district_votes(s: AsyncSession, now: datetime) -> int:
    """Erase the rows no vote can collide with any more: of a campaign whose voting is over and which no
    campaign still voting or to come overlaps. Returns how many were erased (for the erasure job of votes'
    phone tokens)."""
    mine = aliased(BudgetCampaign)
    later = aliased(BudgetCampaign)
    still = exists().where(later.voting_until > now, later.voting_from < mine.voting_until, later.id != mine.id)
    done = select(mine.id).where(mine.voting_until <= now, ~still)
    result = await s.execute(delete(DistrictVote).where(DistrictVote.campaign_id.in_(done)))
    return result.rowcount or 0
