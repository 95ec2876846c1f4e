"""People's Budget and meetings over HTTP against the sandbox's demo data: a resident votes from the menu and
gets a receipt that checks; another answers a meeting from a /start meeting_<id> link and gets its .ics."""

from __future__ import annotations

from tests.e2e.conftest import Live
from tests.e2e.test_journeys import register


async def press_when_shown(live: Live, user_id: int, label: str) -> None:
    """Buttons arrive by editing the pressed message: wait until one with ``label`` is there, then press it.
    Labels must be unique to the screen awaited (an older message may carry a similar button)."""

    def shown() -> bool:
        return any(label in b["text"] for m in live.sb.bot_messages(user_id)
                   for row in (m.get("reply_markup") or {}).get("inline_keyboard", []) for b in row)

    await live.sb.wait_until(shown, 20, f"a button {label!r}")
    await live.press(user_id, label)


async def test_a_resident_votes_in_the_demo_campaign_and_checks_the_receipt(live: Live) -> None:
    resident, sb = live.people.residents[0], live.sb
    await register(live, resident, "kk")
    await live.press(resident, "Халық бюджеті")
    await press_when_shown(live, resident, "Халық бюджеті (демо)")
    await live.expect(resident, "Бюджеті:")
    await press_when_shown(live, resident, "Бюллетень")
    await live.expect(resident, "1 / 3")
    await press_when_shown(live, resident, "Осыған дауыс беру")
    await press_when_shown(live, resident, "Иә, дауыс беремін")
    msg = await live.expect(resident, "Түбіртегіңіз")
    code = msg["html"].split("<code>", 1)[1].split("</code>", 1)[0]
    r = await live.app.services.residents.get(resident)
    [campaign] = await live.app.services.budget.campaigns_for(r.territory_kato, include_demo=True)
    [receipt] = await live.app.services.budget.my_votes(r.id, campaign.id)
    assert code.replace("-", "") == receipt.code
    await press_when_shown(live, resident, "Түбіртекті тексеру")
    await sb.send_text(resident, code.lower().replace("-", " "))
    await live.expect(resident, "есепке")


async def test_a_meeting_link_from_a_poster_takes_an_answer_and_gives_a_calendar_file(live: Live) -> None:
    resident, sb = live.people.residents[1], live.sb
    await register(live, resident, "ru")
    r = await live.app.services.residents.get(resident)
    [meeting] = await live.app.services.meetings.upcoming(r.territory_kato)
    await sb.send_text(resident, f"/start meeting_{meeting.id}")
    await live.expect(resident, "Повестка")
    await press_when_shown(live, resident, "Приду")
    await live.expect(resident, "Ваш ответ: ✅")
    assert await live.app.services.meetings.answer_of(meeting.id, r.id) is True
    await press_when_shown(live, resident, "Файл для календаря")
    await sb.wait_until(lambda: any(m.get("document") for m in sb.bot_messages(resident)), 10, "the .ics file")
