"""'My data': what is kept about the resident and everything linked to them, bounded (the newest of each kind,
the rest counted), in the reader's language."""

from __future__ import annotations

from bot.flows import appeal_labels, budget_common, meeting_texts
from bot.flows.base import Ctx, esc
from bot.services.privacy import Section


def kept_appeals(ctx: Ctx) -> str:
    """How long appeals are kept after deletion (the README's "Personal data" table), in words."""
    years = ctx.settings.privacy.appeal_retention_years
    return ctx.tr.ngettext("The akimat keeps appeals for {n} year after they are closed, then deletes them.",
                           "The akimat keeps appeals for {n} years after they are closed, then deletes them.", years)


def vote_code(ctx: Ctx) -> str:
    """What a vote keeps of the phone, and for how long."""
    days = ctx.settings.privacy.vote_token_retention_days
    return ctx.tr.ngettext(
        "A vote keeps only a code made from your phone number with the akimat's secret key, which is stored apart "
        "from the data: without that key the number cannot be found from it. The code stops a second vote from the "
        "same phone and is erased {n} day after the results are published.",
        "A vote keeps only a code made from your phone number with the akimat's secret key, which is stored apart "
        "from the data: without that key the number cannot be found from it. The code stops a second vote from the "
        "same phone and is erased {n} days after the results are published.", days)


def _section(ctx: Ctx, title: str, section: Section, line) -> list[str]:  # noqa: ANN001 - a row → text callable
    if not section.total:
        return []
    out = ["", f"<b>{title}</b> {section.total}"]
    out += ["• " + line(row) for row in section.items]
    if section.total > len(section.items):
        out.append(ctx.tr._("…and {n} more", n=section.total - len(section.items)))
    return out


async def my_data_text(ctx: Ctx) -> str:
    tr = ctx.tr
    d = await ctx.services.residents.my_data(ctx.event.user_id, ctx.event.channel)
    if d is None:
        return tr._("We keep no data about you.")
    place = "—"
    if d.territory_kato:
        path = await ctx.services.territories.path(d.territory_kato)
        place = esc(" › ".join(t.name(ctx.lang) for t in path)) + f" ({d.territory_kato})"
    head = tr._(
        "<b>What we keep about you</b>\n\n"
        "Account ID: {user_id}\nLanguage: {language}\nSettlement: {place}\nName: {name}\nPhone: {phone}\n"
        "Consent: version {version}, {consent_at}\nNotifications: {notif}\nRegistered: {registered}",
        user_id=d.user_id, language=tr._("Kazakh") if d.language == "kk" else tr._("Russian"), place=place,
        name=esc(d.name) or "—", phone=esc(d.phone) or "—", version=esc(d.consent_version) or "—",
        consent_at=tr.datetime(d.consent_at) if d.consent_at else "—",
        notif=tr._("on") if d.notifications else tr._("off"),
        registered=tr.datetime(d.registered_at) if d.registered_at else "—")
    linked = await ctx.services.residents.linked(d.resident_id)
    lang = ctx.lang
    lines = [head]
    lines += _section(ctx, tr._("Appeals:"), linked.appeals, lambda r: tr._(
        "{number}, {date}: {status}", number=esc(r[0]), date=tr.date(r[2]),
        status=appeal_labels.status_name(tr, r[1])))
    lines += _section(ctx, tr._("Votes:"), linked.votes, lambda r: tr._(
        "{campaign}: {project}; receipt {receipt}", campaign=esc(r[1] if lang == "ru" else r[0], 50),
        project=esc(r[2], 50), receipt=f"<code>{esc(r[3])}</code>"))
    lines += _section(ctx, tr._("Questions:"), linked.questions, lambda r: f"{tr.date(r[1])}: {esc(r[0], 60)}")
    lines += _section(ctx, tr._("Meetings:"), linked.rsvps, lambda r: tr._(
        "{meeting}, {when}: {answer}", meeting=meeting_texts.kind_name(tr, r[0]), when=tr.datetime(r[1]),
        answer=tr._("✅ I'll come") if r[2] else tr._("🚫 I won't come")))
    lines += _section(ctx, tr._("Proposals:"), linked.proposals, lambda r: tr._(
        "{title} ({status}), {campaign}", title=esc(r[0], 50), status=budget_common.status_name(ctx, r[1]),
        campaign=esc(r[3] if lang == "ru" else r[2], 50)))
    return "\n".join(lines)
