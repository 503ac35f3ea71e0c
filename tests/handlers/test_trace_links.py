"""安心码 URIs: what we print reads back; the variants a phone's scanner produces
(uppercased, percent-encoded, http) are accepted; GS1 Digital Link cases that are not
a 安心码 (a bad check digit, a short GTIN, the lot in the query, another AI order, a
trailing slash, a mixed-case scheme) are refused with a reason."""

from __future__ import annotations

import pytest

from handlers.trace_links import BadLink, CodeRef, code_uri, read_code

REF = CodeRef("09520123456788", "L2025/03", "1ABCDEFGHJ0123456789")


def test_what_we_print_reads_back() -> None:
    uri = code_uri("https://anxin.example.com/", REF)
    assert uri == ("https://anxin.example.com/01/09520123456788/10/L2025%2F03"
                   "/21/1ABCDEFGHJ0123456789")
    assert read_code(uri) == REF
    assert read_code(code_uri("https://brand.example/c", REF)) == REF  # a path prefix


@pytest.mark.parametrize("text", [
    "HTTPS://ANXIN.EXAMPLE.COM/01/09520123456788/10/ABC1/21/1ABCDEFGHJ0123456789",
    "http://anxin.example.com/01/09520123456788/10/ABC1/21/1ABCDEFGHJ0123456789",
    "  https://id.gs1.org/01/09520123456788/10/ABC1/21/12345\n",
])
def test_scanner_variants_are_read(text: str) -> None:
    ref = read_code(text)
    assert ref.gtin == "09520123456788"
    assert ref.lot == "ABC1"


@pytest.mark.parametrize(("text", "reason"), [
    ("https://a.com/01/09520123456789/10/A/21/B", "check digit"),
    ("https://a/01/2112345678900/10/A/21/B", "/01/{GTIN-14}"),
    ("https://example.com/01/09520123456788?10=ABC123", "nothing after it"),
    ("https://a.com/01/09520123456788/21/B/10/A", "/01/{GTIN-14}"),
    ("https://a.com/01/09520123456788/10/A/21/B/", "/01/{GTIN-14}"),
    ("HtTpS://a.com/01/09520123456788/10/A/21/B", "http(s)"),
    ("ftp://a.com/01/09520123456788/10/A/21/B", "http(s)"),
    ("https://a.com/01/09520123456788/10/ABCDEFGHIJKLMNOPQRSTU/21/B", "AI (10)"),
    ("https://a.com/01/09520123456788/10/A%20B/21/C", "AI (10)"),
    ("https://a.com/01/09520123456788/10/A/21/C%20D", "AI (21)"),
    ("https://a.com/01/09520123456788/10/A/21/" + "S" * 21, "AI (21)"),
    ("just some text", "http(s)"),
    ("", "1-512"),
])
def test_what_is_not_a_code_is_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(BadLink, match=reason.replace("(", r"\(").replace(")", r"\)")
                       .replace("{", r"\{").replace("}", r"\}")):
        read_code(text)
