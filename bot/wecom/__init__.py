"""Async WeCom API client: `WeComClient` and the errors its calls raise."""

from bot.wecom import errors
from bot.wecom.client import WeComClient
from bot.wecom.errors import *  # noqa: F403  (the exceptions are part of this package's API)

__all__ = ["WeComClient", *errors.__all__]
