"""Operating the stored access tokens: verify them with the wiki, purge, rotate keys, import, list and export.

The admin (``mwsso.admin``) and ``manage.py mwsso_tokens`` are thin layers over
these functions. Nothing here ever returns, logs or raises with a token's key or
secret: tokens are named by their primary key and ``fingerprint``.
"""

from __future__ import annotations

from mwsso.tokens.importing import ImportNotConfigured, ImportResult, import_social_tokens, stock_token_rows
from mwsso.tokens.maintenance import (
    KeyUsage,
    PurgeResult,
    RotateResult,
    RotationStopped,
    key_usage,
    purge_queryset,
    purge_tokens,
    rotate_keys,
)
from mwsso.tokens.queries import (
    EXPORT_FIELDS,
    AmbiguousUser,
    all_grants,
    export_rows,
    filter_by_grant,
    filter_tokens,
    manage_grants_url,
    with_wiki_username,
)
from mwsso.tokens.verify import (
    VerifyResult,
    VerifySummary,
    check_token,
    configured_consumer,
    is_revocation,
    record_result,
    verify_token,
    verify_tokens,
)

__all__ = [
    "EXPORT_FIELDS",
    "AmbiguousUser",
    "ImportNotConfigured",
    "ImportResult",
    "KeyUsage",
    "PurgeResult",
    "RotateResult",
    "RotationStopped",
    "VerifyResult",
    "VerifySummary",
    "all_grants",
    "check_token",
    "configured_consumer",
    "export_rows",
    "filter_by_grant",
    "filter_tokens",
    "import_social_tokens",
    "is_revocation",
    "key_usage",
    "manage_grants_url",
    "purge_queryset",
    "purge_tokens",
    "record_result",
    "rotate_keys",
    "stock_token_rows",
    "verify_token",
    "verify_tokens",
    "with_wiki_username",
]
