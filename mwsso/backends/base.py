"""What both sign-in backends share: the pipeline run in one deferred transaction, the identity, the errors."""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async

from mwsso.exceptions import (
    LoginError,
    LoginWikiUnavailable,
    WikiBadResponse,
)
from mwsso.protocol.identity import Identity
from mwsso.socialauth import loginstate, transaction

# Enough for a few tabs started in parallel; bounded so a session cannot grow without end.
MAX_PENDING_LOGINS = 5

# A protocol step's failure (OAuth1Error/OAuth2Error ``kind``) as the sign-in error it becomes; a refusal is
# told by each backend, with the wiki's own code.
LOGIN_ERRORS: dict[str, type[LoginError]] = {
    "unavailable": LoginWikiUnavailable,
    "bad_response": WikiBadResponse,
}


def run_signin(backend: Any, identity: Identity, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Run the pipeline; all local writes of a login (user, association, identity, token) land together or not at all.

    The transaction begins at the first write (``mwsso.socialauth.transaction``): a returning sign-in that changes
    nothing costs no BEGIN/COMMIT. The association lookup loads the stored identity and token
    (``mwsso.socialauth.loginstate``) so the steps can tell that nothing changed without another query.
    """
    writes = transaction.DeferredAtomic()
    backend.login_transaction = writes
    try:
        with writes, loginstate.login_state(backend.strategy, identity.wiki, writes) as loaded:
            if not loaded:
                writes.begin()  # a site's own storage: its lookups and writes are not ours to see
            return backend.strategy.authenticate(*args, **kwargs)
    finally:
        backend.login_transaction = None


class SignIn:
    """What both backends do once the wiki has given a token: who it is (``user_data``), then the pipeline."""

    login_transaction: transaction.DeferredAtomic | None = None

    def do_auth(self, access_token: Any, *args: Any, **kwargs: Any) -> Any:
        identity = self.user_data(access_token)  # type: ignore[attr-defined]  # a mixin: each backend defines user_data
        self.access_credentials = access_token
        self.identity = identity
        kwargs.update({"response": identity.as_json(), "identity": identity, "backend": self})
        return run_signin(self, identity, args, kwargs)

    def run_pipeline(self, pipeline: list[str], pipeline_index: int = 0, *args: Any, **kwargs: Any) -> Any:
        return transaction.run_pipeline(self, pipeline, pipeline_index, args, kwargs)

    async def aget_user(self, user_id: Any) -> Any:
        # request.auser() in an async view asks the session's backend; social-core's have only get_user.
        return await sync_to_async(self.get_user)(user_id)  # type: ignore[attr-defined]  # a mixin: social-core's BaseAuth, after it in the MRO, has get_user
