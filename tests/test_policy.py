"""The access rules (pure, fake clock), the policy built from settings, the hook, and the settings' system checks."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core import checks
from django.test.utils import isolate_apps

from mwsso import policy
from mwsso.checks.config import check_policy_settings, user_model_policy_checks
from mwsso.policy import rules
from mwsso.policy.rules import Denial, Policy
from mwsso.protocol.identity import Identity

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
WIKI = "https://en.wikipedia.org"


def identity(**changes: object) -> Identity:
    base = Identity(
        sub="3",
        username="Alice",
        issuer=WIKI,
        editcount=1234,
        confirmed_email=True,
        blocked=False,
        registered=datetime(2015, 3, 1, 12, 0, tzinfo=UTC),
        groups=("*", "user", "autoconfirmed"),
        rights=("read", "edit"),
        grants=("basic", "editpage"),
    )
    return replace(base, **changes)


# --- each rule alone -------------------------------------------------------------


def test_wiki_name_is_the_host():
    assert rules.wiki_name("https://en.wikipedia.org") == "en.wikipedia.org"
    assert rules.wiki_name("http://127.0.0.1:8001") == "127.0.0.1:8001"
    assert rules.wiki_name("not a url") == "not a url"


def test_blocked_user_is_refused_by_default_naming_the_wiki():
    assert rules.blocked(identity(blocked=True)) == Denial("blocked", "Your account is blocked on en.wikipedia.org.")
    assert rules.blocked(identity(blocked=True), "deny") is not None


def test_blocked_user_is_let_in_when_allowed():
    assert rules.blocked(identity(blocked=True), "allow") is None


def test_unblocked_user_passes_the_block_rule():
    assert rules.blocked(identity(blocked=False), "deny") is None


def test_min_editcount_names_the_threshold_and_the_count():
    assert rules.min_editcount(identity(editcount=12), 100) == Denial(
        "min_editcount", "You need at least 100 edits on en.wikipedia.org; you have 12."
    )
    assert (
        rules.min_editcount(identity(editcount=0), 1).message
        == "You need at least 1 edit on en.wikipedia.org; you have 0."
    )


def test_min_editcount_boundary():
    assert rules.min_editcount(identity(editcount=100), 100) is None
    assert rules.min_editcount(identity(editcount=99), 100) is not None
    assert rules.min_editcount(identity(editcount=0), 0) is None


def test_account_age_boundary_with_a_fake_clock():
    registered = NOW - timedelta(days=30)
    assert rules.min_account_age(identity(registered=registered), 30, NOW) is None
    young = rules.min_account_age(identity(registered=registered + timedelta(seconds=1)), 30, NOW)
    assert young == Denial(
        "min_account_age", "Your account on en.wikipedia.org must be at least 30 days old; it is 29 days old."
    )


def test_account_age_wording_for_new_accounts():
    today = rules.min_account_age(identity(registered=NOW - timedelta(hours=3)), 1, NOW)
    assert today is not None
    assert today.message == "Your account on en.wikipedia.org must be at least 1 day old; it is less than a day old."
    one_day = rules.min_account_age(identity(registered=NOW - timedelta(days=1, hours=1)), 7, NOW)
    assert one_day is not None and one_day.message.endswith("it is 1 day old.")


def test_account_registered_in_the_future_counts_as_brand_new():
    refusal = rules.min_account_age(identity(registered=NOW + timedelta(minutes=5)), 1, NOW)
    assert refusal is not None and refusal.message.endswith("it is less than a day old.")


def test_account_without_registration_date_counts_as_old():
    assert rules.min_account_age(identity(registered=None), 10_000, NOW) is None


def test_account_age_rule_off_at_zero():
    assert rules.min_account_age(identity(registered=NOW), 0, NOW) is None


def test_confirmed_email():
    assert rules.confirmed_email(identity(confirmed_email=False), False) is None
    assert rules.confirmed_email(identity(confirmed_email=True), True) is None
    refusal = rules.confirmed_email(identity(confirmed_email=False), True)
    assert refusal is not None and refusal.rule == "confirmed_email"
    assert refusal.message.startswith("You need a confirmed email address on en.wikipedia.org")


def test_required_grants_lists_only_the_missing_ones():
    assert rules.required_grants(identity(), ["editpage"]) is None
    assert rules.required_grants(identity(), []) is None
    refusal = rules.required_grants(identity(), ["editpage", "createeditmovepage", "uploadfile"])
    assert refusal == Denial(
        "required_grants",
        "This site needs permissions you have not granted it on en.wikipedia.org: createeditmovepage, uploadfile.",
    )


def test_required_grants_refuse_a_wiki_that_lists_no_grants():
    assert rules.required_grants(identity(grants=()), ["basic"]) is not None


# --- rules together --------------------------------------------------------------


def test_default_policy_lets_an_ordinary_user_in():
    assert rules.denials(identity(), Policy(), NOW) == []
    assert rules.denials(identity(editcount=0, confirmed_email=False, registered=NOW, grants=()), Policy(), NOW) == []


def test_every_unmet_rule_is_reported_in_order():
    strict = Policy(
        min_editcount=100, min_account_age_days=30, require_confirmed_email=True, required_grants=("editpage",)
    )
    newbie = identity(editcount=0, confirmed_email=False, registered=NOW - timedelta(hours=1), grants=("basic",))
    found = rules.denials(newbie, strict, NOW)
    assert [r.rule for r in found] == ["min_editcount", "min_account_age", "confirmed_email", "required_grants"]
    assert rules.denial_message(found) == " ".join(r.message for r in found)


def test_only_the_unmet_rules_are_reported():
    strict = Policy(min_editcount=100, min_account_age_days=30, require_confirmed_email=True)
    found = rules.denials(identity(editcount=5), strict, NOW)
    assert found == [rules.min_editcount(identity(editcount=5), 100)]


def test_a_block_is_reported_alone():
    strict = Policy(min_editcount=100, require_confirmed_email=True)
    found = rules.denials(identity(blocked=True, editcount=0, confirmed_email=False), strict, NOW)
    assert [r.rule for r in found] == ["blocked"]


def test_allowed_blocked_user_still_meets_the_other_rules():
    found = rules.denials(identity(blocked=True, editcount=3), Policy(blocked_users="allow", min_editcount=10), NOW)
    assert [r.rule for r in found] == ["min_editcount"]


# --- the policy from settings, and the site's hook ------------------------------

HOOK_CALLS: list[Identity] = []


def refuse_bob(identity: Identity) -> str | None:
    HOOK_CALLS.append(identity)
    return "Bob may not use this tool." if identity.username == "Bob" else None


def broken_hook(identity: Identity) -> str | None:
    raise RuntimeError("the hook's database is down")


def wrong_type_hook(identity: Identity) -> bool:
    return True


NOT_CALLABLE = 42


@pytest.fixture(autouse=True)
def _clear_hook_calls():
    HOOK_CALLS.clear()


def test_current_policy_reads_the_settings(settings):
    assert policy.current_policy() == Policy()
    settings.MWSSO_BLOCKED_USERS = "allow"
    settings.MWSSO_MIN_EDITCOUNT = 50
    settings.MWSSO_MIN_ACCOUNT_AGE_DAYS = 7
    settings.MWSSO_REQUIRE_CONFIRMED_EMAIL = True
    settings.MWSSO_REQUIRED_GRANTS = ["editpage"]
    assert policy.current_policy() == Policy("allow", 50, 7, True, ("editpage",))


def test_refusal_reason_from_settings(settings):
    assert policy.denial_reason(identity(blocked=True), NOW) == "Your account is blocked on en.wikipedia.org."
    assert policy.denial_reason(identity(), NOW) is None
    settings.MWSSO_MIN_EDITCOUNT = 2000
    assert policy.denial_reason(identity(), NOW) == "You need at least 2000 edits on en.wikipedia.org; you have 1234."


def test_hook_refuses_with_its_reason(settings):
    settings.MWSSO_ELIGIBILITY_CHECK = "tests.test_policy.refuse_bob"
    bob = identity(username="Bob", sub="4")
    assert policy.denials(bob, NOW) == [Denial("eligibility_check", "Bob may not use this tool.")]
    assert policy.denials(identity(), NOW) == []
    assert HOOK_CALLS == [bob, identity()]


def test_hook_runs_only_when_the_built_in_rules_pass(settings):
    settings.MWSSO_ELIGIBILITY_CHECK = "tests.test_policy.refuse_bob"
    settings.MWSSO_MIN_EDITCOUNT = 5000
    assert [r.rule for r in policy.denials(identity(username="Bob"), NOW)] == ["min_editcount"]
    assert HOOK_CALLS == []


@pytest.mark.parametrize("path", ["tests.test_policy.broken_hook", "tests.test_policy.wrong_type_hook"])
def test_a_failing_hook_refuses_and_logs(settings, caplog, path):
    settings.MWSSO_ELIGIBILITY_CHECK = path
    with caplog.at_level(logging.ERROR, logger="mwsso.login"):
        assert policy.denials(identity(), NOW) == [policy.HOOK_FAILED]
    assert "MWSSO_ELIGIBILITY_CHECK failed for wiki user 3" in caplog.text


def test_mapped_groups():
    group_map = {"sysop": "Wiki admins", "bureaucrat": "Wiki admins", "autoconfirmed": "Editors"}
    assert policy.mapped_groups(["*", "user", "sysop", "bureaucrat"], group_map) == {"Wiki admins"}
    assert policy.mapped_groups(["autoconfirmed", "sysop"], group_map) == {"Wiki admins", "Editors"}
    assert policy.mapped_groups(["user"], group_map) == set()


# --- system checks ----------------------------------------------------------------


def test_default_settings_pass_the_checks():
    assert check_policy_settings() == []


def test_hook_that_cannot_be_imported(settings):
    settings.MWSSO_ELIGIBILITY_CHECK = "tests.test_policy.no_such_function"
    assert check_policy_settings() == [
        checks.Error(
            "MWSSO_ELIGIBILITY_CHECK 'tests.test_policy.no_such_function' cannot be imported (ImportError: "
            'Module "tests.test_policy" does not define a "no_such_function" attribute/class).',
            hint="Give the dotted path of a function check(identity) -> None | str, e.g. 'mysite.policy.check'.",
            id="mwsso.E010",
        )
    ]
    settings.MWSSO_ELIGIBILITY_CHECK = "no_such_module_anywhere.check"
    [error] = check_policy_settings()
    assert error.id == "mwsso.E010" and "ModuleNotFoundError" in error.msg


def test_hook_that_is_not_callable(settings):
    settings.MWSSO_ELIGIBILITY_CHECK = "tests.test_policy.NOT_CALLABLE"
    assert check_policy_settings() == [
        checks.Error(
            "MWSSO_ELIGIBILITY_CHECK 'tests.test_policy.NOT_CALLABLE' is not callable.",
            hint="It must name a function check(identity) -> None | str.",
            id="mwsso.E011",
        )
    ]


def test_a_good_hook_passes_the_checks(settings):
    settings.MWSSO_ELIGIBILITY_CHECK = "tests.test_policy.refuse_bob"
    assert check_policy_settings() == []


@pytest.mark.parametrize("value", [-1, "100", 1.5, True])
def test_thresholds_must_be_whole_numbers(settings, value):
    settings.MWSSO_MIN_EDITCOUNT = value
    settings.MWSSO_MIN_ACCOUNT_AGE_DAYS = value
    hint = "The default, 0, disables the rule."
    assert check_policy_settings() == [
        checks.Error("MWSSO_MIN_EDITCOUNT must be a whole number, 0 or more.", hint=hint, id="mwsso.E012"),
        checks.Error("MWSSO_MIN_ACCOUNT_AGE_DAYS must be a whole number, 0 or more.", hint=hint, id="mwsso.E012"),
    ]


def test_name_lists_must_be_lists(settings):
    settings.MWSSO_REQUIRED_GRANTS = "editpage"
    settings.MWSSO_STAFF_GROUPS = "sysop"
    settings.MWSSO_SUPERUSER_GROUPS = ["sysop", 3]
    assert check_policy_settings() == [
        checks.Error(
            "MWSSO_REQUIRED_GRANTS must be a list of names.",
            hint='Write a list even for one name: MWSSO_REQUIRED_GRANTS = ["editpage"].',
            id="mwsso.E013",
        ),
        checks.Error(
            "MWSSO_STAFF_GROUPS must be a list of names.",
            hint='Write a list even for one name: MWSSO_STAFF_GROUPS = ["sysop"].',
            id="mwsso.E013",
        ),
        checks.Error(
            "MWSSO_SUPERUSER_GROUPS must be a list of names.",
            hint='Write a list even for one name: MWSSO_SUPERUSER_GROUPS = ["sysop"].',
            id="mwsso.E013",
        ),
    ]


@pytest.mark.parametrize("value", [["sysop"], {"sysop": ""}, {"sysop": ["Admins"]}, {"": "Admins"}])
def test_group_map_must_map_names_to_names(settings, value):
    settings.MWSSO_GROUP_MAP = value
    assert check_policy_settings() == [
        checks.Error(
            "MWSSO_GROUP_MAP must map wiki group names to Django group names.",
            hint='For example {"sysop": "Wiki admins", "bureaucrat": "Wiki admins"}.',
            id="mwsso.E014",
        )
    ]


def test_group_settings_pass_when_well_formed(settings):
    settings.MWSSO_GROUP_MAP = {"sysop": "Wiki admins", "bureaucrat": "Wiki admins"}
    settings.MWSSO_STAFF_GROUPS = ["sysop"]
    settings.MWSSO_SUPERUSER_GROUPS = ["sysop"]
    settings.MWSSO_REQUIRED_GRANTS = ["editpage"]
    assert check_policy_settings() == []


def test_superusers_who_are_not_staff_are_warned_about(settings):
    settings.MWSSO_SUPERUSER_GROUPS = ["bureaucrat", "sysop"]
    settings.MWSSO_STAFF_GROUPS = ["sysop"]
    assert check_policy_settings() == [
        checks.Warning(
            "Wiki groups ['bureaucrat'] make users superusers but not staff: they cannot sign in to the admin.",
            hint="Add them to MWSSO_STAFF_GROUPS too, unless superusers should stay out of the admin.",
            id="mwsso.W010",
        )
    ]


def test_user_model_without_the_fields(settings):
    settings.MWSSO_GROUP_MAP = {"sysop": "Wiki admins"}
    settings.MWSSO_STAFF_GROUPS = ["sysop"]
    settings.MWSSO_SUPERUSER_GROUPS = ["sysop"]
    assert user_model_policy_checks(get_user_model()) == []
    with isolate_apps("mwsso"):
        # AbstractBaseUser without PermissionsMixin: no groups, no is_staff, no is_superuser.
        class BareUser(AbstractBaseUser):
            class Meta:
                app_label = "mwsso"

        hint = "Use a user model with PermissionsMixin, or leave the setting empty."
        assert user_model_policy_checks(BareUser) == [
            checks.Error(
                f"MWSSO_{name} is set but mwsso.BareUser has no {field!r} field.",
                hint=hint,
                obj=BareUser,
                id="mwsso.E015",
            )
            for name, field in (
                ("GROUP_MAP", "groups"),
                ("STAFF_GROUPS", "is_staff"),
                ("SUPERUSER_GROUPS", "is_superuser"),
            )
        ]
        settings.MWSSO_GROUP_MAP = {}
        settings.MWSSO_STAFF_GROUPS = []
        settings.MWSSO_SUPERUSER_GROUPS = []
        assert user_model_policy_checks(BareUser) == []
