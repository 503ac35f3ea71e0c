"""Settings: `settings.toml` (or the file named by env SCRM_SETTINGS) plus env overrides.

Key names are a contract: deployments set `SCRM__<SECTION>__<KEY>` and tools read the
TOML. Every value is checked at start; a bad or missing one raises `SettingsError`
with one line naming the key. Secrets never appear in `repr()` or logs.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILE = ROOT / "settings.toml"
ENV_FILE = "SCRM_SETTINGS"
ENV_PREFIX = "SCRM__"


class SettingsError(Exception):
    """A setting is missing or wrong; the message names the key in one line."""


def _secret() -> Any:
    return field(repr=False)


@dataclass(frozen=True)
class ServerSettings:
    host: str
    port: int
    public_url: str

    @property
    def base_url(self) -> str:
        return self.public_url.rstrip("/") or f"http://{self.host}:{self.port}"


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = _secret()

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite:")


@dataclass(frozen=True)
class RedisSettings:
    url: str = _secret()


@dataclass(frozen=True)
class QueueSettings:
    max_attempts: int
    retry_base_seconds: float
    retry_max_seconds: float
    lease_seconds: int
    sweep_interval_seconds: float
    concurrency: int


@dataclass(frozen=True)
class WeComSettings:
    corp_id: str
    token: str = _secret()
    encoding_aes_key: str = _secret()
    contact_secret: str = _secret()
    api_base: str = "https://qyapi.weixin.qq.com"
    callback_max_age_seconds: int = 300
    rate_limit_per_minute: int = 10000
    rate_limits: Mapping[str, int] = field(default_factory=dict)
    busy_retries: int = 5
    busy_backoff_seconds: float = 1.0
    request_timeout_seconds: float = 10.0
    # The self-built app that sends app messages (message/send) to staff.
    agent_id: int = 0
    agent_secret: str = field(default="", repr=False)


@dataclass(frozen=True)
class MiniAppSettings:
    appid: str
    secret: str = _secret()
    api_base: str = "https://api.weixin.qq.com"


@dataclass(frozen=True)
class AdminSettings:
    tokens: tuple[str, ...] = _secret()


@dataclass(frozen=True)
class SandboxSettings:
    enabled: bool
    host: str
    port: int
    callback_url: str
    delivery_timeout_seconds: float
    delivery_retries: int
    token_expires_in: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


@dataclass(frozen=True)
class ChannelSettings:
    rotate_interval_seconds: float


@dataclass(frozen=True)
class SopSettings:
    """Group SOP pushes; `receive_limit`: see `handlers.sop_limits.parse_receive_limit`."""

    tick_seconds: float
    grace_seconds: int
    missed_lookback_days: int
    receive_limit: str
    push_calls_per_second: int
    confirm_hours: int
    remind_after_minutes: int
    remind_every_minutes: int
    poll_every_seconds: int


@dataclass(frozen=True)
class LevelSettings:
    """One member level (V1–V5): reached at `growth`, with its benefits."""

    name: str
    growth: int
    points_multiplier: float
    birthday_gift_points: int
    benefits: tuple[str, ...]


@dataclass(frozen=True)
class MemberSettings:
    session_days: int
    # AES-256-GCM key (base64 of 32 bytes) for phone numbers and WeChat session keys.
    data_key: str = field(repr=False)
    # HMAC key for the phone lookup hash (≥ 16 characters).
    lookup_key: str = field(repr=False)
    login_per_minute: int = 30
    notify_guide_on_upgrade: bool = True
    levels: tuple[LevelSettings, ...] = ()


@dataclass(frozen=True)
class PointsSettings:
    expire_after_days: int
    expiring_soon_days: int
    first_guide_add: int
    checkin_daily: int
    # Extra points on the Nth consecutive day, e.g. {"7" = 20, "30" = 100}.
    checkin_streak_bonus: Mapping[str, int]
    per_yuan: float
    birthday_month_bonus: int
    scan_first_verification: int


@dataclass(frozen=True)
class MallSettings:
    # Units one redemption may ask for.
    max_quantity: int
    # A shipped order the member has not confirmed completes this many days later.
    auto_complete_days: int


@dataclass(frozen=True)
class TraceSettings:
    # Where codes resolve: the scheme and domain (and optional path prefix) printed in
    # every 安心码 URI; its path /01/… is served by this app's public scan page.
    base_url: str
    # Serial signing keys by version (one Crockford character), each ≥ 32 characters;
    # new codes take `key_version`. Keep an old key while codes signed with it are out.
    code_keys: Mapping[str, str] = field(repr=False)
    key_version: str
    # HMAC key of the scratch PINs (≥ 32 characters).
    pin_key: str = field(repr=False)
    pin_max_attempts: int = 5
    # A code verified more often than this is answered with a warning.
    warn_after_verifications: int = 3
    # A code scanned in this many cities or more within the window is suspicious.
    suspicious_cities: int = 3
    suspicious_window_hours: int = 24
    # Failed verifications one client may make per minute (then 429).
    failed_scans_per_minute: int = 20
    # The request header a CDN or gateway puts the client's city in (the web page).
    city_header: str = "X-Client-City"
    # Guides of a product's "add your guide" channel when its creation names none.
    default_guides: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settings:
    server: ServerSettings
    database: DatabaseSettings
    redis: RedisSettings
    queue: QueueSettings
    wecom: WeComSettings
    miniapp: MiniAppSettings
    admin: AdminSettings
    sandbox: SandboxSettings
    channels: ChannelSettings
    sop: SopSettings
    members: MemberSettings
    points: PointsSettings
    mall: MallSettings
    trace: TraceSettings

    @property
    def wecom_api_base(self) -> str:
        """Where WeCom API calls go: the in-process sandbox when enabled, else api_base."""
        return self.sandbox.base_url if self.sandbox.enabled else self.wecom.api_base

    @property
    def miniapp_api_base(self) -> str:
        return self.sandbox.base_url if self.sandbox.enabled else self.miniapp.api_base

    @property
    def callback_url(self) -> str:
        return self.sandbox.callback_url or f"{self.server.base_url}/wecom/callback"


_SECTIONS: dict[str, type] = {
    "server": ServerSettings,
    "database": DatabaseSettings,
    "redis": RedisSettings,
    "queue": QueueSettings,
    "wecom": WeComSettings,
    "miniapp": MiniAppSettings,
    "admin": AdminSettings,
    "sandbox": SandboxSettings,
    "channels": ChannelSettings,
    "sop": SopSettings,
    "members": MemberSettings,
    "points": PointsSettings,
    "mall": MallSettings,
    "trace": TraceSettings,
}

# Settings that are lists of tables ([[members.levels]]): the type of each table.
_TABLE_LISTS: dict[str, type] = {"tuple[LevelSettings, ...]": LevelSettings}


def load_settings(
    path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read the TOML file, apply env overrides, coerce and validate every key."""
    env = os.environ if environ is None else environ
    file = Path(path or env.get(ENV_FILE) or DEFAULT_FILE)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"settings file {file} not found (env {ENV_FILE})") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"settings file {file} is not valid TOML: {exc}") from None
    for name, value in env.items():
        if name.startswith(ENV_PREFIX):
            _apply_override(raw, name, value)
    sections = {name: _build_section(name, cls, raw.get(name)) for name, cls in _SECTIONS.items()}
    unknown = set(raw) - set(_SECTIONS)
    if unknown:
        raise SettingsError(f"unknown settings section [{sorted(unknown)[0]}]")
    settings = Settings(**sections)
    _validate(settings)
    return settings


def _apply_override(raw: dict[str, Any], name: str, value: str) -> None:
    parts = name[len(ENV_PREFIX) :].lower().split("__")
    if len(parts) != 2 or parts[0] not in _SECTIONS:
        raise SettingsError(f"env {name}: expected SCRM__<SECTION>__<KEY> with a known section")
    section, key = parts
    known = {f.name for f in fields(_SECTIONS[section])}
    if key not in known:
        raise SettingsError(f"env {name}: unknown key {section}.{key}")
    raw.setdefault(section, {})[key] = _EnvValue(value)


class _EnvValue(str):
    """A string from the environment, to be coerced to the key's declared type."""


def _build_section(name: str, cls: type, values: Any) -> Any:
    if not isinstance(values, dict):
        raise SettingsError(f"settings section [{name}] is missing")
    kwargs: dict[str, Any] = {}
    declared = {f.name: f for f in fields(cls)}
    for key in values:
        if key not in declared:
            raise SettingsError(f"unknown setting {name}.{key}")
    for key, spec in declared.items():
        if key not in values:
            raise SettingsError(f"missing setting {name}.{key}")
        kwargs[key] = _coerce(f"{name}.{key}", spec.type, values[key])
    return cls(**kwargs)


def _coerce(key: str, type_name: Any, value: Any) -> Any:
    type_name = str(type_name)
    from_env = isinstance(value, _EnvValue)
    try:
        if type_name == "bool":
            if from_env:
                lowered = value.strip().lower()
                if lowered not in {"true", "false", "1", "0", "yes", "no"}:
                    raise ValueError
                return lowered in {"true", "1", "yes"}
            if not isinstance(value, bool):
                raise ValueError
            return value
        if type_name == "int":
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        if type_name == "float":
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if type_name == "str":
            if not isinstance(value, str):
                raise ValueError
            return str(value)
        if type_name in _TABLE_LISTS:
            tables = json.loads(value) if from_env else value
            if not isinstance(tables, list):
                raise ValueError
            return tuple(_build_section(f"{key}[{i}]", _TABLE_LISTS[type_name], table)
                         for i, table in enumerate(tables))
        if type_name.startswith("tuple"):
            items = _parse_list(value) if from_env else value
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise ValueError
            return tuple(items)
        if type_name.startswith("Mapping"):
            table = json.loads(value) if from_env else value
            if not isinstance(table, dict):
                raise ValueError
            if type_name == "Mapping[str, str]":
                if not all(isinstance(v, str) for v in table.values()):
                    raise ValueError
                return {str(k): v for k, v in table.items()}
            return {str(k): int(v) for k, v in table.items()}
    except (ValueError, TypeError):
        pass
    secret = any(word in key for word in ("secret", "token", "key", "url"))
    shown = "" if secret else f", got {value!r}"
    raise SettingsError(f"setting {key} must be {_describe(type_name)}{shown}")


def _parse_list(value: str) -> Any:
    value = value.strip()
    if value.startswith("["):
        return json.loads(value)
    return [item.strip() for item in value.split(",") if item.strip()]


def _describe(type_name: str) -> str:
    return {
        "bool": "true or false",
        "int": "an integer",
        "float": "a number",
        "str": "a string",
    }.get(type_name, "a list of strings" if type_name.startswith("tuple") else "a table")


# Crockford Base32: the alphabet of 安心码 serials (handlers/trace_serials.py).
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_AES_KEY = re.compile(r"[A-Za-z0-9]{43}")
_TOKEN = re.compile(r"[A-Za-z0-9]{1,32}")
_RECEIVE_LIMIT = re.compile(r"days_in_month|[1-9][0-9]{0,3}/(month|week|day)")


def _validate_trace(t: TraceSettings, check: Callable[[bool, str], None]) -> None:
    parts = urlsplit(t.base_url)
    check(parts.scheme in {"http", "https"} and bool(parts.netloc) and not parts.query,
          "setting trace.base_url must be an http(s) URL, e.g. https://anxin.example.com")
    check(bool(t.code_keys) and all(len(v) == 1 and v in CROCKFORD for v in t.code_keys),
          "setting trace.code_keys: versions are single characters 0-9 or A-Z but I, L, O, U")
    check(all(len(key) >= 32 for key in t.code_keys.values()),
          "setting trace.code_keys: each key needs >= 32 characters")
    check(t.key_version in t.code_keys, "setting trace.key_version must name a key of "
                                        "trace.code_keys")
    check(len(t.pin_key) >= 32, "setting trace.pin_key needs >= 32 characters")
    for name in ("pin_max_attempts", "warn_after_verifications", "suspicious_cities",
                 "suspicious_window_hours", "failed_scans_per_minute"):
        check(getattr(t, name) >= 1, f"setting trace.{name} must be >= 1")


def _is_aes_key(text: str) -> bool:
    try:
        return len(base64.b64decode(text, validate=True)) == 32
    except (ValueError, binascii.Error):
        return False


def _validate(s: Settings) -> None:
    def check(ok: bool, message: str) -> None:
        if not ok:
            raise SettingsError(message)

    check(1 <= s.server.port <= 65535, "setting server.port must be 1..65535")
    check(1 <= s.sandbox.port <= 65535, "setting sandbox.port must be 1..65535")
    check(
        s.database.url.startswith(("sqlite://", "postgres://", "postgresql://")),
        "setting database.url must start with sqlite:// or postgres://",
    )
    check(
        s.redis.url == "" or s.redis.url.startswith(("redis://", "rediss://", "unix://")),
        "setting redis.url must be empty (in-process) or a redis:// URL",
    )
    check(bool(s.wecom.corp_id), "setting wecom.corp_id is empty")
    check(bool(_TOKEN.fullmatch(s.wecom.token)), "setting wecom.token must be 1-32 letters/digits")
    check(
        bool(_AES_KEY.fullmatch(s.wecom.encoding_aes_key)),
        "setting wecom.encoding_aes_key must be exactly 43 letters/digits",
    )
    check(bool(s.wecom.contact_secret), "setting wecom.contact_secret is empty")
    for key, url in (
        ("wecom.api_base", s.wecom.api_base),
        ("miniapp.api_base", s.miniapp.api_base),
    ):
        parts = urlsplit(url)
        check(parts.scheme in {"http", "https"} and bool(parts.netloc),
              f"setting {key} must be an http(s) URL")
    check(s.wecom.callback_max_age_seconds > 0,
          "setting wecom.callback_max_age_seconds must be > 0")
    check(s.wecom.rate_limit_per_minute > 0, "setting wecom.rate_limit_per_minute must be > 0")
    check(s.queue.max_attempts >= 1, "setting queue.max_attempts must be >= 1")
    check(s.queue.lease_seconds > 0, "setting queue.lease_seconds must be > 0")
    check(s.queue.concurrency >= 1, "setting queue.concurrency must be >= 1")
    check(s.channels.rotate_interval_seconds > 0,
          "setting channels.rotate_interval_seconds must be > 0")
    check(s.sop.tick_seconds > 0, "setting sop.tick_seconds must be > 0")
    check(s.sop.grace_seconds >= 0, "setting sop.grace_seconds must be >= 0")
    check(s.sop.missed_lookback_days >= 1, "setting sop.missed_lookback_days must be >= 1")
    check(_RECEIVE_LIMIT.fullmatch(s.sop.receive_limit) is not None,
          "setting sop.receive_limit must be days_in_month or N/month, N/week, N/day")
    check(s.sop.push_calls_per_second >= 1, "setting sop.push_calls_per_second must be >= 1")
    check(s.sop.confirm_hours >= 1, "setting sop.confirm_hours must be >= 1")
    check(s.sop.poll_every_seconds >= 1, "setting sop.poll_every_seconds must be >= 1")
    check(s.members.session_days >= 1, "setting members.session_days must be >= 1")
    check(_is_aes_key(s.members.data_key),
          "setting members.data_key must be base64 of 32 bytes (AES-256)")
    check(len(s.members.lookup_key) >= 16, "setting members.lookup_key needs >= 16 characters")
    check(s.members.login_per_minute >= 1, "setting members.login_per_minute must be >= 1")
    levels = s.members.levels
    check(len(levels) >= 1 and levels[0].growth == 0,
          "setting members.levels: at least one level, the first at growth 0")
    check(all(a.growth < b.growth for a, b in zip(levels, levels[1:], strict=False)),
          "setting members.levels: growth thresholds must increase")
    check(all(level.points_multiplier > 0 for level in levels),
          "setting members.levels: points_multiplier must be > 0")
    check(s.points.expire_after_days >= 1, "setting points.expire_after_days must be >= 1")
    check(all(k.isdigit() and int(k) >= 2 for k in s.points.checkin_streak_bonus),
          "setting points.checkin_streak_bonus: keys are streak lengths (>= 2)")
    _validate_trace(s.trace, check)
    check(s.mall.max_quantity >= 1, "setting mall.max_quantity must be >= 1")
    check(s.mall.auto_complete_days >= 1, "setting mall.auto_complete_days must be >= 1")
    check(s.sandbox.delivery_retries >= 0, "setting sandbox.delivery_retries must be >= 0")
    check(all(len(t) >= 16 for t in s.admin.tokens),
          "setting admin.tokens: each token needs >= 16 characters")
