"""Encryption at rest for access tokens: Fernet keys from ``MWSSO_TOKEN_KEYS``, and keys derived from SECRET_KEY.

The first key in use encrypts: ``MWSSO_TOKEN_KEYS[0]``, or, when no keys are
configured, a key derived from SECRET_KEY (a system check warns). Every key
that may ever have encrypted a token decrypts, in this order: the configured
keys, then the keys derived from SECRET_KEY and from each of Django's
SECRET_KEY_FALLBACKS. So setting ``MWSSO_TOKEN_KEYS`` for the first time, or
rotating SECRET_KEY with the old one in SECRET_KEY_FALLBACKS, loses no token;
``mwsso_tokens rotate-keys`` then moves every token onto the first key, and
the ``mwsso.W020`` check says while some still depend on a derived key.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from mwsso.app_settings import app_settings

__all__ = [
    "InvalidToken",
    "TokenKey",
    "decrypt",
    "decryption_keys",
    "encrypt",
    "key_id",
    "primary_key",
    "primary_key_id",
    "rotate",
]

CONFIGURED = "configured"
DERIVED = "derived"
SECRET_KEY_LABEL = "derived from SECRET_KEY"


@dataclass(frozen=True)
class TokenKey:
    """One key that may decrypt tokens, with a label that names where it comes from (never the key)."""

    label: str  # "MWSSO_TOKEN_KEYS[1]", "derived from SECRET_KEY", "derived from SECRET_KEY_FALLBACKS[0]"
    source: str  # CONFIGURED or DERIVED
    id: str  # key_id(): what AccessToken.key_id stores
    key: str = field(repr=False)

    @property
    def is_derived(self) -> bool:
        return self.source == DERIVED


def derived_key(secret_key: str) -> str:
    """A Fernet key derived from Django's SECRET_KEY (the fallback when no keys are configured)."""
    digest = hashlib.sha256(b"mwsso-token-key:" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def key_id(key: str) -> str:
    """A short, non-reversible name for a key, stored beside each token to track rotation."""
    return hashlib.sha256(b"mwsso-key-id:" + key.encode()).hexdigest()[:12]


def _settings_value() -> tuple[tuple[str, ...], str, tuple[str, ...]]:
    # Read on every call (override_settings, per-process configuration); what is built from it is cached.
    fallbacks = getattr(settings, "SECRET_KEY_FALLBACKS", None) or ()
    return tuple(app_settings.TOKEN_KEYS), str(settings.SECRET_KEY), tuple(str(secret) for secret in fallbacks)


@lru_cache(maxsize=8)
def _keys_for(configured: tuple[str, ...], secret_key: str, fallbacks: tuple[str, ...]) -> tuple[TokenKey, ...]:
    candidates = [(f"MWSSO_TOKEN_KEYS[{i}]", CONFIGURED, key) for i, key in enumerate(configured)]
    candidates.append((SECRET_KEY_LABEL, DERIVED, derived_key(secret_key)))
    candidates += [
        (f"derived from SECRET_KEY_FALLBACKS[{i}]", DERIVED, derived_key(s)) for i, s in enumerate(fallbacks)
    ]
    keys: dict[str, TokenKey] = {}
    for label, source, key in candidates:
        # The same key twice (SECRET_KEY also in its fallbacks) is tried once, under its first name.
        keys.setdefault(key, TokenKey(label, source, key_id(key), key))
    return tuple(keys.values())


@lru_cache(maxsize=8)
def _fernet_for(configured: tuple[str, ...], secret_key: str, fallbacks: tuple[str, ...]) -> MultiFernet:
    # The primary key first: MultiFernet encrypts with it and tries the others in order when decrypting.
    return MultiFernet([Fernet(key.key.encode()) for key in _keys_for(configured, secret_key, fallbacks)])


def decryption_keys() -> list[TokenKey]:
    """Every key that decrypts, the primary (encrypting) one first: configured keys, then derived ones."""
    return list(_keys_for(*_settings_value()))


def primary_key() -> TokenKey:
    """The key that encrypts: ``MWSSO_TOKEN_KEYS[0]``, or the one derived from SECRET_KEY when none is configured."""
    return decryption_keys()[0]


def primary_key_id() -> str:
    return primary_key().id


def _fernet() -> MultiFernet:
    return _fernet_for(*_settings_value())


def current_fernet() -> object:
    """The object that decrypts with the keys configured now: the same one as long as the keys stay the same.

    For caches of what was decrypted (``mwsso.api.tokens.signer_for``): part of their key, so that other keys
    find nothing cached.
    """
    return _fernet()


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    """Raise ``InvalidToken`` when no key (configured or derived) can decrypt it."""
    return _fernet().decrypt(ciphertext.encode()).decode()


def rotate(ciphertext: str) -> str:
    """Re-encrypt with the primary key (raises ``InvalidToken`` if no key can read it)."""
    return _fernet().rotate(ciphertext.encode()).decode()
