"""Forum topics in the operator group, aides posting there, and files both ways."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramEntityTooLarge
from aiogram.types import BufferedInputFile

from sandbox import Sandbox
from sandbox.media import image_size, make_png


async def test_topic_lifecycle(sandbox: Sandbox, bot: Bot) -> None:
    group = sandbox.operator_chat_id
    aide = await sandbox.create_user("Айгүл", last_name="Серікқызы", role="aide")
    topic = await bot.create_forum_topic(group, "Өтініш #17 · Абай көшесі", icon_color=16766590)
    assert topic.name == "Өтініш #17 · Абай көшесі" and topic.icon_color == 16766590
    thread = topic.message_thread_id
    assert thread > 1
    assert [t["name"] for t in sandbox.topics()] == ["Өтініш #17 · Абай көшесі"]

    card = await bot.send_message(group, "<b>Жаңа өтініш</b>", parse_mode="HTML", message_thread_id=thread)
    assert card.message_thread_id == thread and card.is_topic_message

    # an aide answers inside the topic: the update carries the thread, as Telegram's does
    posted = await sandbox.send_text(aide["id"], "Қабылдадым", chat_id=group, message_thread_id=thread)
    reply = await sandbox.send_text(
        aide["id"], "Ертең барамыз", chat_id=group, reply_to_message_id=card.message_id
    )
    updates = await bot.get_updates()
    first, second = updates[0].message, updates[1].message
    assert first.message_thread_id == thread and first.is_topic_message
    assert first.reply_to_message.forum_topic_created.name == "Өтініш #17 · Абай көшесі"
    assert second.message_thread_id == thread and second.reply_to_message.message_id == card.message_id
    assert posted["message_thread_id"] == reply["message_thread_id"] == thread
    assert [m["text"] for m in sandbox.transcript(group, thread) if "text" in m] == [
        "Жаңа өтініш",
        "Қабылдадым",
        "Ертең барамыз",
    ]

    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.edit_forum_topic(group, thread, name="Өтініш #17 · Абай көшесі")
    assert await bot.edit_forum_topic(group, thread, name="Өтініш #17 · шешілді")
    assert await bot.close_forum_topic(group, thread)
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.close_forum_topic(group, thread)
    assert sandbox.topics()[0]["closed"] is True
    with pytest.raises(ValueError, match="closed"):
        await sandbox.send_text(aide["id"], "жабық тақырыпқа", chat_id=group, message_thread_id=thread)
    await bot.send_message(group, "Бот жабық тақырыпқа да жаза алады", message_thread_id=thread)  # admin
    assert await bot.reopen_forum_topic(group, thread)
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.reopen_forum_topic(group, thread)
    service = [k for m in sandbox.transcript(group, thread) for k in m if k.startswith("forum_topic_")]
    assert service == [
        "forum_topic_created",
        "forum_topic_edited",
        "forum_topic_closed",
        "forum_topic_reopened",
    ]

    assert await bot.delete_forum_topic(group, thread)
    assert sandbox.topics() == []
    with pytest.raises(TelegramBadRequest, match="Bad Request: message thread not found"):
        await bot.send_message(group, "кеш", message_thread_id=thread)
    with pytest.raises(TelegramBadRequest, match="TOPIC_ID_INVALID"):
        await bot.close_forum_topic(group, thread)


async def test_topics_need_a_forum_and_a_name(sandbox: Sandbox, bot: Bot, bot_factory) -> None:
    with pytest.raises(TelegramBadRequest, match="TOPIC_NAME_INVALID"):
        await bot.create_forum_topic(sandbox.operator_chat_id, " ")
    with pytest.raises(TelegramBadRequest, match="TOPIC_NAME_INVALID"):
        await bot.create_forum_topic(sandbox.operator_chat_id, "ы" * 129)
    plain = Sandbox("42:plain-group", forum=False)
    await plain.start()
    try:
        other = bot_factory(plain, "42:plain-group")
        with pytest.raises(TelegramBadRequest, match="the chat is not a forum"):
            await other.create_forum_topic(plain.operator_chat_id, "Өтініш")
    finally:
        await plain.stop()


async def test_upload_get_file_download_round_trip(sandbox: Sandbox, bot: Bot, resident: dict) -> None:
    png = make_png(120, 80)
    photo = await bot.send_photo(resident["id"], BufferedInputFile(png, "map.png"), caption="Карта")
    size = photo.photo[-1]
    assert (size.width, size.height) == (120, 80)
    file = await bot.get_file(size.file_id)
    assert file.file_path and file.file_size == len(png)
    assert (await bot.download_file(file.file_path)).read() == png

    pdf = b"%PDF-1.4 sandbox\n%%EOF\n"
    doc = await bot.send_document(resident["id"], BufferedInputFile(pdf, "анықтама.pdf"), caption="Анықтама")
    assert doc.document.file_name == "анықтама.pdf" and doc.document.file_size == len(pdf)
    assert doc.document.mime_type == "application/pdf"
    got = await bot.get_file(doc.document.file_id)
    assert (await bot.download_file(got.file_path)).read() == pdf

    # resend by file_id, in the group this time
    again = await bot.send_document(sandbox.operator_chat_id, doc.document.file_id)
    assert again.document.file_unique_id == doc.document.file_unique_id
    with pytest.raises(TelegramBadRequest, match="can't use file of type Document as Photo"):
        await bot.send_photo(resident["id"], doc.document.file_id)
    with pytest.raises(TelegramBadRequest, match="wrong file identifier/HTTP URL specified"):
        await bot.send_photo(resident["id"], "AgACAgIAAxkBAAIB-not-a-file")
    with pytest.raises(TelegramBadRequest, match="wrong file_id"):
        await bot.get_file("nope")
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(resident["id"], BufferedInputFile(b"not an image", "x.png"))

    views = sandbox.bot_messages(resident["id"])
    assert views[0]["photo"][0]["width"] == 120 and views[0]["file_url"].startswith("/sandbox/files/")
    assert views[1]["caption"] == "Анықтама"


async def test_files_from_people(sandbox: Sandbox, bot: Bot, resident: dict) -> None:
    await sandbox.send_photo(resident["id"], caption="Шұңқыр #жол")
    await sandbox.send_document(resident["id"], b"col1,col2\n1,2\n", file_name="тізім.csv")
    photo_msg, doc_msg = [u.message for u in await bot.get_updates()]
    assert photo_msg.caption == "Шұңқыр #жол" and photo_msg.caption_entities[0].type == "hashtag"
    data = (await bot.download(photo_msg.photo[-1].file_id)).read()
    assert image_size(data) == (photo_msg.photo[-1].width, photo_msg.photo[-1].height)
    assert doc_msg.document.file_name == "тізім.csv" and doc_msg.document.mime_type == "text/csv"
    assert (await bot.download(doc_msg.document.file_id)).read() == b"col1,col2\n1,2\n"


async def test_location_and_too_large(sandbox: Sandbox, bot: Bot, resident: dict) -> None:
    sent = await bot.send_location(resident["id"], 51.128207, 71.430411)
    assert sent.location.latitude == pytest.approx(51.128207)
    with pytest.raises(TelegramBadRequest, match="wrong latitude"):
        await bot.send_location(resident["id"], 91, 0)
    big = b"\0" * (10 * 1024 * 1024 + 1)
    with pytest.raises(TelegramEntityTooLarge):
        await bot.send_photo(resident["id"], BufferedInputFile(big, "big.png"))
