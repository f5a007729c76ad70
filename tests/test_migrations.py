"""No model change without its migration, for mwsso and the demo project (tests/allauth has the provider's)."""

from __future__ import annotations

import pytest

from tests.migrations_check import assert_no_missing_migrations, own_app_labels

pytestmark = pytest.mark.django_db


def test_makemigrations_check_finds_nothing() -> None:
    labels = own_app_labels()
    assert {"mwsso", "project"} <= set(labels)
    assert_no_missing_migrations(labels)
