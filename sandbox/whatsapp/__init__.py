"""A strict local stand-in for the WhatsApp Cloud API (Graph API messages and media, webhooks signed with the
app secret, the 24-hour customer service window, templates, throughput limits), served by the sandbox."""

from .errors import GraphError
from .state import WaConfig

__all__ = ["GraphError", "WaConfig"]
