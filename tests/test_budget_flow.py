"""The resident's side of the People's Budget through the real dispatcher, in Kazakh and in Russian.

The app's BudgetService reads the real clock, so campaigns get phase times around now; moving a campaign to
its next phase rewrites its times in the database, as time passing would."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from bot.app import App
from bot.charts import budget_chart
from bot.flows.budget_propose import parse_tenge
from bot.services.budget import Decision
from storage.models import Account, BudgetCampaign, BudgetProject, Resident, Vote
from tests.conftest import ADMIN
from tests.support.telegram import Person, Telegram
from tests.test_registration import KK, RU, register

AZAT_OKRUG, KOKTAL, KARAOZEK_OKRUG = "114030000", "114033200", "114040000"
M = 1_000_000
PHOTO = {"photo": [{"file_id": "proposal-photo-1", "file_unique_id": "pp1", "width": 90, "height": 90}]}
RECEIPT = re.compile(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}")
W = {  # what the resident reads and presses, per language
    "kk": {"menu": "Халық бюджеті", "propose": "Жоба ұсыну", "keep": "Өзгертпеу", "skip_photo": "Өткізіп жіберу",
           "my_proposals": "Менің ұсыныстарым", "ballot": "Бюллетень", "vote": "Осыған дауыс беру",
           "yes": "Иә, дауыс беремін", "check": "Түбіртекті тексеру", "my_votes": "Менің дауыстарым",
           "change": "Ауыстыру:", "move": "Дауысымды осында ауыстыру", "yes_move": "Иә, ауыстырамын",
           "results": "Нәтижелер", "phase_proposals": "ұсыныстар жиналып жатыр",
           "phase_voting": "дауыс беру жүріп жатыр",
           "check_proposal": "Ұсынысыңызды тексеріңіз", "sent": "қарауға жіберілді",
           "returned": "пысықтауға қайтарылды",
           "accepted": "дауыс беруге қабылданды", "fixed": "қайта жіберілді", "bad_sum": "Соманы түсіне алмадым",
           "too_much": "бүкіл бюджетінен", "irrevocable": "дауысыңызды өзгерту мүмкін емес",
           "counted": "дауысыңыз есепке алынды", "valid": "есепке алынған дауыс", "invalid": "кодымен дауыс жоқ",
           "winners": "Жеңімпаздар", "below": "шекке жетпеді", "digest": "Бақылау қосындысы",
           "chart": "Жобалар бойынша дауыстар", "phone": "мессенджер растаған телефон", "saved": "нөмір сақталды",
           "not_here": "тұрғындарына арналған", "not_ballot": "бюллетеньде жоқ", "not_valid": "батырма енді жарамсыз",
           "already": "дауыс беріп қойғансыз", "used_all": "барлық дауысыңызды беріп қойдыңыз",
           "not_open": "Дауыс беру әлі басталған жоқ", "over": "Дауыс беру аяқталды",
           "no_proposals": "қабылдау мерзімі аяқталды", "no_change": "дауысты өзгертуге болмайды",
           "may_change": "дейін өзгертуге болады", "left": "Қалған дауыс: 1 / 2", "no_link": "ешбір науқанға",
           "none": "науқаны жоқ", "not_published": "әлі жарияланған жоқ", "threshold": "кемінде 10 адам",
           "tie": "ертерек ұсынылғаны", "one_vote": "1 дауысы бар", "title": "Азат бюджеті"},
    "ru": {"menu": "Народный бюджет", "propose": "Предложить проект", "keep": "Оставить как есть",
           "skip_photo": "Пропустить", "my_proposals": "Мои предложения", "ballot": "Бюллетень",
           "vote": "Голосовать за этот", "yes": "Да, голосую", "check": "Проверить квитанцию", "my_votes": "Мои голоса",
           "change": "Изменить:", "move": "Перенести мой голос сюда", "yes_move": "Да, перенести голос",
           "results": "Итоги", "phase_proposals": "приём предложений", "phase_voting": "идёт голосование",
           "check_proposal": "Проверьте предложение", "sent": "отправлено в акимат на рассмотрение",
           "returned": "возвращено на доработку", "accepted": "допущено к голосованию", "fixed": "отправлено повторно",
           "bad_sum": "Не получилось разобрать сумму", "too_much": "больше всего бюджета",
           "irrevocable": "изменить голос будет нельзя", "counted": "учтён", "valid": "учтённый голос",
           "invalid": "Голоса с кодом", "winners": "Победители", "below": "ниже порога", "digest": "Контрольная сумма",
           "chart": "Голоса по проектам", "phone": "подтверждённый мессенджером", "saved": "номер сохранён",
           "not_here": "для жителей территории", "not_ballot": "нет в бюллетене", "not_valid": "больше не действует",
           "already": "уже голосовали", "used_all": "отдали все свои голоса", "not_open": "Голосование ещё не началось",
           "over": "Голосование завершено", "no_proposals": "принимались до", "no_change": "голос изменить нельзя",
           "may_change": "Изменить голос можно до", "left": "Осталось голосов: 1 из 2",
           "no_link": "ни к одной кампании",
           "none": "пока нет кампаний", "not_published": "ещё не опубликованы", "threshold": "не менее 10 человек",
           "tie": "предложен раньше", "one_vote": "У каждого жителя 1 голос", "title": "Бюджет Азата"},
}
WORDS = {"kk": KK, "ru": RU}
LANGS = ["kk", "ru"]


def times(phase: str) -> dict[str, datetime]:
    """Phase times that put a campaign in ``phase`` now."""
    now, d = datetime.now(UTC), timedelta(days=1)
    start = {"draft": now + d, "proposals": now - d, "review": now - 3 * d, "voting": now - 5 * d,
             "closed": now - 8 * d}[phase]
    return {"proposals_from": start, "proposals_until": start + 2 * d, "review_until": start + 4 * d,
            "voting_from": start + 4 * d, "voting_until": start + 6 * d, "results_at": start + 10 * d}


async def campaign(app: App, phase: str, *, territory: str = AZAT_OKRUG, **kw) -> BudgetCampaign:
    return await app.services.budget.create_campaign(territory, "Азат бюджеті", "Бюджет Азата", 10 * M,
                                                     created_by=ADMIN, **{**times(phase), **kw})


async def move_to(app: App, campaign_id: int, phase: str) -> None:
    async with app.sessions() as s, s.begin():
        await s.execute(update(BudgetCampaign).where(BudgetCampaign.id == campaign_id).values(**times(phase)))


async def ballot_of(app: App, c: BudgetCampaign, *titles: str, photo: str | None = None) -> list[int]:
    """Projects prepared by the akimat, straight on the ballot (the campaign moves to voting after)."""
    rows = [{"title": t, "cost_tenge": (i + 1) * M, "description": f"{t}: сипаттамасы / описание",
             "photo_file_id": photo} for i, t in enumerate(titles)]
    return [p.id for p in await app.services.budget.import_projects(c.id, rows, ADMIN)]


async def voters(app: App, n: int, first_uid: int, kato: str = KOKTAL) -> list[int]:
    """Registered residents with distinct verified phones, written directly."""
    now = datetime.now(UTC)
    ids = []
    async with app.sessions() as s, s.begin():
        for uid in range(first_uid, first_uid + n):
            r = Resident(language="kk", territory_kato=kato,
                         phone_hash=hashlib.sha256(f"voter-{uid}".encode()).hexdigest(), phone_verified_at=now,
                         consent_version="v1", consent_at=now, registered_at=now, created_at=now)
            s.add(r)
            await s.flush()
            s.add(Account(channel="telegram", account_id=uid, chat_id=uid, resident_id=r.id, created_at=now))
            ids.append(r.id)
    return ids


async def vote_count(app: App) -> int:
    async with app.sessions() as s:
        return await s.scalar(select(func.count()).select_from(Vote)) or 0


async def resident_id(app: App, who: Person) -> int:
    return (await app.services.residents.get(who.id)).id


async def press_old(tg: Telegram, who: Person, data: str) -> list:
    """Press ``data`` as a button of an older message (the main menu is sent first, so every press is answered
    on a message of its own and the same refusal twice is still seen)."""
    await tg.text(who, "/menu")
    return await tg.press(who, data)


def record_effects(app: App) -> list[tuple[str, int]]:
    seen: list[tuple[str, int]] = []

    async def sink(name: str, ref: int) -> None:
        seen.append((name, ref))

    app.effects.register("budget_proposal", sink)
    return seen


# -- the whole cycle ----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
async def test_resident_cycle_propose_vote_receipt_results(app: App, tg: Telegram, lang: str) -> None:
    w, who = W[lang], Person(3101, lang)
    effects = record_effects(app)
    await register(tg, who, WORDS[lang])
    c = await campaign(app, "proposals")
    sent = await tg.click(who, w["menu"])
    assert w["title"] in sent[-1].text or any(w["title"] in b["text"] for b in sent[-1].buttons)
    sent = await tg.click(who, w["title"])
    card = sent[-1].text
    assert w["phase_proposals"] in card and app.i18n(lang).tenge(10 * M) in card
    assert w["threshold"] in card and w["tie"] in card and w["one_vote"] in card
    assert app.i18n(lang).datetime(c.voting_from) in card  # the dates in local time

    await tg.click(who, w["propose"])
    await tg.text(who, "Балалар алаңы Абай көшесінде")
    await tg.text(who, "Көктал ауылында балалар ойнайтын орын жоқ, алаң салу керек / нужна площадка.")
    sent = await tg.text(who, "өте көп")
    assert w["bad_sum"] in sent[-1].text
    sent = await tg.text(who, "20 000 000")
    assert w["too_much"] in sent[-1].text
    sent = await tg.text(who, "1 500 000 ₸")
    assert any(b.get("request_location") for b in sent[-1].reply_buttons)
    sent = await tg.send(who, location={"latitude": 51.99, "longitude": 70.94})
    assert sent[0].markup == {"remove_keyboard": True}
    sent = await tg.send(who, **PHOTO)
    preview = sent[-1]
    assert preview.kind == "sendPhoto" and w["check_proposal"] in preview.text
    assert app.i18n(lang).tenge(1_500_000) in preview.text
    sent = await tg.click(who, "📨")
    assert w["sent"] in sent[0].text
    [p] = await app.services.budget.my_proposals(await resident_id(app, who))
    assert (p.cost_tenge, p.latitude, p.status) == (1_500_000, 51.99, "proposed")
    assert await app.services.media.file_id(p.photo_media_id, "telegram") == "proposal-photo-1"
    assert effects == [("budget_proposal", p.id)]

    # the akimat returns it for changes; the resident sees the reason, changes the cost and sends it again
    await app.services.budget.review(p.id, Decision.RETURN, "Бағасын нақтылаңыз / Уточните стоимость", ADMIN)
    sent = await tg.click(who, w["my_proposals"])
    assert w["returned"] in sent[-1].text and "Уточните стоимость" in sent[-1].text
    sent = await tg.click(who, "✏️")
    assert "Уточните стоимость" in sent[0].text
    await tg.click(who, w["keep"])  # title
    await tg.click(who, w["keep"])  # description
    await tg.text(who, "1200000")
    sent = await tg.text(who, w["keep"] + " »")  # the location stays (a reply keyboard button)
    assert sent[0].markup == {"remove_keyboard": True}
    assert w["keep"] in str(sent[-1].buttons)  # the photo may stay too, but this time it goes
    sent = await tg.click(who, w["skip_photo"])
    assert sent[-1].kind == "sendMessage" and "1 200 000" in sent[-1].text.replace("\u00a0", " ")
    await tg.click(who, "📨")
    p = await app.services.budget.get_project(p.id)
    assert (p.status, p.cost_tenge, p.latitude, p.photo_media_id, p.title) == (
        "resubmitted", 1_200_000, 51.99, None, "Балалар алаңы Абай көшесінде")
    assert effects == [("budget_proposal", p.id)] * 2
    await app.services.budget.review(p.id, Decision.ACCEPT, None, ADMIN)
    sent = await tg.click(who, w["my_proposals"])
    assert w["accepted"] in sent[-1].text
    [other] = await ballot_of(app, c, "Көше шамдары", photo="lamp-photo")

    # voting
    await move_to(app, c.id, "voting")
    await tg.text(who, "/menu")
    await tg.click(who, w["menu"])
    sent = await tg.click(who, w["title"])
    assert w["phase_voting"] in sent[-1].text
    sent = await tg.click(who, w["ballot"])
    assert sent[-1].kind == "sendMessage" and "Балалар алаңы" in sent[-1].text and "1 / 2" in sent[-1].text
    sent = await tg.click(who, "▶")
    assert sent[-1].kind == "sendPhoto" and "Көше шамдары" in sent[-1].text and "2 / 2" in sent[-1].text
    sent = await tg.click(who, "◀")
    sent = await tg.click(who, w["vote"])
    assert "Балалар алаңы" in sent[-1].text and w["irrevocable"] in sent[-1].text
    sent = await tg.click(who, w["yes"])
    assert w["counted"] in sent[-1].text
    code = RECEIPT.search(sent[-1].text).group(0)
    assert w["check"] in sent[-1].text  # the code can be checked in the bot
    [vote] = await app.services.budget.my_votes(await resident_id(app, who), c.id)
    assert vote.project_id == p.id and code.replace("-", "") == vote.code

    # anyone checks the receipt: any case, with or without dashes
    sent = await tg.click(who, w["check"])
    sent = await tg.text(who, code.lower().replace("-", " "))
    assert w["valid"] in sent[-1].text and w["title"] in sent[-1].text
    assert "Балалар алаңы" not in sent[-1].text  # the project stays the voter's: "my votes" shows it
    sent = await tg.text(who, "2222-2222-2222")
    assert w["invalid"] in sent[-1].text

    # ten more people vote for the lamps; voting closes; the akimat publishes the results
    for rid in await voters(app, 10, 3200):
        await app.services.budget.cast_vote(rid, c.id, other)
    await move_to(app, c.id, "closed")
    await app.services.budget.publish_results(c.id, ADMIN)
    sent = await tg.press(who, f"bd:res:{c.id}")
    text = sent[0].text
    assert w["winners"] in text and "Көше шамдары" in text and w["below"] in text and w["digest"] in text
    published = await app.services.budget.get_campaign(c.id)
    assert published.results_digest in text
    assert sent[-1].kind == "sendPhoto" and w["chart"] in sent[-1].text
    photo_call = [call for call in tg.session.calls if call.method == "sendPhoto"][-1]
    assert photo_call.params["chat_id"] == who.id


async def test_results_button_works_from_a_notice_in_another_flow(app: App, tg: Telegram) -> None:
    who = Person(3102, "kk")
    await register(tg, who, KK)
    c = await campaign(app, "voting")
    sent = await tg.press(who, f"bd:res:{c.id}")
    assert W["kk"]["not_published"] in sent[-1].text
    await tg.text(who, "/settings")  # in the middle of settings, a results notice arrives
    await move_to(app, c.id, "closed")
    await app.services.budget.publish_results(c.id, ADMIN)
    sent = await tg.press(who, f"bd:res:{c.id}")
    assert "Жеңген жоба жоқ" in sent[0].text and W["kk"]["digest"] in sent[0].text
    # but not in the middle of an appeal draft
    await tg.text(who, "/menu")
    await tg.click(who, "Өтініш жазу")
    sent = await tg.press(who, f"bd:res:{c.id}")
    assert W["kk"]["digest"] not in sent[0].text


# -- eligibility --------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
async def test_no_phone_is_asked_for_then_the_ballot_opens(app: App, tg: Telegram, lang: str) -> None:
    w, who = W[lang], Person(3111, lang)
    await register(tg, who, WORDS[lang], share_phone=False)
    c = await campaign(app, "proposals")
    await ballot_of(app, c, "Спорт алаңы")
    await move_to(app, c.id, "voting")
    sent = await tg.press(who, f"bd:b:{c.id}:0")
    assert w["phone"] in sent[-1].text and any(b.get("request_contact") for b in sent[-1].reply_buttons)
    sent = await tg.contact(who, "+7 701 123 45 67", owner_id=who.id)
    assert w["saved"] in sent[0].text.lower() and sent[0].markup == {"remove_keyboard": True}
    assert "Спорт алаңы" in sent[-1].text and w["vote"] in str(sent[-1].buttons)


@pytest.mark.parametrize("lang", LANGS)
async def test_campaign_of_another_territory_is_refused(app: App, tg: Telegram, lang: str) -> None:
    w, who = W[lang], Person(3112, lang)
    await register(tg, who, WORDS[lang])
    other = await campaign(app, "proposals", territory=KARAOZEK_OKRUG)
    [pid] = await ballot_of(app, other, "Қараөзек саябағы")
    await move_to(app, other.id, "voting")
    sent = await tg.click(who, w["menu"])
    assert w["none"] in sent[-1].text  # the campaign of another okrug is not listed
    for data in (f"bd:c:{other.id}", f"bd:b:{other.id}:0", f"bd:v:{pid}", f"bd:y:{pid}", f"bd:p:{other.id}"):
        sent = await press_old(tg, who, data)
        assert w["not_here"] in sent[0].text, data
    sent = await tg.text(who, f"/start vote_{other.id}")
    assert w["not_here"] in sent[0].text
    assert await vote_count(app) == 0


# -- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
async def test_forged_and_stale_callbacks_are_refused_politely(app: App, tg: Telegram, lang: str) -> None:
    w, who = W[lang], Person(3121, lang)
    await register(tg, who, WORDS[lang])
    c = await campaign(app, "proposals")
    [on_ballot] = await ballot_of(app, c, "Орындықтар")
    [pending] = await app.services.budget.import_projects(c.id, [{"title": "Қоқыс жәшіктері", "cost_tenge": M}],
                                                          ADMIN, accepted=False)
    second = await campaign(app, "proposals")
    [elsewhere] = await ballot_of(app, second, "Басқа жоба")
    await move_to(app, c.id, "voting")
    await move_to(app, second.id, "voting")
    for data in ("bd:v:999999", "bd:v:abc", "bd:y:999999", f"bd:y:{pending.id}", f"bd:v:{pending.id}",
                 "bd:yc:1:abc", f"bd:yc:{elsewhere}:{on_ballot}", f"bd:cv:{c.id}:{on_ballot}",
                 "bd:b:999999:0", "bd:b:x:0", "bd:c:999999", "bd:e:999999", "bd:mp:999999", "bd:", "bd:v:" + "9" * 40):
        sent = await press_old(tg, who, data)
        assert sent and sent[0].text.strip(), data
        assert "Traceback" not in sent[0].text
    assert await vote_count(app) == 0
    sent = await tg.press(who, "bd:v:abc")
    assert w["not_valid"] in sent[0].text
    sent = await tg.press(who, f"bd:y:{pending.id}")
    assert w["not_ballot"] in sent[0].text
    # a confirmation pressed again: one vote only
    sent = await tg.press(who, f"bd:y:{on_ballot}")
    assert w["counted"] in sent[-1].text
    sent = await press_old(tg, who, f"bd:y:{on_ballot}")
    assert w["already"] in sent[0].text
    sent = await press_old(tg, who, f"bd:v:{on_ballot}")
    assert w["already"] in sent[0].text
    assert await vote_count(app) == 1


@pytest.mark.parametrize("lang", LANGS)
async def test_voting_and_proposing_outside_their_phase(app: App, tg: Telegram, lang: str) -> None:
    w, who = W[lang], Person(3131, lang)
    await register(tg, who, WORDS[lang])
    c = await campaign(app, "proposals")
    [pid] = await ballot_of(app, c, "Жарық")
    for data in (f"bd:b:{c.id}:0", f"bd:v:{pid}", f"bd:y:{pid}"):
        sent = await press_old(tg, who, data)
        assert w["not_open"] in sent[0].text, data
    await move_to(app, c.id, "voting")
    sent = await tg.press(who, f"bd:p:{c.id}")
    assert w["no_proposals"] in sent[0].text
    await move_to(app, c.id, "closed")
    for data in (f"bd:b:{c.id}:0", f"bd:y:{pid}"):
        sent = await press_old(tg, who, data)
        assert w["over"] in sent[0].text, data
    assert await vote_count(app) == 0
    draft = await campaign(app, "draft")
    sent = await tg.press(who, f"bd:c:{draft.id}")
    assert w["propose"] not in str(sent[0].buttons) and w["ballot"] not in str(sent[0].buttons)


@pytest.mark.parametrize("lang", LANGS)
async def test_vote_change_where_allowed(app: App, tg: Telegram, lang: str) -> None:
    w, who = W[lang], Person(3141, lang)
    await register(tg, who, WORDS[lang])
    c = await campaign(app, "proposals", vote_change_allowed=True)
    first, second = await ballot_of(app, c, "Бірінші жоба", "Екінші жоба")
    await move_to(app, c.id, "voting")
    await tg.press(who, f"bd:b:{c.id}:0")
    sent = await tg.click(who, w["vote"])
    assert w["may_change"] in sent[-1].text
    sent = await tg.click(who, w["yes"])
    old_code = RECEIPT.search(sent[-1].text).group(0)
    sent = await tg.click(who, w["my_votes"])
    assert old_code in sent[-1].text and "Бірінші жоба" in sent[-1].text
    await tg.click(who, w["change"])
    sent = await tg.click(who, "▶")
    sent = await tg.click(who, w["move"])
    assert "Бірінші жоба" in sent[-1].text and "Екінші жоба" in sent[-1].text
    sent = await tg.click(who, w["yes_move"])
    new_code = RECEIPT.search(sent[-1].text).group(0)
    assert new_code != old_code
    [vote] = await app.services.budget.my_votes(await resident_id(app, who), c.id)
    assert vote.project_id == second
    await tg.click(who, w["check"])
    sent = await tg.text(who, old_code)
    assert w["invalid"] in sent[-1].text
    sent = await tg.text(who, new_code)
    assert w["valid"] in sent[-1].text and "Екінші жоба" not in sent[-1].text  # the project is the voter's to see
    # moving back onto a project one already votes for, or from one without a vote, is refused
    sent = await tg.press(who, f"bd:yc:{first}:{second}")
    assert w["already"] in sent[0].text
    assert first != second


@pytest.mark.parametrize("lang", LANGS)
async def test_vote_change_where_not_allowed_and_votes_left(app: App, tg: Telegram, lang: str) -> None:
    w, who = W[lang], Person(3151, lang)
    await register(tg, who, WORDS[lang])
    c = await campaign(app, "proposals")
    first, second = await ballot_of(app, c, "Бірінші жоба", "Екінші жоба")
    await move_to(app, c.id, "voting")
    await tg.press(who, f"bd:v:{first}")
    await tg.click(who, w["yes"])
    sent = await tg.click(who, w["my_votes"])
    assert w["change"] not in str(sent[-1].buttons) and w["no_change"] in sent[-1].text
    sent = await tg.press(who, f"bd:b:{c.id}:1")
    assert w["vote"] not in str(sent[-1].buttons)
    sent = await tg.press(who, f"bd:v:{second}")
    assert w["used_all"] in sent[0].text
    sent = await press_old(tg, who, f"bd:y:{second}")
    assert w["used_all"] in sent[0].text
    for data in (f"bd:yc:{first}:{second}", f"bd:cv:{c.id}:{first}"):
        sent = await press_old(tg, who, data)
        assert w["no_change"] in sent[0].text, data
    [vote] = await app.services.budget.my_votes(await resident_id(app, who), c.id)
    assert vote.project_id == first

    # two votes per resident: the votes left are shown (a campaign of the whole district: the first campaign's
    # voting overlaps it, and a phone votes in one of the overlapping campaigns of the okrugs of a district)
    two = await campaign(app, "proposals", votes_per_resident=2, territory="114000000")
    a, _ = await ballot_of(app, two, "А жобасы", "Б жобасы")
    await move_to(app, two.id, "voting")
    await tg.press(who, f"bd:v:{a}")
    sent = await tg.click(who, w["yes"])
    assert w["left"] in sent[-1].text


# -- deep links ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
async def test_deep_link_opens_the_ballot_or_says_why_not(app: App, tg: Telegram, lang: str) -> None:
    w, who = W[lang], Person(3161, lang)
    await register(tg, who, WORDS[lang])
    c = await campaign(app, "proposals")
    await ballot_of(app, c, "Саябақ")
    sent = await tg.text(who, f"/start vote_{c.id}")
    assert w["not_open"] in sent[0].text
    await move_to(app, c.id, "voting")
    sent = await tg.text(who, f"/start vote_{c.id}")
    assert "Саябақ" in sent[-1].text and "1 / 1" in sent[-1].text
    sent = await tg.text(who, "/start vote_999999")
    assert w["no_link"] in sent[0].text


async def test_deep_link_kept_through_registration_lands_on_the_ballot(app: App, tg: Telegram) -> None:
    c = await campaign(app, "proposals")
    await ballot_of(app, c, "Саябақ")
    await move_to(app, c.id, "voting")
    who = Person(3162, "ru")
    await tg.text(who, f"/start vote_{c.id}")
    await tg.click(who, "Русский")
    await tg.click(who, "Даю согласие")
    await tg.text(who, "Коктал")
    await tg.click(who, "Коктал")
    sent = await tg.contact(who, "+7 701 123 45 67", owner_id=who.id)
    assert "Саябақ" in sent[-1].text and W["ru"]["vote"] in str(sent[-1].buttons)


# -- pieces -------------------------------------------------------------------------------------


@pytest.mark.parametrize("text,expected", [
    ("1 500 000", 1_500_000), ("1500000 ₸", 1_500_000), ("1\u00a0500\u00a0000 тг", 1_500_000),
    ("1.500.000", 1_500_000), ("2,000,000 тенге", 2_000_000), ("750000теңге", 750_000),
    ("көп", None), ("1,5 млн", None), ("-100", None), ("12.5", None), ("", None), ("1 500 000 $", None),
])
def test_parse_tenge(text: str, expected: int | None) -> None:
    assert parse_tenge(text) == expected


def test_results_chart_is_a_png() -> None:
    rows = [{"title": "Көше шамдары 💡", "votes": 12, "winner": True},
            {"title": "Балалар алаңы", "votes": 3, "winner": False}]
    png = budget_chart(rows, 10, {"title": "Азат", "votes": "дауыс", "winner": "жеңімпаз",
                                  "not_chosen": "өтпеді", "threshold": "шек: 10 адам"})
    assert png.startswith(b"\x89PNG") and len(png) > 5000


async def test_my_proposals_and_votes_are_only_ones_own(app: App, tg: Telegram) -> None:
    who = Person(3171, "kk")
    await register(tg, who, KK)
    c = await campaign(app, "proposals")
    [rid] = await voters(app, 1, 3300)
    p = await app.services.budget.submit_proposal(rid, c.id, "Басқаның жобасы", M, description="Бөтен ұсыныс")
    await app.services.budget.review(p.id, Decision.RETURN, "себеп", ADMIN)
    sent = await tg.press(who, f"bd:e:{p.id}")
    assert "Бұл сіздің ұсынысыңыз емес" in sent[0].text
    sent = await tg.press(who, f"bd:mp:{c.id}")
    assert "Басқаның жобасы" not in sent[0].text
    async with app.sessions() as s:
        assert (await s.get(BudgetProject, p.id)).status == "returned"


@pytest.mark.parametrize("lang", LANGS)
async def test_proposal_draft_answers_wrong_input_and_keeps_the_draft(app: App, tg: Telegram, lang: str) -> None:
    w, who = W[lang], Person(3181, lang)
    hints = {"kk": ("Атауы 5-тен 120 таңбаға дейін", "Мұны бұл жерде қабылдай алмаймын",
                    "Бұл батырма алдыңғы қадамнан"),
             "ru": ("Название должно быть от 5 до 120", "Здесь это не подойдёт", "Эта кнопка осталась с прошлого шага"),
             }[lang]
    await register(tg, who, WORDS[lang])
    c = await campaign(app, "proposals")
    await tg.press(who, f"bd:p:{c.id}")
    sent = await tg.text(who, "Жол")
    assert hints[0] in sent[-1].text
    sent = await tg.send(who, **PHOTO)
    assert hints[1] in sent[0].text
    sent = await tg.press(who, f"bd:c:{c.id}", on=tg.chat(who.id)[0])  # an old button in the middle of the draft
    assert hints[2] in sent[0].text
    await tg.text(who, "Жаяу жүргіншілер жолы")
    sent = await tg.click(who, "«")  # back to the title: the typed one is offered to keep
    assert "Жаяу жүргіншілер жолы" in sent[-1].text and w["keep"] in str(sent[-1].buttons)
    await tg.click(who, w["keep"])
    await tg.text(who, "Мектепке дейін жаяу жүретін жол керек, қазір балалар көлік жолымен жүреді.")
    await tg.text(who, "3000000")
    await tg.text(who, "Өткізіп жіберу" if lang == "kk" else "Пропустить")
    await tg.click(who, w["skip_photo"])
    await move_to(app, c.id, "review")  # the proposals phase ends while the resident reads the preview
    sent = await tg.click(who, "📨")
    assert w["no_proposals"] in sent[0].text
    assert await app.services.budget.my_proposals(await resident_id(app, who)) == []


@pytest.mark.parametrize("lang", LANGS)
async def test_wrong_input_on_the_ballot_shows_the_same_project_again(app: App, tg: Telegram, lang: str) -> None:
    w, who = W[lang], Person(3131, lang)
    await register(tg, who, WORDS[lang])
    c = await campaign(app, "proposals")
    await ballot_of(app, c, "Орындықтар", "Жарық", "Спорт алаңы")
    await move_to(app, c.id, "voting")
    await tg.click(who, w["menu"])
    await tg.click(who, w["title"])
    sent = await tg.click(who, w["ballot"])
    sent = await tg.click(who, "▶")
    assert "2 / 3" in sent[-1].text
    sent = await tg.text(who, "бірінші жоба")  # typed instead of pressing
    assert sent[0].text != sent[-1].text and "2 / 3" in sent[-1].text and w["vote"] in str(sent[-1].buttons)
    sent = await tg.click(who, w["my_votes"])
    sent = await tg.text(who, "?")  # off the ballot, wrong input shows the campaign
    assert w["title"] in sent[-1].text and "/ 3" not in sent[-1].text
