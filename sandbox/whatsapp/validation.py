"""Meta's checks on a send request (POST /{phone_number_id}/messages) and on templates. Each check fails
with the Graph error Meta answers: (#100) for a missing or malformed field, (#131009) for a value over a
limit, (#132001) for a template that does not exist, (#132000) for a wrong parameter count."""

from __future__ import annotations

import re
from typing import Any

from .errors import GraphError, invalid, not_valid

MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")
SEND_TYPES = ("text", "interactive", "location", "template", "reaction", "contacts", *MEDIA_TYPES)
PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")


def _obj(parent: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = parent.get(key)
    if not isinstance(value, dict):
        raise invalid(f"The parameter {where}{key} is required and must be an object.")
    return value


def _text(
    parent: dict[str, Any], key: str, where: str, limit: int, *, required: bool = True, empty: bool = False
) -> str | None:
    value = parent.get(key)
    if value is None:
        if required:
            raise invalid(f"The parameter {where}{key} is required.")
        return None
    if not isinstance(value, str):
        raise invalid(f"Param {where}{key} must be a string.")
    if not value.strip() and not empty:
        raise not_valid(f"{where}{key} must not be empty.")
    if len(value) > limit:
        raise not_valid(f"{where}{key} is too long. Max length is {limit}.")
    return value


def _unique(values: list[str], what: str) -> None:
    if len(set(values)) != len(values):
        raise not_valid(f"{what} must be unique.")


def check_text(body: dict[str, Any]) -> dict[str, Any]:
    text = _obj(body, "text", "")
    _text(text, "body", "text.", 4096)
    if "preview_url" in text and not isinstance(text["preview_url"], bool):
        raise invalid("Param text.preview_url must be a boolean.")
    return text


def check_media(kind: str, body: dict[str, Any], media: dict[str, Any]) -> dict[str, Any]:
    obj = _obj(body, kind, "")
    has_id, has_link = obj.get("id") is not None, obj.get("link") is not None
    if has_id == has_link:
        raise invalid(f"Param {kind} must have exactly one of id or link.")
    if has_id:
        if str(obj["id"]) not in media:
            raise GraphError(131053, f"Media id {obj['id']} was not uploaded to this phone number.")
    elif not isinstance(obj["link"], str) or not re.match(r"https?://\S+$", obj["link"]):
        raise invalid(f"Param {kind}.link must be a valid http(s) URL.")
    if "caption" in obj:
        if kind in ("audio", "sticker"):
            raise invalid(f"Param {kind}.caption is not allowed for {kind} messages.")
        _text(obj, "caption", f"{kind}.", 1024, empty=True)
    if "filename" in obj:
        if kind != "document":
            raise invalid(f"Param {kind}.filename is allowed only for documents.")
        _text(obj, "filename", "document.", 240)
    return obj


def check_location(body: dict[str, Any]) -> dict[str, Any]:
    loc = _obj(body, "location", "")
    for key, bound in (("latitude", 90), ("longitude", 180)):
        value = loc.get(key)
        try:
            number = float(value)  # Meta takes numbers or numeric strings
        except (TypeError, ValueError):
            raise invalid(f"The parameter location.{key} is required and must be a number.") from None
        if not -bound <= number <= bound:
            raise not_valid(f"location.{key} is out of range.")
    _text(loc, "name", "location.", 1000, required=False)
    _text(loc, "address", "location.", 1000, required=False)
    return loc


def _header(inter: dict[str, Any], kinds: tuple[str, ...], media: dict[str, Any]) -> None:
    header = inter.get("header")
    if header is None:
        return
    if not isinstance(header, dict) or header.get("type") not in kinds:
        raise invalid(f"Param interactive.header.type must be one of {{{', '.join(kinds).upper()}}}.")
    if header["type"] == "text":
        _text(header, "text", "interactive.header.", 60)
    else:
        check_media(header["type"], header, media)


def check_interactive(body: dict[str, Any], media: dict[str, Any]) -> dict[str, Any]:
    inter = _obj(body, "interactive", "")
    kind = inter.get("type")
    kinds = ("button", "list", "location_request_message", "cta_url")
    if kind not in kinds:
        raise invalid(f"Param interactive.type must be one of {{{', '.join(kinds).upper()}}}.")
    _text(_obj(inter, "body", "interactive."), "text", "interactive.body.", 1024)
    if inter.get("footer") is not None:
        _text(_obj(inter, "footer", "interactive."), "text", "interactive.footer.", 60)
    action = _obj(inter, "action", "interactive.")
    if kind == "button":
        _header(inter, ("text", "image", "video", "document"), media)
        buttons = action.get("buttons")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            raise not_valid("interactive.action.buttons must have between 1 and 3 buttons.")
        ids, titles = [], []
        for i, button in enumerate(buttons):
            if not isinstance(button, dict) or button.get("type") != "reply":
                raise invalid(f"Param interactive.action.buttons[{i}].type must be REPLY.")
            reply = _obj(button, "reply", f"interactive.action.buttons[{i}].")
            ids.append(_text(reply, "id", f"interactive.action.buttons[{i}].reply.", 256) or "")
            titles.append(_text(reply, "title", f"interactive.action.buttons[{i}].reply.", 20) or "")
        _unique(ids, "Button IDs")
        _unique(titles, "Button titles")
    elif kind == "list":
        _header(inter, ("text",), media)
        _text(action, "button", "interactive.action.", 20)
        sections = action.get("sections")
        if not isinstance(sections, list) or not 1 <= len(sections) <= 10:
            raise not_valid("interactive.action.sections must have between 1 and 10 sections.")
        ids, total = [], 0
        for i, section in enumerate(sections):
            where = f"interactive.action.sections[{i}]."
            if not isinstance(section, dict):
                raise invalid(f"Param {where[:-1]} must be an object.")
            _text(section, "title", where, 24, required=len(sections) > 1)
            rows = section.get("rows")
            if not isinstance(rows, list) or not rows:
                raise not_valid(f"{where}rows must have at least one row.")
            for j, row in enumerate(rows):
                if not isinstance(row, dict):
                    raise invalid(f"Param {where}rows[{j}] must be an object.")
                ids.append(_text(row, "id", f"{where}rows[{j}].", 200) or "")
                _text(row, "title", f"{where}rows[{j}].", 24)
                _text(row, "description", f"{where}rows[{j}].", 72, required=False)
            total += len(rows)
        if total > 10:
            raise not_valid(f"Total row count exceed max allowed count: 10 (got {total}).")
        _unique(ids, "Row IDs")
    elif kind == "location_request_message":
        if action.get("name") != "send_location":
            raise invalid("Param interactive.action.name must be send_location.")
    else:  # cta_url
        _header(inter, ("text", "image", "video", "document"), media)
        params = _obj(action, "parameters", "interactive.action.")
        if action.get("name") != "cta_url":
            raise invalid("Param interactive.action.name must be cta_url.")
        _text(params, "display_text", "interactive.action.parameters.", 20)
        url = _text(params, "url", "interactive.action.parameters.", 2000) or ""
        if not re.match(r"https?://\S+$", url):
            raise invalid("Param interactive.action.parameters.url must be a valid http(s) URL.")
    return inter


def placeholders(text: str) -> int:
    """How many parameters a template text takes: its highest {{n}}."""
    return max((int(n) for n in PLACEHOLDER.findall(text)), default=0)


def check_template_definition(t: Any) -> dict[str, Any]:
    """A template as Meta's template JSON: name, language, category, components (BODY text with {{n}})."""
    if not isinstance(t, dict) or not isinstance(t.get("name"), str) or not isinstance(t.get("language"), str):
        raise ValueError("a template needs a name and a language (e.g. 'kk', 'ru')")
    if not re.fullmatch(r"[a-z0-9_]{1,512}", t["name"]):
        raise ValueError(f"template name {t['name']!r}: lowercase letters, digits and _ only")
    if t.get("category", "UTILITY") not in ("UTILITY", "MARKETING", "AUTHENTICATION"):
        raise ValueError(f"template {t['name']}: category must be UTILITY, MARKETING or AUTHENTICATION")
    components = t.get("components")
    if not isinstance(components, list) or not any(
        isinstance(c, dict) and c.get("type") == "BODY" and isinstance(c.get("text"), str) for c in components
    ):
        raise ValueError(f"template {t['name']}: components need a BODY with text")
    for c in components:
        if c.get("type") == "BODY" and len(c["text"]) > 1024:
            raise ValueError(f"template {t['name']}: BODY text is over 1024 characters")
        if c.get("type") == "BUTTONS":
            quick = [b for b in c.get("buttons", []) if isinstance(b, dict) and b.get("type") == "QUICK_REPLY"]
            if len(quick) > 10 or any(not 1 <= len(str(b.get("text", ""))) <= 25 for b in quick):
                raise ValueError(f"template {t['name']}: at most 10 quick replies, each 1-25 characters")
    return {"status": "APPROVED", "category": "UTILITY", **t}


def _component(template: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next((c for c in template["components"] if c.get("type") == kind), None)


def _quick_replies(template: dict[str, Any]) -> list[dict[str, str]]:
    buttons = _component(template, "BUTTONS")
    return [
        {"text": b.get("text", ""), "payload": b.get("text", "")}
        for b in (buttons or {}).get("buttons", [])
        if isinstance(b, dict) and b.get("type") == "QUICK_REPLY"
    ]


def _button_payload(comp: dict[str, Any], i: int, quick: list[dict[str, str]]) -> None:
    if comp.get("sub_type") != "quick_reply":
        raise invalid(f"Param template.components[{i}].sub_type: the sandbox supports quick_reply buttons.")
    try:
        index = int(comp.get("index"))
    except (TypeError, ValueError):
        raise invalid(f"Param template.components[{i}].index is required.") from None
    if not 0 <= index < len(quick):
        raise GraphError(132000, f"button at index {index} does not exist in the template")
    params = comp.get("parameters")
    if not isinstance(params, list) or len(params) != 1 or not isinstance(params[0], dict):
        raise GraphError(132000, "a quick_reply button takes exactly one payload parameter")
    if params[0].get("type") != "payload" or not isinstance(params[0].get("payload"), str):
        raise invalid(f"Param template.components[{i}].parameters[0] must be {{type: payload, payload}}.")
    quick[index]["payload"] = params[0]["payload"]


def check_template(
    body: dict[str, Any], templates: list[dict[str, Any]]
) -> tuple[dict[str, Any], str, list[dict[str, str]]]:
    """The template object checked against the configured templates → (object, rendered text, its quick
    reply buttons with the payloads the send gave them)."""
    tpl = _obj(body, "template", "")
    name = _text(tpl, "name", "template.", 512)
    language = _obj(tpl, "language", "template.")
    code = _text(language, "code", "template.language.", 20)
    found = next((t for t in templates if t["name"] == name and t["language"] == code), None)
    if found is None:
        raise GraphError(132001, f"template name ({name}) does not exist in {code}")
    if found.get("status") != "APPROVED":
        raise GraphError(
            132015 if found.get("status") == "PAUSED" else 132001, f"template {name} is {found.get('status')}"
        )
    given: dict[str, list[str]] = {}
    quick = _quick_replies(found)
    components = tpl.get("components", [])
    if not isinstance(components, list):
        raise invalid("Param template.components must be an array.")
    for i, comp in enumerate(components):
        if not isinstance(comp, dict) or comp.get("type") not in ("header", "body", "button"):
            raise invalid(f"Param template.components[{i}].type must be one of {{HEADER, BODY, BUTTON}}.")
        if comp["type"] == "button":
            _button_payload(comp, i, quick)
            continue
        values = []
        for j, param in enumerate(comp.get("parameters", [])):
            if not isinstance(param, dict) or param.get("type") != "text" or not isinstance(param.get("text"), str):
                raise invalid(f"Param template.components[{i}].parameters[{j}] must be {{type: text, text}}.")
            text = param["text"]
            if re.search(r"[\n\t]| {5,}", text) or not text.strip():
                raise GraphError(
                    132018, "Param text cannot have new-line/tab characters or more than 4 consecutive spaces"
                )
            values.append(text)
        given[comp["type"]] = values
    rendered = []
    for kind in ("header", "body"):
        defined = _component(found, kind.upper())
        wanted = placeholders(defined["text"]) if defined and isinstance(defined.get("text"), str) else 0
        values = given.get(kind, [])
        if len(values) != wanted:
            raise GraphError(
                132000,
                f"{kind}: number of localizable_params ({len(values)}) does not match the expected number "
                f"of params ({wanted})",
            )
        if defined and isinstance(defined.get("text"), str):
            rendered.append(PLACEHOLDER.sub(lambda m, v=values: v[int(m.group(1)) - 1], defined["text"]))
    footer = _component(found, "FOOTER")
    if footer and isinstance(footer.get("text"), str):
        rendered.append(footer["text"])
    return tpl, "\n\n".join(rendered), quick
