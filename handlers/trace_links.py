"""安心码 URIs: GS1 Digital Link (`https://<domain>/01/{GTIN-14}/10/{LOT}/21/{SERIAL}`),
made for printing and read back from what a phone's scanner hands over.

Reading is biip's (a maintained GS1 parser: syntax, percent-decoding, the GTIN check
digit, GS1's character sets) plus our own strictness where biip is lenient: the GTIN
written with all 14 digits, the lot and serial in the path (not the query), exactly
this AI chain, and a scheme that is `http` or `https` in one case (a scanner may
uppercase the whole URL; GS1 accepts `HTTPS://`, not `HtTpS://`). Any domain is
accepted: the signature in the serial, not the host, says whether a code is ours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, unquote, urlsplit

from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_messages import ParseError

MAX_URI_CHARS = 512
_SCHEMES = ("http", "https", "HTTP", "HTTPS")
# GS1 CSET 82 (General Specifications, figure 7.11-1): what lots and serials may hold.
CSET82 = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}")
_PATH = re.compile(r"(?:/[^/]+)*/01/(\d{14})/10/([^/]+)/21/([^/]+)")


class BadLink(ValueError):
    """Not a 安心码 URI (or not a valid GS1 Digital Link); the message says why."""


@dataclass(frozen=True)
class CodeRef:
    """What a code names: the product (GTIN-14), the lot and the unit's serial."""

    gtin: str
    lot: str
    serial: str


def code_uri(base_url: str, ref: CodeRef) -> str:
    """The URI printed on the unit; `base_url` is the scheme and domain (and an
    optional path prefix) codes resolve at."""
    return (f"{base_url.rstrip('/')}/01/{ref.gtin}/10/{quote(ref.lot, safe='')}"
            f"/21/{quote(ref.serial, safe='')}")


def read_code(text: str) -> CodeRef:
    """The code a scanned text names; BadLink saying what is wrong."""
    text = text.strip()
    if not text or len(text) > MAX_URI_CHARS:
        raise BadLink(f"a code is a URI of 1-{MAX_URI_CHARS} characters")
    parts = urlsplit(text)  # its scheme comes lowercased: the raw one is checked
    if text.partition("://")[0] not in _SCHEMES or not parts.netloc:
        raise BadLink("not an http(s) URI")
    if parts.query or parts.fragment:
        raise BadLink("a 安心码 carries its lot and serial in the path, nothing after it")
    if not _PATH.fullmatch(parts.path):
        raise BadLink("expected /01/{GTIN-14}/10/{lot}/21/{serial}")
    head, _, serial = parts.geturl().rpartition("/21/")
    gtin, lot = _product_and_lot(head)
    serial = unquote(serial)
    if not CSET82.fullmatch(serial):
        raise BadLink("not a valid GS1 Digital Link: AI (21) takes 1-20 characters of GS1 "
                      "CSET 82")
    return CodeRef(gtin, lot, serial)


@lru_cache(maxsize=4096)
def _product_and_lot(head: str) -> tuple[str, str]:
    """biip's reading of the URI up to its serial: (GTIN, lot). Every unit of a batch
    shares it, so it is parsed once per batch and process (biip's parse is the
    costliest step of a scan); the serial, all that differs, is checked on its own."""
    try:
        link = GS1DigitalLinkURI.parse(f"{head}/21/0")
    except ParseError as exc:
        raise BadLink(f"not a valid GS1 Digital Link: {exc}") from None
    values = {e.ai.ai: e for e in link.element_strings}
    gtin = values["01"]
    if gtin.gtin_error:
        raise BadLink(gtin.gtin_error)
    return gtin.value, values["10"].value
