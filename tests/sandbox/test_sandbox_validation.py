"""The Bot API's refusals, seen through a real aiogram Bot: each rule answers as Telegram does."""

from __future__ import annotations

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramUnauthorizedError,
)
from aiogram.methods import TelegramMethod
from aiogram.types import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters

from sandbox import Sandbox


def keyboard(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Иә", callback_data=data)]])


async def test_get_me_and_wrong_token(sandbox: Sandbox, bot: Bot, bot_factory) -> None:
    me = await bot.get_me()
    assert me.id == 123456789 and me.is_bot and me.username == "qatysu_sandbox_bot"
    intruder = bot_factory(sandbox, "123456789:wrong-token")
    with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
        await intruder.get_me()


async def test_unknown_method_is_404(sandbox: Sandbox, bot: Bot) -> None:
    class NoSuchMethod(TelegramMethod[bool]):
        __returning__ = bool
        __api_method__ = "sendTelepathy"

    with pytest.raises(TelegramNotFound, match="Not Found"):
        await bot(NoSuchMethod())
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{sandbox.api_base}/bot{bot.token}/sendTelepathy") as resp:
            assert resp.status == 404
            assert await resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_real_but_unimplemented_method_is_501(bot: Bot, resident: dict) -> None:
    from aiogram.exceptions import TelegramServerError
    from aiogram.types import InputMediaPhoto

    with pytest.raises(TelegramServerError, match="the sandbox does not implement sendMediaGroup"):
        await bot.send_media_group(resident["id"], [InputMediaPhoto(media="x"), InputMediaPhoto(media="y")])


async def test_json_form_and_query_bodies(sandbox: Sandbox, bot: Bot, resident: dict) -> None:
    url = f"{sandbox.api_base}/bot{bot.token}/sendMessage"
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    async with aiohttp.ClientSession() as http:
        async with http.post(
            url, json={"chat_id": resident["id"], "text": "json", "reply_markup": markup}
        ) as r:
            body = await r.json()
            assert body["ok"] and body["result"]["reply_markup"] == markup
        async with http.post(
            url, data={"chat_id": str(resident["id"]), "text": "<b>form</b>", "parse_mode": "HTML"}
        ) as r:
            body = await r.json()
            assert body["result"]["entities"] == [{"type": "bold", "offset": 0, "length": 4}]
        async with http.get(url, params={"chat_id": str(resident["id"]), "text": "query"}) as r:
            assert (await r.json())["result"]["text"] == "query"
        async with http.post(url, json={"chat_id": resident["id"]}) as r:
            assert r.status == 400
            assert await r.json() == {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: message text is empty",
            }
    texts = [m["text"] for m in sandbox.bot_messages(resident["id"])]
    assert texts == ["json", "form", "query"]


@pytest.mark.parametrize(
    ("html", "detail"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>bold</i>", 'Unmatched end tag at byte offset 7, expected "</b>", found "</i>"'),
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("2 < 3", 'Unsupported start tag "" at byte offset 2'),
        ("</b>", "Unexpected end tag at byte offset 0"),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<a href="x', "Unclosed start tag at byte offset 0"),
        ("<a href=x", "Unexpected end of name token at byte offset 8"),
        ("<script>alert(1)</script>", 'Unsupported start tag "script" at byte offset 0'),
        ("Сәлем <br>", 'Unsupported start tag "br" at byte offset 11'),
    ],
)
async def test_malformed_html_is_refused(bot: Bot, resident: dict, html: str, detail: str) -> None:
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(resident["id"], html, parse_mode="HTML")
    assert caught.value.message == f"Bad Request: can't parse entities: {detail}"


async def test_html_subset_is_parsed_into_entities(sandbox: Sandbox, bot: Bot, resident: dict) -> None:
    html = (
        '<b>Өтініш</b> №5 &lt;қабылданды&gt; &amp; <i>тіркелді</i> <a href="https://egov.kz">eGov</a> '
        '<tg-spoiler>құпия</tg-spoiler> <pre><code class="language-python">x = 1</code></pre> &#128077;'
    )
    msg = await bot.send_message(resident["id"], html, parse_mode="HTML")
    assert msg.text == "Өтініш №5 <қабылданды> & тіркелді eGov құпия x = 1 👍"
    kinds = [(e.type, e.offset, e.length) for e in msg.entities or []]
    assert kinds[0] == ("bold", 0, 6)
    assert ("text_link", 34, 4) in kinds
    pre = next(e for e in msg.entities or [] if e.type == "pre")
    assert pre.language == "python"
    stored = sandbox.message(resident["id"], msg.message_id)
    assert stored is not None
    assert stored["html"].startswith("<b>Өтініш</b> №5 &lt;қабылданды&gt; &amp; <i>тіркелді</i>")


async def test_text_length_limits(bot: Bot, resident: dict) -> None:
    assert (await bot.send_message(resident["id"], "ы" * 4096)).text == "ы" * 4096
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await bot.send_message(resident["id"], "ы" * 4097)
    # the limit applies after entity parsing: markup does not count
    await bot.send_message(resident["id"], "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    for empty in ("", "   \n ", "<b></b>"):
        with pytest.raises(TelegramBadRequest, match="Bad Request: message text is empty"):
            await bot.send_message(resident["id"], empty, parse_mode="HTML")


async def test_caption_limit(bot: Bot, resident: dict) -> None:
    from aiogram.types import BufferedInputFile

    from sandbox.media import make_png

    photo = BufferedInputFile(make_png(), "a.png")
    with pytest.raises(TelegramBadRequest, match="Bad Request: message caption is too long"):
        await bot.send_photo(resident["id"], photo, caption="c" * 1025)
    sent = await bot.send_photo(resident["id"], photo, caption="c" * 1024)
    assert sent.caption == "c" * 1024


async def test_callback_data_1_to_64_bytes(bot: Bot, resident: dict) -> None:
    await bot.send_message(resident["id"], "ok", reply_markup=keyboard("x" * 64))
    await bot.send_message(resident["id"], "ok", reply_markup=keyboard("ә" * 32))  # 64 bytes in UTF-8
    for bad in ("x" * 65, "ә" * 33):
        with pytest.raises(TelegramBadRequest, match="Bad Request: BUTTON_DATA_INVALID"):
            await bot.send_message(resident["id"], "bad", reply_markup=keyboard(bad))


async def test_inline_button_needs_an_action(sandbox: Sandbox, bot: Bot, resident: dict) -> None:
    url = f"{sandbox.api_base}/bot{bot.token}/sendMessage"
    async with aiohttp.ClientSession() as http:
        markup = {"inline_keyboard": [[{"text": "bare"}]]}
        async with http.post(url, json={"chat_id": resident["id"], "text": "t", "reply_markup": markup}) as r:
            assert (await r.json())[
                "description"
            ] == "Bad Request: text buttons are unallowed in the inline keyboard"
        markup = {"inline_keyboard": [[{"text": "u", "url": "javascript:alert(1)"}]]}
        async with http.post(url, json={"chat_id": resident["id"], "text": "t", "reply_markup": markup}) as r:
            assert (await r.json())["description"] == "Bad Request: BUTTON_URL_INVALID"


async def test_unknown_chat_and_blocked_and_not_started(sandbox: Sandbox, bot: Bot, resident: dict) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: chat not found"):
        await bot.send_message(555, "кімсің?")
    stranger = await sandbox.create_user("Бекзат")  # never pressed Start
    with pytest.raises(
        TelegramForbiddenError, match="Forbidden: bot can't initiate conversation with a user"
    ):
        await bot.send_message(stranger["id"], "сәлем")
    await sandbox.block(resident["id"])
    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(resident["id"], "сәлем")
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_chat_action(resident["id"], "typing")
    await sandbox.unblock(resident["id"])
    assert (await bot.send_message(resident["id"], "қайта келдіңіз")).text == "қайта келдіңіз"


async def test_unknown_thread_in_the_group(sandbox: Sandbox, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: message thread not found"):
        await bot.send_message(sandbox.operator_chat_id, "x", message_thread_id=999)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message thread not found"):
        await bot.send_message(
            sandbox.operator_chat_id, "x", message_thread_id=1
        )  # General is not addressable


async def test_edit_rules(sandbox: Sandbox, bot: Bot, resident: dict) -> None:
    chat = resident["id"]
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to edit not found"):
        await bot.edit_message_text("x", chat_id=chat, message_id=999)
    msg = await bot.send_message(chat, "<b>Күйі</b>: жаңа", parse_mode="HTML", reply_markup=keyboard("s"))
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is not modified"):
        await bot.edit_message_text(
            "<b>Күйі</b>: жаңа",
            chat_id=chat,
            message_id=msg.message_id,
            parse_mode="HTML",
            reply_markup=keyboard("s"),
        )
    # editing text without reply_markup removes the inline keyboard, as in Telegram
    edited = await bot.edit_message_text(
        "<b>Күйі</b>: жаңа", chat_id=chat, message_id=msg.message_id, parse_mode="HTML"
    )
    assert edited.reply_markup is None and edited.edit_date
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=chat, message_id=msg.message_id)
    changed = await bot.edit_message_reply_markup(
        chat_id=chat, message_id=msg.message_id, reply_markup=keyboard("t")
    )
    assert changed.reply_markup.model_dump() == keyboard("t").model_dump()
    mine = await sandbox.send_text(chat, "менің хатым")
    with pytest.raises(TelegramBadRequest, match="Bad Request: message can't be edited"):
        await bot.edit_message_text("x", chat_id=chat, message_id=mine["message_id"])
    assert await bot.delete_message(chat, msg.message_id)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to delete not found"):
        await bot.delete_message(chat, msg.message_id)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to edit not found"):
        await bot.edit_message_text("x", chat_id=chat, message_id=msg.message_id)
    assert sandbox.message(chat, msg.message_id)["deleted"] is True


async def test_replies_copies_forwards(sandbox: Sandbox, bot: Bot, resident: dict) -> None:
    chat = resident["id"]
    question = await sandbox.send_text(chat, "Су қашан беріледі?")
    answer = await bot.send_message(
        chat, "Ертең", reply_parameters=ReplyParameters(message_id=question["message_id"])
    )
    assert answer.reply_to_message and answer.reply_to_message.text == "Су қашан беріледі?"
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to be replied not found"):
        await bot.send_message(chat, "x", reply_parameters=ReplyParameters(message_id=999))
    loose = await bot.send_message(
        chat, "x", reply_parameters=ReplyParameters(message_id=999, allow_sending_without_reply=True)
    )
    assert loose.reply_to_message is None
    copied = await bot.copy_message(sandbox.operator_chat_id, chat, question["message_id"])
    copy = sandbox.message(sandbox.operator_chat_id, copied.message_id)
    assert copy["text"] == "Су қашан беріледі?" and copy["from_bot"] and "forward_origin" not in copy
    forwarded = await bot.forward_message(sandbox.operator_chat_id, chat, question["message_id"])
    assert forwarded.forward_origin.sender_user.id == chat
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to copy not found"):
        await bot.copy_message(sandbox.operator_chat_id, chat, 999)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to forward not found"):
        await bot.forward_message(sandbox.operator_chat_id, chat, 999)


async def test_keyboards_actions_reactions(sandbox: Sandbox, bot: Bot, resident: dict) -> None:
    from aiogram.types import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove

    chat = resident["id"]
    kb = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="📞 Нөмірді жіберу", request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    await bot.send_message(chat, "Нөміріңізді жіберіңіз", reply_markup=kb)
    assert sandbox.chats()[1]["keyboard"]["keyboard"][0][0]["request_contact"] is True
    with pytest.raises(TelegramBadRequest, match="BUTTON_TYPE_INVALID"):
        await bot.send_message(
            sandbox.operator_chat_id, "x", reply_markup=kb
        )  # contact requests: private only
    await bot.send_message(chat, "Рақмет", reply_markup=ReplyKeyboardRemove())
    assert next(c for c in sandbox.chats() if c["id"] == chat)["keyboard"] is None
    await bot.send_message(chat, "Жауап жазыңыз", reply_markup=ForceReply())
    assert await bot.send_chat_action(chat, "typing")
    with pytest.raises(TelegramBadRequest):
        await bot.send_chat_action(chat, "dancing")  # type: ignore[arg-type]
    from aiogram.types import ReactionTypeEmoji

    msg = await sandbox.send_text(chat, "Рақмет!")
    assert await bot.set_message_reaction(chat, msg["message_id"], [ReactionTypeEmoji(emoji="👍")])
    assert sandbox.message(chat, msg["message_id"])["reactions"] == [{"type": "emoji", "emoji": "👍"}]
    with pytest.raises(TelegramBadRequest, match="REACTION_INVALID"):
        await bot.set_message_reaction(chat, msg["message_id"], [ReactionTypeEmoji(emoji="🦖")])


async def test_chats_members_and_commands(sandbox: Sandbox, bot: Bot, resident: dict) -> None:
    from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat

    aide = await sandbox.create_user("Айгүл", role="aide")
    group = await bot.get_chat(sandbox.operator_chat_id)
    assert group.type == "supergroup" and group.is_forum
    assert (await bot.get_chat(resident["id"])).first_name == "Әлия"
    assert (await bot.get_chat_member(sandbox.operator_chat_id, aide["id"])).status == "member"
    assert (await bot.get_chat_member(sandbox.operator_chat_id, resident["id"])).status == "left"
    me = await bot.get_chat_member(sandbox.operator_chat_id, bot.id)
    assert me.status == "administrator" and me.can_manage_topics
    with pytest.raises(TelegramBadRequest, match="user not found"):
        await bot.get_chat_member(sandbox.operator_chat_id, 4242)

    kk = [BotCommand(command="start", description="Бастау"), BotCommand(command="help", description="Көмек")]
    ru = [BotCommand(command="start", description="Начать")]
    await bot.set_my_commands(kk, scope=BotCommandScopeAllPrivateChats(), language_code="kk")
    await bot.set_my_commands(ru, scope=BotCommandScopeAllPrivateChats(), language_code="ru")
    await bot.set_my_commands(
        [BotCommand(command="queue", description="Кезек")],
        scope=BotCommandScopeChat(chat_id=sandbox.operator_chat_id),
    )

    def dump(commands: list[BotCommand]) -> list[dict]:
        return [c.model_dump() for c in commands]

    assert dump(
        await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="kk")
    ) == dump(kk)
    assert dump(
        await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="ru")
    ) == dump(ru)
    assert await bot.get_my_commands() == []
    assert [c["command"] for c in sandbox.menu(resident["id"])] == ["start", "help"]
    assert [c["command"] for c in sandbox.menu(sandbox.operator_chat_id, aide["id"])] == ["queue"]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Бастау", description="x")])
    await bot.delete_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="ru")
    assert await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="ru") == []


async def test_callback_answer_once_and_in_time(sandbox: Sandbox, bot: Bot, resident: dict) -> None:
    msg = await bot.send_message(resident["id"], "Растайсыз ба?", reply_markup=keyboard("yes"))
    query_id = await sandbox.press_button(resident["id"], msg.message_id)
    assert sandbox.callback_answer(query_id)["answered"] is False
    assert await bot.answer_callback_query(query_id, text="Қабылданды")
    answer = sandbox.callback_answer(query_id)
    assert answer["answered"] and answer["text"] == "Қабылданды" and answer["show_alert"] is False
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query("12345")
