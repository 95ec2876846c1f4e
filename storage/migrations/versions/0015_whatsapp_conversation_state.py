"""WhatsApp chats' conversation state under their own channel

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 03:00:00

Until now the state of a WhatsApp chat was written under the channel "telegram", keyed by the wa_id; a Telegram
chat with the same digits would have shared its draft, and "delete my data" from WhatsApp looked for the state
under "whatsapp" and left it. A row moves to "whatsapp" when its chat is a WhatsApp account's chat, or when it is
no Telegram account's chat and its id has 11 digits or more: a phone number with its country code (Kazakhstan's
start with 7 7…), where Telegram's user ids have 10 digits at most today. A row of a Telegram account is left as
it is.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

PHONE_LIKE = 10_000_000_000  # 11 digits


def upgrade() -> None:
    op.execute(sa.text(
        "UPDATE conversation_state SET channel = 'whatsapp' WHERE channel = 'telegram' "
        "AND chat_id NOT IN (SELECT chat_id FROM account WHERE channel = 'telegram' AND chat_id IS NOT NULL) "
        "AND (chat_id IN (SELECT chat_id FROM account WHERE channel = 'whatsapp' AND chat_id IS NOT NULL) "
        "     OR chat_id >= :phone_like) "
        "AND NOT EXISTS (SELECT 1 FROM conversation_state w WHERE w.channel = 'whatsapp' "
        "                AND w.chat_id = conversation_state.chat_id)").bindparams(phone_like=PHONE_LIKE))


def downgrade() -> None:
    op.execute(sa.text(
        "UPDATE conversation_state SET channel = 'telegram' WHERE channel = 'whatsapp' "
        "AND NOT EXISTS (SELECT 1 FROM conversation_state t WHERE t.channel = 'telegram' "
        "                AND t.chat_id = conversation_state.chat_id)"))
