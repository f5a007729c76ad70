"""Who may sign in: pure rules over the identity a wiki vouched for.

No settings or models here (only Django's gettext, so that a refusal reads in
the person's language): each rule takes the identity, its threshold and (for the age
rule) the clock as arguments, and returns a ``Denial`` or None, so every rule
can be tested alone with a fake clock. ``mwsso.policy`` reads the settings and
runs these inside the social-auth pipeline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from mwsso.protocol.identity import Identity

BLOCKED_USERS_CHOICES = ("deny", "allow")


@dataclass(frozen=True)
class Denial:
    """One unmet rule: ``rule`` is a stable code (for logs and tests), ``message`` is for the person."""

    rule: str
    message: str


@dataclass(frozen=True)
class Policy:
    """The built-in rules' thresholds; the defaults let everyone in except blocked users."""

    blocked_users: str = "deny"
    min_editcount: int = 0
    min_account_age_days: int = 0
    require_confirmed_email: bool = False
    required_grants: tuple[str, ...] = ()


def wiki_name(issuer: str) -> str:
    """How a wiki is named to people: its host (``en.wikipedia.org``), not its full URL."""
    return urlsplit(issuer).netloc or issuer


def _days(count: int) -> str:
    return ngettext("%(count)d day", "%(count)d days", count) % {"count": count}


def blocked(identity: Identity, blocked_users: str = "deny") -> Denial | None:
    if identity.blocked and blocked_users != "allow":
        return Denial("blocked", _("Your account is blocked on %(wiki)s.") % {"wiki": wiki_name(identity.issuer)})
    return None


def min_editcount(identity: Identity, minimum: int) -> Denial | None:
    if identity.editcount >= minimum:
        return None
    message = ngettext(
        "You need at least %(minimum)d edit on %(wiki)s; you have %(count)d.",
        "You need at least %(minimum)d edits on %(wiki)s; you have %(count)d.",
        minimum,
    )
    return Denial(
        "min_editcount", message % {"minimum": minimum, "wiki": wiki_name(identity.issuer), "count": identity.editcount}
    )


def min_account_age(identity: Identity, days: int, now: datetime) -> Denial | None:
    # Accounts older than 2005 have no registration date: they are as old as accounts get.
    if days <= 0 or identity.registered is None:
        return None
    age = now - identity.registered
    if age >= timedelta(days=days):
        return None
    whole_days = max(age.days, 0)
    current = _("less than a day") if whole_days == 0 else _days(whole_days)
    message = _("Your account on %(wiki)s must be at least %(required)s old; it is %(current)s old.")
    return Denial(
        "min_account_age", message % {"wiki": wiki_name(identity.issuer), "required": _days(days), "current": current}
    )


def confirmed_email(identity: Identity, required: bool) -> Denial | None:
    if not required or identity.confirmed_email:
        return None
    message = _("You need a confirmed email address on %(wiki)s (set one in your preferences there and confirm it).")
    return Denial("confirmed_email", message % {"wiki": wiki_name(identity.issuer)})


def required_grants(identity: Identity, grants: Iterable[str]) -> Denial | None:
    # A wiki too old to list grants in identify lists none: the rule then refuses (fail closed).
    missing = [grant for grant in grants if grant not in identity.grants]
    if not missing:
        return None
    message = _("This site needs permissions you have not granted it on %(wiki)s: %(grants)s.")
    return Denial("required_grants", message % {"wiki": wiki_name(identity.issuer), "grants": ", ".join(missing)})


def denials(identity: Identity, policy: Policy, now: datetime) -> list[Denial]:
    """Every unmet built-in rule, in a fixed order; empty when the identity may sign in.

    A block is reported alone: the other rules do not matter while it lasts.
    """
    block = blocked(identity, policy.blocked_users)
    if block is not None:
        return [block]
    found = [
        min_editcount(identity, policy.min_editcount),
        min_account_age(identity, policy.min_account_age_days, now),
        confirmed_email(identity, policy.require_confirmed_email),
        required_grants(identity, policy.required_grants),
    ]
    return [refusal for refusal in found if refusal is not None]


def denial_message(found: Iterable[Denial]) -> str:
    """The denials as one text for the error page (each message is a full sentence)."""
    return " ".join(refusal.message for refusal in found)
