"""The local wiki's layers, read from its source: each part imports only from the layers below it (its
peers in a layer not from each other), no module-level import cycle, and nothing crosses between the
local wiki and the site it stands in for (mwsso_devwiki/__init__.py lists the layers)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import mwsso_devwiki

import mwsso

PACKAGE = Path(mwsso_devwiki.__file__).parent
SITE = Path(mwsso.__file__).parent

# Lowest first. A part is a module or subpackage of mwsso_devwiki (the faults package's two halves apart).
LAYERS = [
    ("versions", "wikiurls", "messages"),
    ("faults.switches",),
    ("state",),
    ("web",),
    ("faults.answers",),
    ("oauth1", "oauth2", "site"),
    ("api",),
    ("control",),
    ("app",),
    ("server", "browser"),
    ("serve", "testing"),
    ("cli", "pytest_plugin"),
    ("__main__",),
]
RANK = {part: rank for rank, parts in enumerate(LAYERS) for part in parts}


def _name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, root: Path, *, runtime_only: bool = False) -> Iterator[tuple[str, int]]:
    """(imported module or package, line) for every import in the file; ``runtime_only``: only those run on
    import (module level, outside ``if TYPE_CHECKING:``)."""
    name = _name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = _module_level(tree.body) if runtime_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:  # "from . import oauth2" imports the module oauth2
                candidate = f"{base}.{alias.name}"
                is_module = (root.parent / candidate.replace(".", "/")).with_suffix(".py").exists() or (
                    root.parent / candidate.replace(".", "/")
                ).is_dir()
                yield (candidate if is_module else base), node.lineno


def _module_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    for node in body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, (ast.If, ast.Try)):
            yield from _module_level([*node.body, *getattr(node, "orelse", []), *getattr(node, "finalbody", [])])
        else:
            yield node


def _part(module: str) -> str:
    parts = module.split(".")[1:]
    if not parts:
        return "__init__"
    return ".".join(parts[:2]) if parts[0] == "faults" else parts[0]


def _sources(root: Path) -> list[Path]:
    return sorted(root.rglob("*.py"))


def test_every_part_of_the_local_wiki_has_a_layer() -> None:
    parts = {_part(_name(path, PACKAGE)) for path in _sources(PACKAGE)} - {"__init__", "faults"}
    assert parts == set(RANK)


def test_each_part_imports_only_from_the_layers_below_it() -> None:
    wrong = []
    for path in _sources(PACKAGE):
        importer = _part(_name(path, PACKAGE))
        if importer in ("__init__", "faults"):  # the package's face, and faults/__init__ (empty)
            continue
        for module, line in _imports(path, PACKAGE):
            if not module.startswith("mwsso_devwiki"):
                continue
            imported = _part(module)
            if imported != importer and (imported not in RANK or RANK[imported] >= RANK[importer]):
                wrong.append(f"{path.relative_to(PACKAGE)}:{line} ({importer}) imports {module} ({imported})")
    assert wrong == []


def test_no_module_level_import_cycle() -> None:
    graph = {
        _name(path, PACKAGE): {
            m for m, _ in _imports(path, PACKAGE, runtime_only=True) if m.startswith("mwsso_devwiki.")
        }
        for path in _sources(PACKAGE)
    }
    cycles = []
    state: dict[str, str] = {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                cycles.append([*trail[trail.index(target) :], target] if target in trail else [module, target])
            elif target not in state:
                visit(target, [*trail, target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_the_local_wiki_imports_nothing_of_the_site_and_the_site_nothing_of_it() -> None:
    def crossing(root: Path, forbidden: tuple[str, ...]) -> list[str]:
        return [
            f"{path.relative_to(root.parent)}:{line} imports {module}"
            for path in _sources(root)
            for module, line in _imports(path, root)
            if module.split(".")[0] in forbidden
        ]

    assert crossing(PACKAGE, ("mwsso", "django", "social_core", "social_django")) == []
    assert crossing(SITE, ("mwsso_devwiki",)) == []
