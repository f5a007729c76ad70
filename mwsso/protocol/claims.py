"""Typed readers of identify JWT claims: each returns the normalised value or raises ``InvalidIdentity``.

Pure Python. A claim is read as strictly as the database column and the page
that will hold it: a signed claim beyond them is as bad as a malformed one.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

from mwsso.protocol.errors import MwssoError

MAX_INT = 2**63 - 1
MAX_USERNAME = 255  # MediaWiki's $wgMaxNameChars
MAX_EMAIL = 254  # Django's EmailField
# Control characters are in no MediaWiki name, PostgreSQL cannot store NUL, and a lone
# surrogate (valid as a JSON escape) cannot be encoded for any database or page.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


class InvalidIdentity(MwssoError):
    """The identify response cannot be trusted; ``reason`` names the failed check."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"


def number(claims: dict[str, Any], name: str) -> float:
    value = claims[name]
    try:
        parsed = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan
    except OverflowError:  # an int no float can hold
        parsed = math.nan
    # Python's json reads NaN and Infinity; an exp of Infinity would never expire.
    if not math.isfinite(parsed):
        raise InvalidIdentity("invalid_claim", f"the identify JWT's {name!r} is not a number")
    return parsed


def sub(value: Any) -> str:
    # A number before December 2024, a string since: stored as a string either way.
    if value is False or value == "":
        # The local account is not attached to a central one: false on older wikis, "" since (string) cast.
        raise InvalidIdentity("no_central_account", "the wiki account has no central user id")
    if isinstance(value, bool):
        raise InvalidIdentity("invalid_claim", "the identify JWT's 'sub' is not a user id")
    text = value.strip() if isinstance(value, str) else ""
    if isinstance(value, int):
        number = value
    elif text.isascii() and text.isdigit() and len(text) <= len(str(MAX_INT)):
        # ASCII only: "²" is a digit to isdigit() but not to int(), and "١٢" must not become user 12.
        number = int(text)
    else:
        raise InvalidIdentity("invalid_claim", "the identify JWT's 'sub' is not a user id")
    if number == 0:
        # 0 means "no central account": every such user would share one uid.
        raise InvalidIdentity("no_central_account", "the wiki account has no central user id (sub is 0)")
    if not 0 < number <= MAX_INT:
        raise InvalidIdentity("invalid_claim", "the identify JWT's 'sub' is not a user id")
    return str(number)


def text(claims: dict[str, Any], name: str) -> str:
    value = claims[name]
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_USERNAME or _CONTROL.search(value):
        raise InvalidIdentity("invalid_claim", f"the identify JWT's {name!r} is not a user name")
    return value


def optional_text(claims: dict[str, Any], name: str, max_length: int | None = None) -> str | None:
    value = claims.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or _CONTROL.search(value) or (max_length is not None and len(value) > max_length):
        raise InvalidIdentity("invalid_claim", f"the identify JWT's {name!r} is not a plain string (or too long)")
    return value


def count(claims: dict[str, Any], name: str) -> int:
    value: object = claims[name]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INT:
        raise InvalidIdentity("invalid_claim", f"the identify JWT's {name!r} is not a count")
    return value


def flag(claims: dict[str, Any], name: str) -> bool:
    value = claims[name]
    if not isinstance(value, bool):
        raise InvalidIdentity("invalid_claim", f"the identify JWT's {name!r} is not true or false")
    return value


def strings(claims: dict[str, Any], name: str) -> tuple[str, ...]:
    value = claims[name]
    if isinstance(value, dict):
        # MediaWiki 1.39 serialises a PHP array with gaps as an object with numeric keys.
        try:
            value = [value[key] for key in sorted(value, key=int)]
        except (TypeError, ValueError) as err:
            raise InvalidIdentity("invalid_claim", f"the identify JWT's {name!r} has non-numeric keys") from err
    if not isinstance(value, list) or not all(isinstance(item, str) and not _CONTROL.search(item) for item in value):
        raise InvalidIdentity("invalid_claim", f"the identify JWT's {name!r} is not a list of names")
    return tuple(value)


def registered(value: Any) -> datetime | None:
    # Accounts created before 2005 have no registration date.
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != 14 or not value.isdigit():
        raise InvalidIdentity("invalid_claim", "the identify JWT's 'registered' is not a MediaWiki timestamp")
    try:
        return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError as err:
        raise InvalidIdentity("invalid_claim", "the identify JWT's 'registered' is not a valid date") from err
