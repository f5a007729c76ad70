"""Loading a JSON or TOML config file over the seed (built-in users, consumers, clients, pages).

A config is a plain dict (see docs/devwiki.md for the format); ``load_config`` merges it over the
seed and validates it, so that mistakes fail at start-up rather than on the first request.
"""

from __future__ import annotations

import json
import time
import tomllib
from pathlib import Path
from typing import Any

from ..versions import DEFAULT_VERSION, UnknownVersion, traits
from ..wikiurls import DEFAULT_SCRIPT_PATH, ScriptPathError, check_script_path
from .clients import make_client
from .models import Consumer, User, mw_timestamp
from .oauth2_settings import OAuth2Settings
from .seed import (
    BUILTIN_CONSUMERS,
    BUILTIN_OAUTH2_CLIENTS,
    BUILTIN_PAGES,
    BUILTIN_USERS,
    DEMO_OAUTH2_REDIRECT_URI,
    JWT_VARIANTS,
)

KEYS = {
    "server", "script_path", "builtins", "consumers", "users", "pages", "jwt", "secret", "mw_version", "oauth2",
    "oauth2_clients", "clock_offset",
}  # fmt: skip


class ConfigError(ValueError):
    """The local wiki's configuration is not usable."""


def read_config_file(path: str | Path) -> dict[str, Any]:
    """Parse a ``.json`` or ``.toml`` file into a config dict."""
    path = Path(path)
    raw = path.read_bytes()
    try:
        if path.suffix.lower() == ".toml":
            return tomllib.loads(raw.decode("utf-8"))
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: not valid {path.suffix.lstrip('.').upper() or 'JSON'}: {err}") from err


def make_consumer(spec: dict[str, Any]) -> Consumer:
    try:
        return Consumer(**spec)
    except TypeError as err:
        raise ConfigError(f"consumer {spec.get('key', '?')}: {err}") from err


def make_user(spec: dict[str, Any], now: float | None = None) -> User:
    spec = dict(spec)
    if spec.get("registered", "now") in ("now", "today"):
        spec["registered"] = mw_timestamp(time.time() if now is None else now)
    try:
        user = User(**spec)
    except TypeError as err:
        raise ConfigError(f"user {spec.get('name', '?')}: {err}") from err
    user.sub = int(user.sub)
    return user


def check_variant(variant: dict[str, Any]) -> None:
    for name, value in variant.items():
        allowed = JWT_VARIANTS.get(name)
        if allowed is None or value not in allowed or type(value) is not type(allowed[0]):
            choices = ", ".join(json.dumps(a) for a in allowed or ())
            raise ConfigError(f"jwt variant {name}={value!r} unknown; choose one of: {choices or 'none'}")


def version_variant(version: str) -> dict[str, Any]:
    """The identify JWT as ``version`` sends it (the config's ``jwt`` table and ``set_variant`` override it)."""
    played = traits(version)
    return {
        "sub_type": "str",
        "grants_format": "object",
        "email_verified": played.identify_email_verified,
        "email": "always" if played.identify_email_always else "if_confirmed",
    }


def check_version(value: Any) -> str:
    try:
        return traits(str(value)).version
    except UnknownVersion as err:
        raise ConfigError(str(err)) from err


def _clock_offset(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"clock_offset must be a number of seconds, not {value!r}")
    return float(value)


def demo_site_clients(clients: list[dict[str, Any]], site_url: str) -> list[dict[str, Any]]:
    """The OAuth 2.0 clients with the demo's redirect URI moved to the demo site at ``site_url``.

    OAuth 2.0 redirect URIs are matched exactly (there is no prefix option as for OAuth 1.0a
    callbacks), so a demo site on another port than 8000 needs its client registered there.
    """
    redirect_uri = f"{site_url.rstrip('/')}/complete/mediawiki-oauth2/"
    return [
        {**client, "redirect_uri": redirect_uri} if client.get("redirect_uri") == DEMO_OAUTH2_REDIRECT_URI else client
        for client in clients
    ]


def _merged(
    seed: list[dict[str, Any]], given: list[dict[str, Any]], key: str, required: tuple[str, ...], what: str
) -> list[dict[str, Any]]:
    """``seed`` with ``given`` added; an entry with a seed entry's ``key`` replaces it."""
    merged = {str(entry[key]): entry for entry in seed}
    for entry in given:
        if not isinstance(entry, dict) or any(name not in entry for name in required):
            raise ConfigError(f"every {what} needs {' and '.join(required)}")
        merged[str(entry[key])] = entry
    return list(merged.values())


def load_config(source: dict[str, Any] | str | Path | None = None) -> dict[str, Any]:
    """Return a complete config: the seed (unless ``builtins = false``) plus ``source``."""
    given = read_config_file(source) if isinstance(source, (str, Path)) else dict(source or {})
    unknown = set(given) - KEYS
    if unknown:
        raise ConfigError(f"unknown config keys: {', '.join(sorted(unknown))}")
    seeded = given.get("builtins", True)
    jwt = dict(given.get("jwt", {}))
    check_variant(jwt)
    try:
        script_path = check_script_path(given.get("script_path", DEFAULT_SCRIPT_PATH))
    except ScriptPathError as err:
        raise ConfigError(str(err)) from err
    config = {
        "server": given.get("server"),
        "script_path": script_path,
        "mw_version": check_version(given.get("mw_version", DEFAULT_VERSION)),
        "consumers": _merged(
            BUILTIN_CONSUMERS if seeded else [], given.get("consumers", []), "key", ("key", "secret"), "consumer"
        ),
        "users": _merged(BUILTIN_USERS if seeded else [], given.get("users", []), "sub", ("sub", "name"), "user"),
        "pages": list(BUILTIN_PAGES if seeded else []) + list(given.get("pages", [])),
        "jwt": jwt,
        "secret": given.get("secret"),
        "oauth2_clients": _merged(
            BUILTIN_OAUTH2_CLIENTS if seeded else [],
            given.get("oauth2_clients", []),
            "client_id",
            ("client_id", "secret", "redirect_uri"),
            "OAuth 2.0 client",
        ),
        "oauth2": dict(given.get("oauth2", {})),
        "clock_offset": _clock_offset(given.get("clock_offset", 0)),
    }
    for spec in config["consumers"]:
        make_consumer(spec)  # validate now rather than on first request
    for spec in config["users"]:
        make_user(spec)
    try:
        for spec in config["oauth2_clients"]:
            make_client(spec)
        OAuth2Settings(**config["oauth2"])
    except (TypeError, ValueError) as err:
        raise ConfigError(f"oauth2: {err}") from err
    return config
