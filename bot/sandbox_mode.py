"""`qatysu run` with no token: the local sandbox, the bot against it, demo data in a database of its own."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import App, build_app
from bot.channels.telegram.costs import settle
from bot.channels.whatsapp import templates as wa_templates
from bot.config import Settings
from bot.runner import serve
from bot.services.budget import BudgetService
from bot.services.phone_key import sandbox_key_file
from sandbox import Sandbox

log = logging.getLogger("qatysu.sandbox")
TOKEN = "1000000001:qatysu-sandbox"
SAMPLE = Path(__file__).parent / "data" / "territories_sample.csv"


@dataclass
class DemoPeople:
    residents: list[int]
    aide: int
    secretary: int
    admin: int


async def demo_people(sb: Sandbox) -> DemoPeople:
    """People to chat as: two residents who have not registered yet, an aide, a secretary, an admin."""
    aigul = await sb.create_user("Айгүл", last_name="Сәрсенова", language_code="kk")
    ivan = await sb.create_user("Иван", last_name="Петров", language_code="ru")
    aide = await sb.create_user("Ержан", last_name="(оператор)", language_code="kk", role="aide", started=True)
    secretary = await sb.create_user("Гүлнар", last_name="(хатшы)", language_code="kk", role="secretary",
                                     started=True)
    admin = await sb.create_user("Әсел", last_name="(әкімші)", language_code="ru", role="admin", started=True)
    await sb.wa_create_user("Сәуле", "+77011110001", language="kk")  # residents on WhatsApp, not registered yet
    await sb.wa_create_user("Ольга", "+77011110002", language="ru")
    return DemoPeople([aigul["id"], ivan["id"]], aide["id"], secretary["id"], admin["id"])


def sandbox_settings(settings: Settings, sb: Sandbox, people: DemoPeople) -> Settings:
    data = settings.model_dump()
    data["telegram"].update(token=TOKEN, api_base=sb.api_base, operator_chat_id=sb.operator_chat_id)
    data["database"]["url"] = settings.sandbox.database_url
    if not settings.whatsapp.enabled:  # the sandbox's WhatsApp stand-in; the webhook on a free loopback port
        wa = sb.wa_config
        data["whatsapp"].update(phone_number_id=wa["phone_number_id"], token=wa["token"], app_secret=wa["app_secret"],
                                verify_token=wa["verify_token"], api_base=wa["api_base"],
                                api_version=wa["api_version"], webhook_host="127.0.0.1", webhook_port=0,
                                # every template of deploy/whatsapp-templates.json, as if Meta had approved them
                                templates=wa_templates.configured())
    if settings.privacy.phone_hash_key is None and settings.privacy.phone_hash_key_file is None:
        # no key configured: the sandbox makes its own, in a file beside its own database
        data["privacy"]["phone_hash_key_file"] = sandbox_key_file(settings.sandbox.database_url)
    roles = data["roles"]
    roles["operators"] = [*roles["operators"], people.aide]
    roles["secretaries"] = [*roles["secretaries"], people.secretary]
    roles["admins"] = [*roles["admins"], people.admin]
    return Settings(**data)


DISTRICT = "113200000"  # Akkol district in the sample


async def seed_demo(app: App) -> None:
    """Demo data, marked as such, only ever written to the sandbox's own database: the Akkol district, a People's
    Budget campaign open for voting with three projects, an akim's report and a report meeting in ten days."""
    report = await app.services.territories.import_csv(SAMPLE, demo=True)
    log.info("demo territories: %s created", report.created)
    if await app.services.budget.campaigns_for(DISTRICT, include_demo=True):
        return  # seeded on an earlier start
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    day = timedelta(days=1)
    # projects may be added only before voting opens: a service whose clock is a few days back does it
    earlier = BudgetService(app.sessions, clock=lambda: now - 3 * day)
    campaign = await earlier.create_campaign(
        DISTRICT, "Ақкөл ауданы: Халық бюджеті (демо)", "Аккольский район: бюджет народного участия (демо)",
        30_000_000, proposals_from=now - 30 * day, proposals_until=now - 20 * day, review_until=now - 10 * day,
        voting_from=now - 2 * day, voting_until=now + 14 * day, results_at=now + 15 * day, is_demo=True)
    await earlier.import_projects(campaign.id, [
        {"title": "Балалар ойын алаңы / Детская площадка", "cost_tenge": 12_000_000,
         "description": "Ақкөл қаласы, Нұрлы көш көшесі / город Акколь, ул. Нурлы кош"},
        {"title": "Көше жарықтандыру / Уличное освещение", "cost_tenge": 9_500_000,
         "description": "Азат ауылы, 40 шам / село Азат, 40 фонарей"},
        {"title": "Спорт алаңы / Спортивная площадка", "cost_tenge": 15_000_000,
         "description": "Мектеп жанында / возле школы"},
    ], actor=0)
    await app.services.reports.publish(
        territory_kato=DISTRICT, period=f"{now.year}-Q{(now.month - 1) // 3 + 1}",
        title_kk="Аудан әкімінің тоқсандық есебі (демо)", title_ru="Квартальный отчёт акима района (демо)",
        summary_kk="Жолдар жөнделді, екі ауылға су құбыры тартылды, мектепке спорт залы салынды.",
        summary_ru="Отремонтированы дороги, в два села проведён водопровод, при школе построен спортзал.")
    await app.services.meetings.create(
        kind="akim_report", territory_kato=DISTRICT, starts_at=now + 10 * day, place="Аудандық мәдениет үйі / РДК",
        agenda_kk="Аудан әкімінің тоқсандық есебі, тұрғындардың сұрақтары.",
        agenda_ru="Квартальный отчёт акима района, вопросы жителей.")


async def start_sandbox(settings: Settings, port: int | None = None) -> tuple[Sandbox, App]:
    sb = Sandbox(TOKEN, rate_overall_per_s=settings.delivery.overall_per_second + 5)
    await sb.start(settings.sandbox.host, settings.sandbox.port if port is None else port)
    people = await demo_people(sb)
    app = await build_app(sandbox_settings(settings, sb, people))
    app.whatsapp_subscribe = sb.wa_set_webhook  # once the webhook listens (bot/runner.py)
    sb.wa_set_templates(wa_templates.definitions(app.i18n))  # the stand-in knows them as approved
    await seed_demo(app)
    return sb, app


async def run_sandbox(settings: Settings) -> int:
    sb, app = await start_sandbox(settings)
    settle()  # start-up done: frozen out of the collector's way (bot/channels/telegram/costs.py)
    print(f"\nNo Telegram token is set, so Qatysu runs against the local sandbox (Telegram and WhatsApp).\n"
          f"Open {sb.page_url} in a browser to chat with the bot as residents, the aide, the secretary\n"
          f"and an administrator.\n"
          f"Demo data lives in {settings.sandbox.database_url} only. Stop with Ctrl+C.\n", flush=True)
    try:
        await serve(app)
    finally:
        await app.close()
        await sb.stop()
    return 0
