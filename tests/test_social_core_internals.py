"""What mwsso relies on in social-core and social-app-django beyond their documented extension points.

Each test here fails, saying what to re-check, when a new release changes that behaviour; pyproject.toml
bounds both packages below their next minor release, raised only after this file passes on it.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from typing import Any

import pytest
from social_core.backends.base import BaseAuth
from social_core.strategy import BaseStrategy
from social_django.models import DjangoStorage, UserSocialAuth
from social_django.strategy import DjangoStrategy

from mwsso.socialauth import loginstate, transaction

# social-core 7.0's BaseAuth.run_pipeline, which mwsso.socialauth.transaction.run_pipeline copies (adding
# one thing: the deferred transaction begins before any step not in DEFERRING_STEPS).
UPSTREAM_RUN_PIPELINE = """
def run_pipeline(self, pipeline, pipeline_index=0, *args, **kwargs):
    out = kwargs.copy()
    out.setdefault("strategy", self.strategy)
    out.setdefault("backend", out.pop(self.name, None) or self)
    out.pop("request", None)
    out.setdefault("details", {})

    if (
        not isinstance(pipeline_index, int)
        or pipeline_index < 0
        or pipeline_index >= len(pipeline)
    ):
        pipeline_index = 0

    for idx, name in enumerate(pipeline[pipeline_index:]):
        out["pipeline_index"] = pipeline_index + idx
        func = module_member(name)
        result = func(*args, **out) or {}
        if not isinstance(result, dict):
            return result
        out.update(result)
    return out
"""


def _body(source: str) -> str:
    """The function's statements alone: no docstring, annotations or formatting."""
    function = ast.parse(textwrap.dedent(source)).body[0]
    assert isinstance(function, ast.FunctionDef)
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return ast.dump(ast.Module(body=body, type_ignores=[]))


def test_social_cores_pipeline_loop_is_the_one_mwsso_copied():
    assert _body(inspect.getsource(BaseAuth.run_pipeline)) == _body(UPSTREAM_RUN_PIPELINE), (
        "social-core's BaseAuth.run_pipeline changed: bring mwsso.socialauth.transaction.run_pipeline in line "
        "with it, then update UPSTREAM_RUN_PIPELINE here"
    )


# Steps for the comparison below, named by path as a pipeline names them.
def step_details(*args: Any, details: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return {"details": {**details, "seen": kwargs["pipeline_index"]}, "trail": [*kwargs.get("trail", []), *args]}


def step_nothing(*args: Any, **kwargs: Any) -> None:
    return None


def step_stop(*args: Any, **kwargs: Any) -> str:
    return f"stopped at {kwargs['pipeline_index']} with {args}"


class _Backend:
    name = "mediawiki"
    strategy = "the strategy"
    login_transaction = None


HERE = __name__
CASES = [
    ([f"{HERE}.step_details", f"{HERE}.step_nothing", f"{HERE}.step_details"], 0, {}),
    ([f"{HERE}.step_details", f"{HERE}.step_stop", f"{HERE}.step_details"], 0, {"request": "dropped"}),
    ([f"{HERE}.step_details", f"{HERE}.step_nothing"], 1, {"mediawiki": "given backend"}),
    ([f"{HERE}.step_details"], 7, {"details": {"from": "caller"}}),  # an index out of range starts over
    ([f"{HERE}.step_nothing", f"{HERE}.step_details"], -1, {"strategy": "the caller's"}),
]


@pytest.mark.parametrize(("pipeline", "index", "kwargs"), CASES)
def test_mwssos_pipeline_loop_does_what_social_cores_does(pipeline, index, kwargs):
    backend = _Backend()
    upstream = BaseAuth.run_pipeline(backend, pipeline, index, "arg", **kwargs)  # type: ignore[arg-type]
    ours = transaction.run_pipeline(backend, pipeline, index, ("arg",), kwargs)
    assert ours == upstream


def test_the_strategy_keeps_its_storage_where_loginstate_swaps_it():
    # loginstate.login_state swaps strategy._storage for one sign-in; social-core must read it from there.
    strategy = DjangoStrategy(DjangoStorage, request=None)
    assert strategy._storage is DjangoStorage and strategy.storage is DjangoStorage
    swapped = loginstate.LoginStateStorage("https://wiki.example/w", transaction.DeferredAtomic())
    strategy._storage = swapped
    assert strategy.storage is swapped
    assert "self.storage" in inspect.getsource(BaseStrategy), "social-core no longer reads its storage via .storage"


def test_social_djangos_storage_is_the_one_loginstate_extends():
    # login_state extends only social_django's own association model; a site's own storage is left alone.
    assert DjangoStorage.user is UserSocialAuth
    assert issubclass(loginstate.LoginStateStorage, DjangoStorage)
    assert hasattr(UserSocialAuth, "get_social_auth")
