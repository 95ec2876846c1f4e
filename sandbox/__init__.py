"""A strict local stand-in for Telegram: Bot API server on loopback, control API and a web page."""

from .errors import ApiError, ControlError
from .server import Sandbox

__all__ = ["ApiError", "ControlError", "Sandbox"]
