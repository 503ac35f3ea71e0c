"""The settings contract: file, SCRM_SETTINGS, SCRM__SECTION__KEY, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import DEFAULT_FILE, ROOT, SettingsError, load_settings


def test_defaults_are_the_embedded_setup() -> None:
    s = load_settings(environ={})
    assert s.database.url.startswith("sqlite://")
    assert s.redis.url == ""
    assert s.wecom.api_base == "https://qyapi.weixin.qq.com"
    assert s.miniapp.api_base == "https://api.weixin.qq.com"
    assert s.sandbox.enabled and s.wecom_api_base == s.sandbox.base_url
    assert s.callback_url == "http://127.0.0.1:8080/wecom/callback"


def test_env_overrides_are_coerced_to_the_keys_type() -> None:
    s = load_settings(environ={
        "SCRM__WECOM__API_BASE": "http://127.0.0.1:9999",
        "SCRM__SERVER__PORT": "9090",
        "SCRM__SANDBOX__ENABLED": "false",
        "SCRM__QUEUE__RETRY_BASE_SECONDS": "0.5",
        "SCRM__ADMIN__TOKENS": "aaaaaaaaaaaaaaaa,bbbbbbbbbbbbbbbb",
        "SCRM__WECOM__RATE_LIMITS": '{"externalcontact/get": 100}',
    })
    assert s.wecom.api_base == "http://127.0.0.1:9999"
    assert s.wecom_api_base == "http://127.0.0.1:9999"
    assert s.server.port == 9090
    assert s.queue.retry_base_seconds == 0.5
    assert s.admin.tokens == ("aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb")
    assert s.wecom.rate_limits == {"externalcontact/get": 100}


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SCRM__SERVER__PORT": "eighty"}, "server.port"),
        ({"SCRM__SERVER__PORTT": "1"}, "server.portt"),
        ({"SCRM__NOPE__X": "1"}, "SCRM__NOPE__X"),
        ({"SCRM__WECOM__ENCODING_AES_KEY": "short"}, "wecom.encoding_aes_key"),
        ({"SCRM__DATABASE__URL": "mysql://x"}, "database.url"),
        ({"SCRM__REDIS__URL": "memcached://x"}, "redis.url"),
        ({"SCRM__SANDBOX__ENABLED": "maybe"}, "sandbox.enabled"),
        ({"SCRM__ADMIN__TOKENS": "short"}, "admin.tokens"),
        ({"SCRM__WECOM__API_BASE": "qyapi"}, "wecom.api_base"),
        ({"SCRM__TRACE__KEY_VERSION": "2"}, "trace.key_version"),
        ({"SCRM__TRACE__CODE_KEYS": '{"1": "too-short"}'}, "trace.code_keys"),
        ({"SCRM__TRACE__CODE_KEYS": '{"I": "' + "k" * 32 + '"}'}, "trace.code_keys"),
        ({"SCRM__TRACE__CODE_KEYS": '{"1": 7}'}, "trace.code_keys"),
        ({"SCRM__TRACE__BASE_URL": "anxin.example.com"}, "trace.base_url"),
        ({"SCRM__TRACE__PIN_KEY": "short"}, "trace.pin_key"),
        ({"SCRM__MALL__MAX_QUANTITY": "0"}, "mall.max_quantity"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_key(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(environ=env)
    message = str(caught.value)
    assert named in message and "\n" not in message


def test_missing_key_in_another_file_is_named(tmp_path: Path) -> None:
    text = DEFAULT_FILE.read_text().replace('contact_secret = "sandbox-contact-secret"\n', "")
    other = tmp_path / "prod.toml"
    other.write_text(text)
    with pytest.raises(SettingsError, match="missing setting wecom.contact_secret"):
        load_settings(environ={"SCRM_SETTINGS": str(other)})


def test_secrets_stay_out_of_repr_and_errors() -> None:
    s = load_settings(environ={"SCRM__DATABASE__URL": "postgres://u:hunter2pass@db/x"})
    text = repr(s)
    assert "hunter2pass" not in text
    assert s.wecom.contact_secret not in text and s.wecom.encoding_aes_key not in text
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={"SCRM__DATABASE__URL": "mysql://u:hunter2pass@db/x"})
    assert "database.url" in str(caught.value) and "hunter2pass" not in str(caught.value)


def test_run_py_stops_with_one_clear_line() -> None:
    result = subprocess.run(
        [sys.executable, "run.py", "migrate"], cwd=ROOT, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "SCRM__WECOM__TOKEN": "has spaces"}, timeout=60,
    )
    assert result.returncode == 2
    expected = "settings error: setting wecom.token must be 1-32 letters/digits"
    assert result.stderr.strip() == expected
