"""Fixtures for the sandbox tests: every sandbox delivers its callbacks to a
`CallbackReceiver` (settings.sandbox.callback_url points at it), and `api` is a WeCom
API client over HTTP."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.crypto import CallbackCrypto
from bot.settings import Settings
from tests.bot.sandbox.callback_receiver import CallbackReceiver
from tests.bot.sandbox.wecom_api import WeComApi
from tests.conftest import make_settings
from tests.sandbox_fixtures import SandboxConsole


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    wecom = make_settings().wecom  # the suite's WeCom credentials (settings.toml)
    receiver = CallbackReceiver(CallbackCrypto(wecom.token, wecom.encoding_aes_key,
                                               wecom.corp_id))
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest.fixture
def settings(settings: Settings, receiver: CallbackReceiver) -> Settings:
    """The suite's settings with callbacks delivered to the receiver."""
    return dataclasses.replace(
        settings, sandbox=dataclasses.replace(settings.sandbox, callback_url=receiver.url))


@pytest.fixture
async def api(sandbox: SandboxConsole, settings: Settings) -> AsyncIterator[WeComApi]:
    async with aiohttp.ClientSession() as session:
        yield WeComApi(sandbox.url, settings, session)
