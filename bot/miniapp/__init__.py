"""Async client of the WeChat mini-program's server APIs: `MiniProgramClient`, what it
answers (`WxSession`, `WxPhone`) and the errors its calls raise."""

from bot.miniapp import errors
from bot.miniapp.client import MiniProgramClient, WxPhone, WxSession
from bot.miniapp.errors import *  # noqa: F403  (the exceptions are part of this package's API)

__all__ = ["MiniProgramClient", "WxPhone", "WxSession", *errors.__all__]
