"""Secretary broadcasts: the statuses and limits, the typed refusals, the audience and progress dataclasses, and
the payload a reader gets. The service is bot/services/broadcasts.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.models import Broadcast

DRAFT, SENDING_STATUS, DONE, STOPPED = "draft", "sending", "done", "stopped"
LANGUAGES = ("kk", "ru")
MEDIA_KINDS = ("photo", "document")
TEXT_LIMIT = 4096  # Telegram's limit for a message
CAPTION_LIMIT = 1024  # … and for a caption (checked on the HTML source: never shorter than what Telegram counts)


class BroadcastError(Exception):
    """A broadcast request the rules refuse."""


class NotAllowed(BroadcastError):
    """Only secretaries and admins may create, start or stop a broadcast."""


class OutsideTerritory(NotAllowed):
    """A secretary limited to a territory addressed residents beyond it (a meeting's: its territory)."""


class BroadcastNotFound(BroadcastError):
    pass


class WrongStatus(BroadcastError):
    """E.g. starting a broadcast that is already sending, or stopping one that is done."""


class EmptyAudience(BroadcastError):
    pass


@dataclass(frozen=True)
class Audience:
    """Who a broadcast reaches: the residents of ``territory_kato`` and below (None: everyone), or, with
    ``only_coming``, those who said they will come to ``meeting_id``; optionally only speakers of ``language``."""

    territory_kato: str | None = None
    language: str | None = None
    meeting_id: int | None = None
    only_coming: bool = False


@dataclass(frozen=True)
class Progress:
    id: int
    status: str
    total: int
    sent: int
    pending: int
    in_flight: int
    blocked: int
    failed: int
    unknown: int
    cancelled: int
    rows: int  # outbox rows so far; fewer than total while the broadcast is being expanded
    eta_seconds: int | None
    created_by: int
    progress_chat_id: int | None
    progress_message_id: int | None
    started_at: datetime | None
    finished_at: datetime | None
    ui_language: str | None  # the language the broadcast was started in, for its progress message

    @property
    def remaining(self) -> int:
        if self.status == STOPPED:  # what was not written before the stop never will be
            return self.pending + self.in_flight
        return max(self.total - self.sent - self.blocked - self.failed - self.unknown - self.cancelled, 0)

    @property
    def not_sent_for_the_stop(self) -> int:
        """Cancelled rows, and with a stop during the expansion the recipients never written."""
        unwritten = max(self.total - self.rows, 0) if self.status == STOPPED else 0
        return self.cancelled + unwritten

    @property
    def expanded(self) -> bool:
        return self.rows >= self.total

    @property
    def finished(self) -> bool:
        return self.finished_at is not None


@dataclass(frozen=True)
class UpcomingMeeting:
    id: int
    kind: str
    territory_kato: str
    starts_at: datetime
    coming: int


BROADCAST_NOTICE = "broadcast"  # the outbox rows' notice kind: {"broadcast_id"}


def payload_for(text_kk: str | None, text_ru: str | None, media_kind: str | None, file_id: str | None,
                lang: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The outbox payload a reader of ``lang`` gets: their language's text, or the only text there is; the
    photo or document with the text as its caption. The preview is built with this very function."""
    text = (text_ru if lang == "ru" else text_kk) or text_kk or text_ru or ""
    payload: dict[str, Any] = {"text": text}
    if media_kind in MEDIA_KINDS and file_id:
        payload[media_kind] = file_id
    if extra:
        payload.update(extra)
    return payload


def broadcast_payload(b: Broadcast, lang: str, file_id: str | bytes | None, extra: dict[str, Any] | None = None
                      ) -> dict[str, Any]:
    """``file_id``: what the reader's channel sends the broadcast's media as: its own id, or the bytes."""
    return payload_for(b.text_kk, b.text_ru, b.media_kind, file_id, lang, extra)


def check_texts(text_kk: str | None, text_ru: str | None, media_kind: str | None) -> None:
    if not (text_kk or text_ru):
        raise BroadcastError("a broadcast needs a text")
    limit = CAPTION_LIMIT if media_kind else TEXT_LIMIT
    if any(t and len(t) > limit for t in (text_kk, text_ru)):
        raise BroadcastError(f"a text is longer than {limit} characters")
