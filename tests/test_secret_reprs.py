"""Secrets never show in a repr, and the hiding is declared (``field(repr=False)``), not hand-written.

A hand-written ``__repr__`` has to be kept in step with the fields by hand: a field added later shows
nothing or, worse, is added to the repr with its secret. ``field(repr=False)`` says it where the field is.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from mwsso.api import BearerSigner, Client, OAuth1Signer
from mwsso.api.signing import _Bearer
from mwsso.diagnostics.target import OAuth2Client, Target
from mwsso.models import AccessToken, Credentials, fingerprint
from mwsso.protocol import oauth1, oauth2

MWSSO = Path(__file__).resolve().parent.parent / "mwsso"
SECRET = "s3cret-value-0123456789"
# A field with one of these words in its name holds a credential (or part of one).
SECRET_NAME = re.compile(r"secret|token|verifier|password|(^|_)key$")
# Not secrets although the name says so: which consumer, client or wiki this is (public ids), a token's type.
PUBLIC_NAMES = {"consumer_key", "client_id", "token_type", "wiki_key", "Consumer.key"}

# Secret-hiding reprs still written by hand on a dataclass: none left (issue 22, item 7); a new one must not
# be added here but declared field(repr=False).
HAND_WRITTEN: set[tuple[str, str]] = set()
# Hand-written reprs that stay, on classes that cannot be dataclasses (each says why in a comment beside it).
NOT_DATACLASSES = {("mwsso/models.py", "AccessToken"), ("mwsso/exceptions.py", "APIError")}


@pytest.mark.parametrize(
    ("made", "secrets"),
    [
        (oauth1.Consumer("consumer-key", SECRET), [SECRET]),
        (oauth1.TokenPair("token-key-abcdef", SECRET), [SECRET, "token-key"]),
        (oauth2.Client("client-id", SECRET), [SECRET]),
        (oauth2.PKCEPair(SECRET, "the-challenge"), [SECRET]),
        (oauth2.TokenSet("access-" + SECRET, "refresh-" + SECRET, 3600), [SECRET]),
        (OAuth2Client("https://w.example/w/index.php", "client-id", SECRET), [SECRET]),
        (
            Target(
                "https://w.example/w/index.php",
                "consumer-key",
                SECRET,
                oauth2=OAuth2Client("https://w.example/w/index.php", "client-id", "other-" + SECRET),
            ),
            [SECRET],
        ),
        (Credentials("key-" + SECRET, "secret-" + SECRET, 1), [SECRET, "key-"]),
        (Credentials("access-" + SECRET, "", 2, "refresh-" + SECRET), [SECRET]),
        (
            OAuth1Signer("consumer-key", "consumer-" + SECRET, "token-key-abcdef", "token-" + SECRET),
            [SECRET, "token-key"],
        ),
        (BearerSigner("access-" + SECRET), [SECRET]),
        (_Bearer("access-" + SECRET), [SECRET]),
        (Client("https://w.example/w/api.php", BearerSigner("access-" + SECRET)), [SECRET]),
        (
            Client("https://w.example/w/api.php", OAuth1Signer("consumer-key", SECRET, "token-key-abcdef", SECRET)),
            [SECRET, "token-key"],
        ),
    ],
    ids=lambda value: type(value).__name__ if not isinstance(value, list) else "",
)
def test_no_secret_in_the_repr_or_str(made: object, secrets: list[str]) -> None:
    shown = repr(made) + str(made) + f"{made}" + repr([made])
    assert not [secret for secret in secrets if secret in shown], shown
    # What the repr is for: it still says what the object is.
    assert type(made).__name__ in shown


def test_the_reprs_still_name_what_is_not_secret() -> None:
    assert repr(oauth1.Consumer("consumer-key", SECRET)) == "Consumer(key='consumer-key')"
    assert "client_id='client-id'" in repr(oauth2.Client("client-id", SECRET))
    assert "challenge='the-challenge'" in repr(oauth2.PKCEPair(SECRET, "the-challenge"))
    assert "expires_in=3600" in repr(oauth2.TokenSet(SECRET, "", 3600))
    assert "consumer_key='consumer-key'" in repr(Target("https://w.example/w/index.php", "consumer-key", SECRET))
    # Tokens are named by their fingerprint (mwsso.models.fingerprint), as in the admin and the logs.
    assert (
        repr(Credentials("token-key", SECRET, 2))
        == f"Credentials(oauth_version=2, fingerprint={fingerprint('token-key')!r})"
    )
    signer = OAuth1Signer("consumer-key", SECRET, "token-key", SECRET)
    assert repr(signer) == f"OAuth1Signer(consumer_key='consumer-key', fingerprint={fingerprint('token-key')!r})"
    assert repr(BearerSigner("access-token")) == f"BearerSigner(fingerprint={fingerprint('access-token')!r})"
    client = Client("https://w.example/w/api.php", signer)
    client._csrf = "csrf-" + SECRET  # the session's CSRF token, once fetched
    assert repr(client) == f"Client(api_url='https://w.example/w/api.php', signer={signer!r}, token=None)"


def test_a_client_shows_its_stored_token_by_fingerprint_only() -> None:
    token = AccessToken(pk=7, wiki="w.example/w", status="active", fingerprint=fingerprint("token-key"))
    client = Client("https://w.example/w/api.php", BearerSigner("access-" + SECRET), token=token)
    shown = repr(client) + str(client)
    assert f"<AccessToken 7 {fingerprint('token-key')} active>" in shown and SECRET not in shown


def _dataclasses() -> list[tuple[str, ast.ClassDef]]:
    found = []
    for path in sorted(MWSSO.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef) and any(_is_dataclass(d) for d in node.decorator_list):
                found.append((path.relative_to(MWSSO.parent).as_posix(), node))
    return found


def _is_dataclass(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return (isinstance(target, ast.Name) and target.id == "dataclass") or (
        isinstance(target, ast.Attribute) and target.attr == "dataclass"
    )


def _hides(value: ast.expr | None) -> bool:
    """``field(..., repr=False, ...)``."""
    return isinstance(value, ast.Call) and any(
        k.arg == "repr" and isinstance(k.value, ast.Constant) and k.value.value is False for k in value.keywords
    )


def _is_text(annotation: ast.expr) -> bool:
    """``str``, ``bytes`` or either ``| None``: a field that can hold a credential itself (an ``int`` count cannot,
    and a ``TokenSet`` field shows that class's repr, which this test checks too)."""
    if isinstance(annotation, ast.BinOp):
        return _is_text(annotation.left) or _is_text(annotation.right)
    return isinstance(annotation, ast.Name) and annotation.id in ("str", "bytes")


def _public(cls: str, name: str) -> bool:
    return name in PUBLIC_NAMES or f"{cls}.{name}" in PUBLIC_NAMES


def test_the_scan_finds_the_dataclasses_it_checks() -> None:
    names = {node.name for _, node in _dataclasses()}
    # The test below can only fail if it sees them: a change to how dataclasses are written must not blind it.
    assert {"Consumer", "TokenPair", "Client", "PKCEPair", "TokenSet", "OAuth2Client", "Target"} <= names


def test_every_secret_field_of_a_dataclass_is_declared_repr_false() -> None:
    shown = [
        f"{path}: {node.name}.{statement.target.id}"
        for path, node in _dataclasses()
        if (path, node.name) not in HAND_WRITTEN
        for statement in node.body
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
        and SECRET_NAME.search(statement.target.id) and _is_text(statement.annotation)
        and not _public(node.name, statement.target.id) and not _hides(statement.value)
    ]  # fmt: skip
    assert not shown, "declare these field(repr=False) (or name a public id in PUBLIC_NAMES):\n" + "\n".join(shown)


def test_no_dataclass_writes_its_own_repr() -> None:
    written = [
        f"{path}: {node.name}"
        for path, node in _dataclasses()
        if (path, node.name) not in HAND_WRITTEN
        and any(isinstance(item, ast.FunctionDef) and item.name == "__repr__" for item in node.body)
    ]
    assert not written, "declare field(repr=False) instead of a hand-written __repr__:\n" + "\n".join(written)


def test_the_hand_written_list_holds_only_what_is_still_hand_written() -> None:
    # Once one is converted (or moved), it leaves HAND_WRITTEN, so that the list cannot hide a new one.
    still = {
        (path, node.name)
        for path, node in _dataclasses()
        if any(isinstance(item, ast.FunctionDef) and item.name == "__repr__" for item in node.body)
    }
    assert still >= HAND_WRITTEN


def test_every_hand_written_repr_left_is_on_a_class_that_cannot_be_a_dataclass() -> None:
    dataclasses = {(path, node.name) for path, node in _dataclasses()}
    written = {
        (path.relative_to(MWSSO.parent).as_posix(), node.name)
        for path in sorted(MWSSO.rglob("*.py"))
        if "migrations" not in path.parts
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.ClassDef)
        and any(isinstance(item, ast.FunctionDef) and item.name == "__repr__" for item in node.body)
    }
    assert written - dataclasses == NOT_DATACLASSES, "declare field(repr=False) on a dataclass instead"
