"""One exception tree: every public exception class of mwsso derives from ``MwssoError``, each name is used once."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path
from typing import Any

from social_core.exceptions import AuthException

import mwsso
from mwsso import exceptions
from mwsso.exceptions import LoginError, MwssoError

DOCS = Path(__file__).resolve().parent.parent / "docs"
# django-allauth's integration imports allauth, which the social-auth test site does not install;
# tests/allauth/test_exceptions.py walks it under its own settings.
SKIPPED = ("mwsso.contrib.allauth", "mwsso.migrations")


def public_exceptions(package: Any = mwsso, skipped: tuple[str, ...] = SKIPPED) -> dict[str, set[type[BaseException]]]:
    """Every public exception class defined in a module of ``package``, by name (a class re-exported elsewhere counts once)."""
    found: dict[str, set[type[BaseException]]] = {}
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if info.name.startswith(skipped):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__.startswith("mwsso.")
                and not name.startswith("_")
                and not value.__name__.startswith("_")
            ):
                found.setdefault(value.__name__, set()).add(value)
    return found


def test_every_public_exception_is_an_mwsso_error():
    found = public_exceptions()
    assert len(found) > 30  # the walk saw the API's, the sign-in's and the protocol's
    outside = sorted(
        f"{cls.__module__}.{cls.__qualname__}"
        for classes in found.values()
        for cls in classes
        if not issubclass(cls, MwssoError)
    )
    assert outside == []


def test_no_two_public_exception_classes_share_a_name():
    found = public_exceptions()
    twice = {
        name: sorted(f"{c.__module__}.{c.__qualname__}" for c in classes)
        for name, classes in found.items()
        if len(classes) > 1
    }
    assert twice == {}


def test_sign_in_failures_stay_social_core_auth_exceptions():
    # social-core's middleware and a site's own handlers catch AuthException: every sign-in failure must be one.
    assert issubclass(LoginError, AuthException) and issubclass(LoginError, MwssoError)
    for cls in public_exceptions()["LoginRefused"] | public_exceptions()["LoginWikiUnavailable"]:
        assert issubclass(cls, AuthException)


def test_the_api_exceptions_stay_where_callers_import_them():
    from mwsso import api
    from mwsso.api import errors

    for name in (
        "APIError",
        "SignInRequired",
        "TokenInvalid",
        "TokenUnusable",
        "SignInExpired",
        "WikiUnavailable",
        "BadResponse",
    ):
        assert getattr(api, name) is getattr(errors, name) is getattr(exceptions, name)
    assert issubclass(api.NoToken, MwssoError) and issubclass(api.EditConflict, api.APIError)


def test_docs_api_lists_every_public_exception():
    # Each table row's first column names one class or several (`EditConflict`, `BadToken`, …).
    first_columns = re.findall(r"^\| ([^|]+) \|", (DOCS / "api.md").read_text(), re.M)
    documented = {name for column in first_columns for name in re.findall(r"`(\w+)`", column)}
    missing = sorted(set(public_exceptions()) - documented)
    assert missing == []
