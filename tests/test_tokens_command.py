"""``mwsso_tokens`` and the ``mwsso.tokens`` functions under it: verify against the local wiki, purge, rotate keys.

The rotation test really kills a running ``manage.py mwsso_tokens rotate-keys``
(SIGKILL, half-way) on a file SQLite database, then reruns it.
"""

from __future__ import annotations

import hashlib
import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, MultiFernet
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.test import Client, override_settings
from django.utils import timezone

from mwsso import crypto
from mwsso.models import AccessToken, WikiIdentity
from mwsso.tokens import (
    RotationStopped,
    check_token,
    key_usage,
    purge_tokens,
    rotate_keys,
    verify_token,
    verify_tokens,
)
from mwsso.tokens.verify import record_result
from tests.conftest import SITE_HOST, TEST_CONSUMER_KEY, TEST_CONSUMER_SECRET

User = get_user_model()
ROOT = Path(__file__).resolve().parent.parent
OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
Status = AccessToken.Status
STATUS_CYCLE = [Status.VALID] * 6 + [Status.REVOKED, Status.INVALID, Status.ERROR, Status.VALID]


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("mwsso_tokens", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def plaintext(i: int) -> tuple[str, str]:
    return f"key{i:05d}" + "k" * 20, f"secret{i:05d}" + "s" * 30


def make_tokens(n: int, using: str = "default", per_user: int = 10) -> None:
    """``n`` tokens (``per_user`` wikis per user), each with its own credentials, encrypted with the current keys."""
    users = User.objects.using(using).bulk_create(
        [User(username=f"user{u:05d}", password="!") for u in range((n + per_user - 1) // per_user)]
    )
    long_ago = timezone.now() - timedelta(days=400)
    tokens = []
    for i in range(n):
        wiki = f"https://wiki{i % per_user}.example.org"
        token = AccessToken(
            user=users[i // per_user], wiki=wiki, wiki_url=f"{wiki}/w/index.php", consumer_key=TEST_CONSUMER_KEY,
            grants=["basic", "editpage"] if i % 2 else ["basic"], status=STATUS_CYCLE[i % len(STATUS_CYCLE)],
            last_used=long_ago if i % 3 == 0 else None,
        )  # fmt: skip
        token.set_credentials(*plaintext(i))
        tokens.append(token)
    AccessToken.objects.using(using).bulk_create(tokens, batch_size=1000)


def snapshot() -> str:
    rows = AccessToken.objects.order_by("pk").values_list("pk", "status", "encrypted", "key_id", "updated")
    return hashlib.sha256(repr(list(rows)).encode()).hexdigest()


# -- rotate-keys ------------------------------------------------------------------
@pytest.fixture
def file_db(tmp_path, django_db_blocker):  # type: ignore[no-untyped-def]
    """A migrated SQLite file that a subprocess can open too (the test database lives in memory)."""
    path = tmp_path / "rotation.sqlite3"
    alias = "rotation"
    configured = connections.configure_settings(
        {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}, alias: {"NAME": str(path)}}
    )
    configured[alias]["ENGINE"] = "django.db.backends.sqlite3"
    connections.settings[alias] = configured[alias]
    with django_db_blocker.unblock():
        call_command("migrate", database=alias, verbosity=0)
        yield alias, path
        connections[alias].close()
    del connections.settings[alias]


def rotate_in_subprocess(path: Path, *args: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DJANGO_SECRET_KEY": "tests-only-rotation-secret-key-0123456789abcdef",
        "DATABASE_URL": f"sqlite:///{path}",
        "MWSSO_TOKEN_KEYS": f"{NEW_KEY},{OLD_KEY}",
        "MWSSO_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "manage.py", "mwsso_tokens", "rotate-keys", *args]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stored(path: Path) -> dict[int, tuple[str, str]]:
    with sqlite3.connect(path) as db:
        return {pk: (encrypted, key_id) for pk, encrypted, key_id in db.execute(
            "SELECT id, encrypted, key_id FROM mwsso_accesstoken"
        )}  # fmt: skip


def test_rotation_killed_half_way_then_rerun_loses_nothing_on_10000_tokens(file_db):
    alias, path = file_db
    with override_settings(MWSSO_TOKEN_KEYS=[OLD_KEY]):
        make_tokens(10_000, using=alias)
    connections[alias].close()
    original = {pk: MultiFernet([Fernet(OLD_KEY)]).decrypt(enc.encode()) for pk, (enc, _) in stored(path).items()}
    assert len(original) == 10_000 and len(set(original.values())) == 10_000

    # Kill it (SIGKILL: no cleanup of any kind) once a fifth of the batches are committed.
    process = rotate_in_subprocess(path, "--batch-size", "100")
    assert process.stderr is not None
    for line in process.stderr:
        if line.startswith("rotate-keys:") and int(line.split("(")[1].split("%")[0]) >= 20:
            time.sleep(0.03)  # so that the kill lands inside a later batch's transaction
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, process.stderr.read()

    new_id, both = crypto.key_id(NEW_KEY), MultiFernet([Fernet(NEW_KEY), Fernet(OLD_KEY)])
    after_kill = stored(path)
    rotated = sum(key_id == new_id for _, key_id in after_kill.values())
    assert 2_000 <= rotated < 10_000, "the kill did not land half-way"
    assert rotated % 100 == 0, "a batch was left half-done"
    assert {pk: both.decrypt(enc.encode()) for pk, (enc, _) in after_kill.items()} == original
    for encrypted, key_id in after_kill.values():  # key_id tells the truth about every row
        assert (key_id == new_id) == _readable(Fernet(NEW_KEY), encrypted)

    rerun = rotate_in_subprocess(path, "--batch-size", "500")
    out, err = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, err
    assert f"Re-encrypted {10_000 - rotated} access tokens" in out
    assert "(no token uses it: it can be removed)" in out
    final = stored(path)
    assert {key_id for _, key_id in final.values()} == {new_id}
    # Readable with the new key alone, each with its own credentials.
    assert {pk: Fernet(NEW_KEY).decrypt(enc.encode()) for pk, (enc, _) in final.items()} == original


def _readable(fernet: Fernet, encrypted: str) -> bool:
    try:
        fernet.decrypt(encrypted.encode())
    except Exception:
        return False
    return True


@pytest.mark.django_db
def test_rotate_keys_in_process_then_rerun_is_a_no_op():
    with override_settings(MWSSO_TOKEN_KEYS=[OLD_KEY]):
        make_tokens(300)
        before = {t.pk: t.get_credentials() for t in AccessToken.objects.all()}
    with override_settings(MWSSO_TOKEN_KEYS=[NEW_KEY, OLD_KEY]):
        batches = []
        result = rotate_keys(batch_size=64, progress=lambda r: batches.append(r.rotated))
        assert result.rotated == 300 and batches == [64, 128, 192, 256, 300]
        assert [(u.position, u.tokens) for u in key_usage()] == [(0, 300), (1, 0)]
        assert rotate_keys(batch_size=64).rotated == 0
        out, _ = run("rotate-keys")
        assert "Re-encrypted 0 access tokens" in out and "MWSSO_TOKEN_KEYS[1], id" in out
    with override_settings(MWSSO_TOKEN_KEYS=[NEW_KEY]):
        assert {t.pk: t.get_credentials() for t in AccessToken.objects.all()} == before


@pytest.mark.django_db
def test_rotate_keys_stops_at_an_unreadable_token_and_never_deletes_it():
    with override_settings(MWSSO_TOKEN_KEYS=[OLD_KEY]):
        make_tokens(30)
    lost_key = Fernet.generate_key().decode()
    with override_settings(MWSSO_TOKEN_KEYS=[lost_key]):
        orphan = AccessToken.objects.order_by("pk")[12]
        orphan.set_credentials("orphan-key-xxxxxxxxxxx", "orphan-secret-xxxxxxxxxxxxxxxx")
        orphan.save()
    with override_settings(MWSSO_TOKEN_KEYS=[NEW_KEY, OLD_KEY]):
        with pytest.raises(RotationStopped) as stopped:
            rotate_keys(batch_size=5)
        assert stopped.value.token_id == orphan.pk and stopped.value.rotated == 10
        # The batches before it are kept; its own batch is rolled back; it is untouched.
        assert AccessToken.objects.filter(key_id=crypto.key_id(NEW_KEY)).count() == 10
        with pytest.raises(CommandError, match=rf"Stopped: access token {orphan.pk} .*--skip-unreadable"):
            run("rotate-keys")
        with pytest.raises(CommandError, match=r"1 access token cannot be decrypted") as skipped:
            run("rotate-keys", "--skip-unreadable")
        assert skipped.value.returncode == 1
        assert AccessToken.objects.count() == 30
        kept = AccessToken.objects.get(pk=orphan.pk)
        assert kept.encrypted == orphan.encrypted and kept.key_id == crypto.key_id(lost_key)
        assert AccessToken.objects.exclude(key_id=crypto.key_id(NEW_KEY)).count() == 1
        # verify finds it but does not mark it: a missing key is the site's fault, and putting the key
        # back must find the token as it was.
        checked = check_token(kept)
        assert checked.status == Status.ERROR and checked.site_fault
        assert record_result(kept, checked) is False
        assert AccessToken.objects.get(pk=orphan.pk).status == Status.VALID
    with override_settings(MWSSO_TOKEN_KEYS=[NEW_KEY, lost_key]):
        assert AccessToken.objects.get(pk=orphan.pk).get_credentials().key == "orphan-key-xxxxxxxxxxx"


# -- purge ------------------------------------------------------------------------
@pytest.mark.django_db
def test_purge_dry_run_on_10000_tokens_changes_nothing_then_purge_deletes_exactly_those():
    make_tokens(10_000)
    before = snapshot()
    out, _ = run("purge", "--dry-run")
    expected = AccessToken.objects.filter(status__in=[Status.REVOKED, Status.INVALID]).count()
    assert expected == 2_000 and f"Dry run: {expected} access tokens would be deleted. Nothing was changed." in out
    assert "… and 1980 more" in out
    out, _ = run("purge", "--dry-run", "--unused-days", "365", "--status", "error")
    stale = AccessToken.objects.filter(last_used__lt=timezone.now() - timedelta(days=365))
    either = (stale | AccessToken.objects.filter(status=Status.ERROR)).count()
    assert f"Dry run: {either} access tokens would be deleted." in out
    assert snapshot() == before

    out, _ = run("purge", "--noinput")
    assert f"Deleted {expected} access tokens (1000 invalid, 1000 revoked)" in out
    assert AccessToken.objects.count() == 8_000
    assert not AccessToken.objects.filter(status__in=[Status.REVOKED, Status.INVALID]).exists()


@pytest.mark.django_db
def test_purge_unused_and_by_wiki_and_asks_first(monkeypatch):
    make_tokens(40)
    old = timezone.now() - timedelta(days=100)
    AccessToken.objects.filter(wiki="https://wiki0.example.org").update(created=old)  # never used, created long ago
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="cancelled"):
        run("purge", "--unused-days", "30")
    assert AccessToken.objects.count() == 40
    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    out, _ = run("purge", "--unused-days", "30", "--wiki", "https://wiki1.example.org")
    # wiki1 holds tokens 1, 11, 21 and 31; only 21 was last used long ago (every third token).
    assert "Deleted 1 access token (1 valid)" in out
    assert AccessToken.objects.count() == 39
    # Unused: last used long ago (13 left), or never used and created long ago (wiki0's 10 and 20).
    result = purge_tokens(unused_days=30, statuses=[])
    assert result.count == 15 and AccessToken.objects.count() == 24
    assert not AccessToken.objects.filter(wiki="https://wiki0.example.org").exists()
    assert purge_tokens(unused_days=30).count == 0


# -- list -------------------------------------------------------------------------
@pytest.mark.django_db
def test_list_filters_and_formats():
    make_tokens(40)
    WikiIdentity.objects.create(user=User.objects.get(username="user00001"), wiki="https://wiki3.example.org", sub="77",
                                username="Wiki Person")  # fmt: skip
    out, _ = run("list", "--status", "revoked", "--limit", "2")
    assert out.splitlines()[0].split() == ["id", "fingerprint", "user", "wiki", "user", "wiki", "oauth", "status",
                                           "grants", "created", "last", "used", "verified"]  # fmt: skip
    assert "4 access tokens (showing 2; --limit 0 shows all)" in out
    assert all(" revoked " in line for line in out.splitlines()[1:3])
    # A wiki username finds every token of the Django user who has it.
    out, _ = run("list", "--user", "Wiki Person")
    assert "10 access tokens\n" in out and "Wiki Person" in out and out.count("user00001") == 10
    out, _ = run("list", "--user", "user00002", "--grant", "editpage", "--wiki", "https://wiki5.example.org")
    assert "1 access token\n" in out and "basic, editpage" in out
    csv_out, _ = run("list", "--format", "csv", "--wiki", "https://wiki7.example.org/w/index.php")
    lines = csv_out.splitlines()
    assert lines[0].startswith("id,user_id,username,wiki_username,wiki,") and len(lines) == 5
    for i in range(40):
        key, secret = plaintext(i)
        assert key[:8] not in out + csv_out and secret[:9] not in out + csv_out  # not even partly


# -- verify against the local wiki -----------------------------------------------
@pytest.fixture
def signed_in(login):  # type: ignore[no-untyped-def]
    for name in ("Alice", "Bob"):
        assert login(Client(HTTP_HOST=SITE_HOST), name).status_code == 302
    return {t.user.username: t for t in AccessToken.objects.select_related("user")}


@pytest.mark.django_db
def test_verify_command_exit_codes_progress_and_summary(signed_in, devwiki, caplog):
    credentials = [t.get_credentials() for t in signed_in.values()]
    secrets = [TEST_CONSUMER_SECRET] + [c.key for c in credentials] + [c.secret for c in credentials]
    out, err = run("verify")
    assert "Checked 2 access tokens: 2 valid, 0 revoked, 0 invalid, 0 could not be checked." in out
    assert "verify: 2/2 (100%)" in err and "\r" not in err  # plain lines when stderr is not a terminal

    devwiki.control("revoke", consumer_key=TEST_CONSUMER_KEY, user="Alice")
    with pytest.raises(CommandError) as revoked:
        run("verify", "--concurrency", "2")
    assert revoked.value.returncode == 1
    alice = AccessToken.objects.get(pk=signed_in["Alice"].pk)
    assert alice.status == Status.REVOKED and alice.last_verified is not None

    devwiki.control("set_fault", step="identify", kind="http500")
    with pytest.raises(CommandError) as failed:
        run("verify", "--user", "Bob")
    assert failed.value.returncode == 2
    assert AccessToken.objects.get(pk=signed_in["Bob"].pk).status == Status.ERROR
    devwiki.control("set_fault", step="identify", kind=None)
    out, err = run("verify", "--status", "error")
    assert "Checked 1 access token: 1 valid" in out
    listed, _ = run("list")
    for secret in secrets:
        assert secret not in out + err + listed + caplog.text


@pytest.mark.django_db
def test_verify_a_token_that_identifies_someone_else_or_another_consumer(signed_in, wiki_settings):
    alice = signed_in["Alice"]
    WikiIdentity.objects.filter(user=alice.user).update(sub="999")
    result = verify_token(alice)
    assert result.status == Status.INVALID and "belongs to wiki user Alice (id 3)" in result.reason
    AccessToken.objects.filter(pk=alice.pk).update(consumer_key="f" * 32)
    result = verify_token(AccessToken.objects.get(pk=alice.pk))
    assert result.status == Status.ERROR and "issued to consumer ffff" in result.reason
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_SECRET = "wrong-secret"
    bob = verify_token(signed_in["Bob"])
    # A wrong consumer secret is the site's problem, not the token's: an error, not "revoked".
    assert bob.status == Status.ERROR and "Invalid signature" in bob.reason
    assert AccessToken.objects.get(pk=signed_in["Bob"].pk).is_usable


@pytest.mark.serial  # a window of 0.75 to 1.9 s: other tests on the same cores would stretch it
@pytest.mark.django_db
def test_verify_runs_a_bounded_number_of_identify_calls_at_once(wiki_settings, devwiki):
    users = ["Admin Sysop", "Alice", "Bob", "Mallory", "Newbie", "Zoë Ünïcode-Test"]
    for name in users:
        issued = devwiki.control("issue_token", consumer_key=TEST_CONSUMER_KEY, user=name)
        token = AccessToken(user=User.objects.create(username=name), wiki=devwiki.server_url,
                            wiki_url=devwiki.index_url, consumer_key=TEST_CONSUMER_KEY)  # fmt: skip
        token.set_credentials(issued["key"], issued["secret"])
        token.save()
    devwiki.control("set_fault", step="identify", kind="slow", seconds=0.4)
    started = time.monotonic()
    seen = []
    summary = verify_tokens(AccessToken.objects.all(), concurrency=3, progress=lambda s, r: seen.append(s.done))
    elapsed = time.monotonic() - started
    assert summary.counts[Status.VALID] == 6 and summary.exit_code == 0 and seen == [1, 2, 3, 4, 5, 6]
    # Two rounds of three: not one at a time (2.4 s), not all six at once (0.4 s).
    assert 0.75 < elapsed < 1.9, elapsed


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "status"),
    [
        # Not about the grant: the site's own request passes, so it is the wiki's passing problem.
        ("mwoauth-invalid-authorization", Status.ERROR),
        # The wiki's rule that this user may not use the grant (a block with $wgBlockDisablesLogin).
        ("mwoauth-invalid-authorization-blocked-user", Status.INVALID),
        ("mwoauth-invalid-authorization-invalid-user", Status.INVALID),
        ("mwoauthdatastore-access-token-not-found", Status.REVOKED),
        ("mwoauth-db-readonly", Status.ERROR),  # the wiki's problem, not the token's
        ("mwoauthserver-bad-consumer-key", Status.ERROR),
    ],
)
def test_the_wikis_error_code_decides_revoked_or_error(signed_in, devwiki, code, status):
    devwiki.control("set_fault", step="identify", kind="error", code=code)
    result = verify_token(signed_in["Bob"])
    assert result.status == status and result.reason.startswith(f"{code}: ")
    stored = AccessToken.objects.get(pk=signed_in["Bob"].pk)
    assert (stored.status, stored.status_reason) == (status, result.reason)
    assert stored.last_verified == result.checked_at
