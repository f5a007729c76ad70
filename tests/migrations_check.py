"""``makemigrations --check``: the models of our own apps and their migrations say the same."""

from __future__ import annotations

import io

import pytest
from django.apps import apps
from django.core.management import call_command

# Ours (the app, the demo project, the allauth provider); a third-party app's migrations are its own affair.
OWN = ("mwsso", "project")


def own_app_labels() -> list[str]:
    return [config.label for config in apps.get_app_configs() if config.name.split(".")[0] in OWN]


def assert_no_missing_migrations(labels: list[str]) -> None:
    out = io.StringIO()
    try:
        call_command("makemigrations", *labels, check=True, dry_run=True, interactive=False, stdout=out, stderr=out)
    except SystemExit as exit_:
        # --check exits 1 when a model changed without its migration; the dry run names it.
        pytest.fail(
            f"makemigrations --check found changes (exit {exit_.code}); run manage.py makemigrations:\n{out.getvalue()}"
        )
    assert "No changes detected" in out.getvalue(), out.getvalue()
