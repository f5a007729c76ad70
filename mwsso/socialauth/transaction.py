"""The sign-in's one transaction, begun at its first write: a returning sign-in that writes nothing pays no BEGIN/COMMIT.

Every write of a sign-in still lands in one transaction that the pipeline's end commits and any
failure rolls back ("nothing half-written"); only the reads before the first write run outside it.
The transaction begins:

- when an mwsso step is about to write (``begin_writes(backend)``), or a storage write is about to
  happen through ``mwsso.socialauth.loginstate.LoginStateStorage`` (social-core's ``social_user`` migrating a
  legacy association, ``associate_user`` creating one);
- before any pipeline step not listed in ``DEFERRING_STEPS``: a site's own step, or social-core's
  ``user_details`` / ``load_extra_data``, may write in ways mwsso cannot see, so they run inside
  the transaction as before;
- before everything, when the association lookup is not mwsso's (a site's own ``SOCIAL_AUTH_STORAGE``).
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from django.db import transaction
from social_core.utils import module_member

# Steps that write nothing themselves, or call begin_writes() / write through LoginStateStorage first.
DEFERRING_STEPS = frozenset(
    {
        "social_core.pipeline.social_auth.social_details",
        "social_core.pipeline.social_auth.social_uid",
        "social_core.pipeline.social_auth.auth_allowed",
        "social_core.pipeline.social_auth.social_user",
        "social_core.pipeline.social_auth.associate_user",
        "mwsso.policy.check_access_policy",
        "mwsso.pipeline.create_or_update_user",
        "mwsso.pipeline.store_extra_data",
        "mwsso.pipeline.store_identity",
        "mwsso.pipeline.store_access_token",
        "mwsso.policy.sync_groups",
        "mwsso.policy.send_identity_refreshed",
    }
)


class DeferredAtomic:
    """``transaction.atomic()`` entered on the first ``begin()``, left (commit or rollback) with the ``with`` block."""

    def __init__(self) -> None:
        self._stack = ExitStack()
        self.begun = False

    def begin(self) -> None:
        if not self.begun:
            self._stack.enter_context(transaction.atomic())
            self.begun = True

    def __enter__(self) -> DeferredAtomic:
        return self

    def __exit__(self, *exc_info: Any) -> bool:
        return bool(self._stack.__exit__(*exc_info))


def begin_writes(backend: Any) -> None:
    """Begin the sign-in's transaction before a write (a no-op outside ``do_auth``, e.g. a resumed partial pipeline)."""
    writes = getattr(backend, "login_transaction", None)
    if writes is not None:
        writes.begin()


def run_pipeline(
    backend: Any, pipeline: list[str], pipeline_index: object, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """social-core's ``BaseAuth.run_pipeline`` loop, beginning the transaction before any step that may write unseen."""
    out = kwargs.copy()
    out.setdefault("strategy", backend.strategy)
    out.setdefault("backend", out.pop(backend.name, None) or backend)
    out.pop("request", None)
    out.setdefault("details", {})
    # As upstream: the index may come back from the session (a resumed partial pipeline), so it is checked.
    if not isinstance(pipeline_index, int) or pipeline_index < 0 or pipeline_index >= len(pipeline):
        pipeline_index = 0
    for idx, name in enumerate(pipeline[pipeline_index:]):
        out["pipeline_index"] = pipeline_index + idx
        if name not in DEFERRING_STEPS:
            # out["backend"] is the instance do_auth ran on (Django's authenticate() makes a new one).
            begin_writes(out["backend"])
        result = module_member(name)(*args, **out) or {}
        if not isinstance(result, dict):
            return result
        out.update(result)
    return out
