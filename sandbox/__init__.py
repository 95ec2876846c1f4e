"""A strict local stand-in for Telegram and WhatsApp: Bot API and Cloud API on loopback, control API, a web page."""

from .errors import ApiError, ControlError
from .server import Sandbox
from .whatsapp import GraphError, WaConfig

__all__ = ["ApiError", "ControlError", "GraphError", "Sandbox", "WaConfig"]
