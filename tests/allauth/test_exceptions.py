"""The django-allauth integration's exceptions belong to the one tree too (walked under the allauth site's settings)."""

from __future__ import annotations

from mwsso.contrib import allauth
from mwsso.exceptions import MwssoError
from tests.test_exceptions import public_exceptions


def test_allauth_exceptions_are_mwsso_errors_with_names_of_their_own():
    found = public_exceptions(allauth, skipped=("mwsso.contrib.allauth.migrations",))
    outside = sorted(n for n, classes in found.items() for cls in classes if not issubclass(cls, MwssoError))
    assert outside == []
    core = public_exceptions()
    assert sorted(n for n, classes in found.items() if len(classes | core.get(n, set())) > 1) == []
