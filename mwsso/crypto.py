"""Encryption at rest for access tokens: Fernet keys from ``MWSSO_TOKEN_KEYS``.

The first key encrypts; every key decrypts, so keys rotate by putting a new key
first and running ``mwsso_tokens rotate-keys``. Without configured keys a key is
derived from SECRET_KEY (a system check warns: rotating SECRET_KEY would then
make every stored token unreadable).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from mwsso.app_settings import app_settings

__all__ = ["InvalidToken", "decrypt", "encrypt", "key_id", "primary_key_id", "rotate"]


def derived_key(secret_key: str) -> str:
    """A Fernet key derived from Django's SECRET_KEY (the fallback when no keys are configured)."""
    digest = hashlib.sha256(b"mwsso-token-key:" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def configured_keys() -> list[str]:
    return app_settings.TOKEN_KEYS or [derived_key(settings.SECRET_KEY)]


def key_id(key: str) -> str:
    """A short, non-reversible name for a key, stored beside each token to track rotation."""
    return hashlib.sha256(b"mwsso-key-id:" + key.encode()).hexdigest()[:12]


def primary_key_id() -> str:
    return key_id(configured_keys()[0])


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in configured_keys()])


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    """Raise ``InvalidToken`` when no configured key can decrypt it."""
    return _fernet().decrypt(ciphertext.encode()).decode()


def rotate(ciphertext: str) -> str:
    """Re-encrypt with the primary key (raises ``InvalidToken`` if no key can read it)."""
    return _fernet().rotate(ciphertext.encode()).decode()
