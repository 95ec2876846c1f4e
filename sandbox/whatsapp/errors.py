"""Graph API errors in Meta's own shape: HTTP 400 (401 for a bad token) with
{"error": {"message": "(#code) title", "type": "OAuthException", "code", "error_data": {"messaging_product",
"details"}, "fbtrace_id"}}."""

from __future__ import annotations

import secrets
from typing import Any

ERROR_DOCS = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"

TITLES = {
    100: "Invalid parameter",
    131009: "Parameter value is not valid",
    131008: "Required parameter is missing",
    131051: "Unsupported message type",
    131047: "Re-engagement message",
    131026: "Message Undeliverable",
    130429: "Rate limit hit",
    131056: "(Business Account, Consumer Account) pair rate limit hit",
    132000: "Number of parameters does not match the expected number of params",
    132001: "Template name does not exist in the translation",
    132015: "Template is paused",
    132018: "There was an issue with the parameters in your template.",
    131053: "Media upload error",
    2200: "Callback verification failed",
}

DETAILS = {
    131047: "Message failed to send because more than 24 hours have passed since the customer last "
    "replied to this number.",
    131026: "Message Undeliverable.",
    130429: "Cloud API message throughput has been reached.",
    131056: "Too many messages sent from the sender phone number to the same recipient phone number in a "
    "short period of time.",
}


class GraphError(Exception):
    def __init__(
        self,
        code: int,
        details: str | None = None,
        *,
        status: int = 400,
        message: str | None = None,
        subcode: int | None = None,
    ) -> None:
        self.code = code
        self.details = details if details is not None else DETAILS.get(code, TITLES.get(code, ""))
        self.status = status
        self.title = TITLES.get(code, "Error")
        self.message = message or f"(#{code}) {self.title}"
        self.subcode = subcode
        super().__init__(f"{self.message}: {self.details}")

    def payload(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": "OAuthException", "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.code != 190:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        error["fbtrace_id"] = "A" + secrets.token_urlsafe(16)
        return {"error": error}

    def status_error(self) -> dict[str, Any]:
        """The same error as a failed status webhook carries it."""
        return {
            "code": self.code,
            "title": self.title,
            "message": self.title,
            "error_data": {"details": self.details},
            "href": ERROR_DOCS,
        }


def invalid(details: str) -> GraphError:
    """(#100) Invalid parameter — a missing or malformed field."""
    return GraphError(100, details)


def not_valid(details: str) -> GraphError:
    """(#131009) Parameter value is not valid — a field over a limit or inconsistent."""
    return GraphError(131009, details)


def bad_token() -> GraphError:
    return GraphError(190, status=401, message="Invalid OAuth access token - Cannot parse access token", details="")


def no_object(object_id: str) -> GraphError:
    return GraphError(
        100,
        f"Unsupported request. Object with ID '{object_id}' does not exist",
        message=f"Unsupported post request. Object with ID '{object_id}' does not exist, cannot be loaded "
        "due to missing permissions, or does not support this operation.",
        subcode=33,
    )
