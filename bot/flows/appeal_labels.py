"""Names of appeal kinds, categories and statuses as residents and aides read them."""

from __future__ import annotations

from bot.i18n import N_, Translator

KINDS = {
    "complaint": (N_("⚠️ Complaint"), N_("your rights or interests were violated; needs your name and phone")),
    "request": (N_("📨 Request"), N_("ask for help or for something to be done; needs your name and phone")),
    "suggestion": (N_("💡 Suggestion"), N_("an idea to make life in the village better; may be anonymous")),
    "message": (N_("📣 Message"), N_("tell the akimat about a problem; may be anonymous")),
}

CATEGORIES = {
    "housing": N_("Housing and communal services"),
    "roads": N_("Roads"),
    "water": N_("Water"),
    "heating_gas": N_("Heating and gas"),
    "electricity_lighting": N_("Electricity and lighting"),
    "waste": N_("Waste"),
    "landscaping": N_("Landscaping"),
    "transport": N_("Transport"),
    "land": N_("Land"),
    "healthcare": N_("Healthcare"),
    "education": N_("Education"),
    "social_support": N_("Social support"),
    "mobile_internet": N_("Mobile and internet"),
    "other": N_("Other"),
}

STATUSES = {
    "received": N_("received"),
    "registered": N_("registered"),
    "in_progress": N_("in progress"),
    "forwarded": N_("forwarded to another body"),
    "answered": N_("answered"),
    "closed": N_("closed"),
    "rejected": N_("rejected"),
}


def kind_name(tr: Translator, kind: str) -> str:
    return tr._(KINDS[kind][0]) if kind in KINDS else kind


def category_name(tr: Translator, category: str) -> str:
    return tr._(CATEGORIES[category]) if category in CATEGORIES else category


def status_name(tr: Translator, status: str) -> str:
    return tr._(STATUSES[status]) if status in STATUSES else status
