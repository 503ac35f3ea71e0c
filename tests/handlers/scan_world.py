"""Helpers for the 安心码 scan tests (handler, mini-program API, public page): a product
with its "add your guide" channel, and the User-Agents of a phone and of crawlers."""

from __future__ import annotations

from models.channels import Channel, ChannelKind
from models.trace import Product
from tests.handlers.trace_world import GTIN

PHONE_UA = ("Mozilla/5.0 (Linux; Android 13; CUBOT X30 Build/TP1A) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Mobile Safari/537.36 MicroMessenger/8.0.47")
CRAWLER_UAS = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "TelegramBot (like TwitterBot)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "WhatsApp/2.23.20.0",
    "Mozilla/5.0 (compatible; Baiduspider/2.0)",
    "curl/8.5.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/120.0 Safari/537.36",
)
GUIDE_QR = "https://work.weixin.qq.com/ca/cawcde8a1b2c3d4e5f"


async def with_guide(gtin: str = GTIN) -> Channel:
    """Give product `gtin` its anxin_code channel (as the catalogue would, without WeCom)."""
    channel = await Channel.create(name="安心码·安心牛奶", kind=ChannelKind.ANXIN_CODE,
                                   state=f"ax{gtin}", qr_code=GUIDE_QR, guides=["zhangsan"])
    await Product.filter(gtin=gtin).update(channel_id=channel.id)
    return channel
