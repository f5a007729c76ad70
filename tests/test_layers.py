"""The layers of mwsso, read statically from its import statements: dependencies point down, and nothing loops.

Every ``import`` and ``from … import`` of every module of ``mwsso/`` is read with ``ast`` (those inside
functions too: a lazy import is a dependency all the same), so the whole check takes a fraction of a
second and needs neither Django nor a database. The rules, lowest layer first, are the table ``LAYERS``;
docs/contributing.md draws the same map. To tighten a rule, move a prefix or drop an entry of
``ALLOWED``; a new module that fits no layer fails ``test_every_module_has_a_layer``.

Slack left on purpose, for the next step of the layout: ``crypto``, ``http``, ``site_probe`` and
``configured`` share one layer with ``ratelimit`` (the token store's and the wiki transport's modules
still live at the top of the package), and the faces may import one another.
"""

from __future__ import annotations

import ast
import time
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "mwsso"

# Lowest first. A module belongs to the layer of its longest matching prefix ("mwsso" alone is the
# root package's __init__); it may import its own layer and the ones below, never one above.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("protocol", ("mwsso.protocol",)),
    ("foundation", ("mwsso.exceptions", "mwsso.app_settings", "mwsso.signals", "mwsso.local_wiki")),
    (
        "wiki access and site services",
        ("mwsso.http", "mwsso.site_probe", "mwsso.configured", "mwsso.crypto", "mwsso.ratelimit"),
    ),
    ("token store", ("mwsso.models", "mwsso.tokens")),
    ("API client", ("mwsso.api",)),
    ("sign-in", ("mwsso.socialauth", "mwsso.backends", "mwsso.pipeline", "mwsso.policy")),
    (
        "faces",
        (
            "mwsso",
            "mwsso.apps",
            "mwsso.urls",
            "mwsso.views",
            "mwsso.checks",
            "mwsso.admin",
            "mwsso.diagnostics",
            "mwsso.management",
            "mwsso.templatetags",
            "mwsso.migrations",
            "mwsso.contrib",
        ),
    ),
]
# What the protocol layer may not import at all: it is plain Python over HTTP.
NOT_IN_PROTOCOL = ("django", "social_core", "social_django", "allauth", "mwsso_devwiki")
# The local wiki is a separate distribution; mwsso runs it as a program, never imports it.
NEVER_IMPORTED = ("mwsso_devwiki",)
# Names that are metadata, not a dependency: the version is defined in the root package for packaging.
IGNORED_NAMES = {("mwsso", "__version__")}
# (importer prefix, imported prefix): why this upward import is allowed for now. Empty today.
ALLOWED: dict[tuple[str, str], str] = {}


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def scan(package_dir: Path) -> dict[str, set[str]]:
    """Each module of the package (by dotted name) and every module it imports (dotted; third-party ones too)."""
    sources = {_module_name(path, package_dir): path for path in package_dir.rglob("*.py")}
    modules = set(sources)
    graph: dict[str, set[str]] = {}
    for name, path in sources.items():
        is_package = path.name == "__init__.py"
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = name.split(".") if is_package else name.split(".")[:-1]
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in node.names:
                    if (base, alias.name) in IGNORED_NAMES:
                        continue
                    sub = f"{base}.{alias.name}"
                    found.add(sub if sub in modules else base)
        found.discard(name)
        graph[name] = found
    return graph


def layer_of(module: str) -> int | None:
    best: tuple[int, int] | None = None  # (prefix length, layer)
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            # "mwsso" names the root package alone, not everything under it.
            if module == prefix or (prefix != "mwsso" and module.startswith(prefix + ".")):
                if best is None or len(prefix) > best[0]:
                    best = (len(prefix), index)
    return None if best is None else best[1]


def unit_of(module: str) -> str:
    """The package-level unit a module is part of: ``mwsso.tokens.refresh`` -> ``mwsso.tokens``."""
    return ".".join(module.split(".")[:2])


def _allowed(importer: str, imported: str) -> bool:
    return any(
        (importer == a or importer.startswith(a + ".")) and (imported == b or imported.startswith(b + "."))
        for a, b in ALLOWED
    )


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one unit (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def violations(graph: dict[str, set[str]]) -> list[str]:
    """Every broken rule, one line each (empty when the code keeps them all)."""
    broken: list[str] = []
    ours = {m for m in graph if m == "mwsso" or m.startswith("mwsso.")}
    for importer in sorted(ours):
        importer_layer = layer_of(importer)
        for imported in sorted(graph[importer]):
            top = imported.split(".")[0]
            if top in NEVER_IMPORTED:
                broken.append(f"{importer} imports {imported}: nothing in mwsso imports the local wiki")
            if importer_layer == 0 and (top in NOT_IN_PROTOCOL or (top == "mwsso" and layer_of(imported) != 0)):
                broken.append(
                    f"{importer} imports {imported}: the protocol layer imports no Django and nothing above it"
                )
            if top != "mwsso":
                continue
            if unit_of(importer) == "mwsso.tokens" and unit_of(imported) == "mwsso.api":
                broken.append(f"{importer} imports {imported}: the token store does not import the API client")
            imported_layer = layer_of(imported)
            if importer_layer is None or imported_layer is None:
                continue  # reported by test_every_module_has_a_layer
            if imported_layer > importer_layer and not _allowed(importer, imported):
                broken.append(
                    f"{importer} imports {imported}: layer '{LAYERS[importer_layer][0]}' is below '{LAYERS[imported_layer][0]}'"
                )
    units: dict[str, set[str]] = {}
    for importer in ours:
        for imported in graph[importer]:
            if imported.split(".")[0] == "mwsso" and unit_of(imported) != unit_of(importer):
                units.setdefault(unit_of(importer), set()).add(unit_of(imported))
    for cycle in _cycles(units):
        broken.append(f"packages import each other: {' <-> '.join(cycle)}")
    return broken


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return scan(PACKAGE)


def test_the_code_keeps_every_rule(graph):
    started = time.perf_counter()
    found = violations(scan(PACKAGE))
    elapsed = time.perf_counter() - started
    assert found == []
    assert len(graph) > 80  # every module was read, not an empty walk
    print(f"layers checked over {len(graph)} modules in {elapsed:.2f} s")


def test_every_module_has_a_layer(graph):
    assert sorted(m for m in graph if layer_of(m) is None) == []


def _with(graph: dict[str, set[str]], edges: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    changed = {module: set(imported) for module, imported in graph.items()}
    for importer, imported in edges:
        changed.setdefault(importer, set()).add(imported)
    return changed


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ([("mwsso.protocol.oauth1", "django.conf")], "the protocol layer imports no Django"),
        ([("mwsso.protocol.wikiurls", "mwsso.models")], "the protocol layer imports no Django and nothing above it"),
        ([("mwsso.tokens.refresh", "mwsso.api.errors")], "the token store does not import the API client"),
        ([("mwsso.views.signin", "mwsso_devwiki.testing")], "nothing in mwsso imports the local wiki"),
        ([("mwsso.exceptions", "mwsso.views.signin")], "layer 'foundation' is below 'faces'"),
        (
            [("mwsso.pipeline", "mwsso.backends.base"), ("mwsso.backends.base", "mwsso.pipeline")],
            "packages import each other",
        ),
    ],
    ids=[
        "protocol imports Django",
        "protocol imports above",
        "tokens import api",
        "devwiki",
        "upward",
        "cycle in one layer",
    ],
)
def test_each_rule_fails_when_broken(graph, edges, expected):
    found = violations(_with(graph, edges))
    assert any(expected in line for line in found), found


def test_the_scan_reads_lazy_relative_and_from_imports(tmp_path):
    package = tmp_path / "mwsso"
    (package / "inner").mkdir(parents=True)
    (package / "__init__.py").write_text("__version__ = '1'\n")
    (package / "low.py").write_text("X = 1\n")
    (package / "inner" / "__init__.py").write_text("from . import sibling\n")
    (package / "inner" / "sibling.py").write_text(
        "from mwsso import __version__, low\nfrom ..low import X\n\n\ndef later():\n    import mwsso_devwiki.testing\n"
    )
    found = scan(package)
    assert found["mwsso.inner"] == {"mwsso.inner.sibling"}
    assert found["mwsso.inner.sibling"] == {"mwsso.low", "mwsso_devwiki.testing"}
