"""The fidelity suite: every request recorded from real MediaWiki 1.39, 1.43 and 1.45, replayed against the
local wiki playing that version, its answer held against the recorded one (fidelity/compare.py).

1.43 and 1.45 were recorded as sessions (148 and 248 requests with their answers): each is replayed in
order against a local wiki set up like the recorded one (fidelity/mirror.py), the run's tokens swapped in
as they come (fidelity/replay.py). 1.39 was recorded as 75 named cases: each is rebuilt from its name
(fidelity/cases139.py). A difference the local wiki keeps on purpose is listed in DIFFERENCES, with
why; docs/devwiki.md lists them for its users too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from mwsso_devwiki.testing import DevWiki, running_devwiki

from tests import recorded

from .fidelity import cases139, wiki139
from .fidelity.compare import Swaps, case_problems, shape_problems
from .fidelity.mirror import MIRRORS
from .fidelity.replay import Outcome, Replay

SESSIONS = {version: recorded.load(f"mediawiki-{version}-responses.json") for version in MIRRORS}

# (version, request number) → why the local wiki answers differently, on purpose.
DIFFERENCES = {
    ("1.45", 1): "siteinfo's general block: the fields clients read (server, script path, article path, "
    "generator, …), not all of MediaWiki's ~80 (the logo, PHP and database versions, …)",
}


@pytest.fixture(scope="module")
def outcomes() -> Iterator[dict[str, dict[int, Outcome]]]:
    """Each recorded session replayed once, in order, against its own mirroring local wiki."""
    results = {}
    for version, mirror in MIRRORS.items():
        with running_devwiki(mirror.config()) as wiki:
            results[version] = {o.n: o for o in Replay(wiki, mirror).run(SESSIONS[version])}
    yield results


@pytest.mark.parametrize(
    ("version", "n"), [(version, entry["n"]) for version, entries in SESSIONS.items() for entry in entries]
)
def test_every_recorded_request_gets_the_recorded_answer(
    outcomes: dict[str, dict[int, Outcome]], version: str, n: int
) -> None:
    outcome = outcomes[version][n]
    why = DIFFERENCES.get((version, n))
    if why is not None:
        assert outcome.problems, f"{version} #{n} ({outcome.step}) no longer differs: remove it from DIFFERENCES"
        pytest.skip(f"deliberate difference: {why}")
    assert outcome.problems == [], f"{version} #{n} {outcome.step}"


def test_the_siteinfo_the_local_wiki_sends_is_a_part_of_the_recorded_one() -> None:
    """What DIFFERENCES keeps out of the replay is still checked: fewer fields, each as recorded."""
    theirs = json.loads(SESSIONS["1.45"][0]["body"])["query"]["general"]
    with running_devwiki(MIRRORS["1.45"].config()) as wiki:
        ours = wiki_siteinfo(wiki)
    assert list(ours) == [key for key in theirs if key in ours]  # the recorded order
    assert shape_problems({k: theirs[k] for k in ours}, ours) == []
    assert {"server", "scriptpath", "script", "articlepath", "generator", "wikiid"} <= set(ours)


def wiki_siteinfo(wiki: DevWiki) -> dict[str, Any]:
    params = {"action": "query", "meta": "siteinfo", "format": "json", "formatversion": "2"}
    return requests.get(wiki.api_url, params=params, timeout=5).json()["query"]["general"]


# -- 1.39: the named cases --------------------------------------------------------------------------

CASES_139 = [
    *((name, False) for name in recorded.load("mediawiki-1.39-oauth-responses.json")),
    *((name, True) for name in recorded.load("mediawiki-1.39-more-responses.json")),
]


@pytest.fixture(scope="module")
def wiki_1_39() -> Iterator[DevWiki]:
    with running_devwiki(wiki139.CONFIG) as wiki:
        yield wiki


def test_every_1_39_case_has_its_request() -> None:
    assert {name for name, _ in CASES_139} == set(cases139.CASES) | set(cases139.MORE_CASES)


@pytest.mark.parametrize(("name", "more"), CASES_139)
def test_every_recorded_1_39_case_gets_the_recorded_answer(wiki_1_39: DevWiki, name: str, more: bool) -> None:
    wiki_1_39.reset()
    source = "mediawiki-1.39-more-responses.json" if more else "mediawiki-1.39-oauth-responses.json"
    case = recorded.load(source)[name]
    answer = (cases139.MORE_CASES if more else cases139.CASES)[name](wiki139.Wiki139(wiki_1_39))
    swaps = Swaps({wiki139.SERVER: wiki_1_39.store.server, "localhost:8080": f"localhost:{wiki_1_39.server.port}"})
    assert case_problems(case, answer, swaps, truncated=more) == []
