"""The sdists and wheels, as ``python -m build`` makes them: complete for the app, and no tests in them.

Two distributions come from this repository: mwsso (the app) and mwsso-devwiki (the local wiki, from
devwiki/), which mwsso's extra ``devwiki`` installs and mwsso itself never holds or needs.
``make package`` builds both into dist/ and runs these with ``MWSSO_DIST_DIR=dist``; without it, the
tests build into a temporary directory themselves (about 15 s; ``-m "not package"`` leaves them out).
"""

from __future__ import annotations

import email
import email.message
import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import mwsso_devwiki
import pytest

import mwsso

# One xdist worker builds the sdists and wheels once for the whole file (make test's --dist loadgroup).
pytestmark = [pytest.mark.package, pytest.mark.xdist_group("package")]

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
DEVWIKI = f"mwsso_devwiki-{mwsso_devwiki.__version__}"


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    given = os.environ.get("MWSSO_DIST_DIR")
    if given:
        yield Path(given)
        return
    out = tmp_path_factory.mktemp("dist")
    # Built from a copy: setuptools stages an sdist in the source directory (mwsso-0.1.0/, build/, the egg-info),
    # where the other tests of a parallel run (make run, the quick starts) work in the same checkout. A stage
    # removed under it by anything else failed the build ("No such file or directory: 'mwsso-0.1.0/…'").
    source_copy = tmp_path_factory.mktemp("source") / "mwsso"
    shutil.copytree(REPO, source_copy, ignore=_NOT_SOURCES)
    for source in (source_copy, source_copy / "devwiki"):
        result = subprocess.run(
            [sys.executable, "-m", "build", "--outdir", str(out), str(source)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    yield out


# What a checkout holds beside its sources: environments, caches, build output, local state.
_NOT_SOURCES = shutil.ignore_patterns(
    ".git",
    ".venv*",
    "__pycache__",
    "*.pyc",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    "*.egg-info",
    "build",
    "dist",
    "mwsso-*",
    "devwiki-state.json",
    "*.sqlite3",
    "node_modules",
)


def _one(dist: Path, pattern: str) -> Path:
    (found,) = sorted(dist.glob(pattern))
    return found


@pytest.fixture(scope="module")
def wheel_files(dist: Path) -> set[str]:
    with zipfile.ZipFile(_one(dist, f"mwsso-{mwsso.__version__}-py3-none-any.whl")) as wheel:
        return set(wheel.namelist())


@pytest.fixture(scope="module")
def wheel_metadata(dist: Path) -> email.message.Message:
    with zipfile.ZipFile(_one(dist, f"mwsso-{mwsso.__version__}-py3-none-any.whl")) as wheel:
        return email.message_from_bytes(wheel.read(f"mwsso-{mwsso.__version__}.dist-info/METADATA"))


@pytest.fixture(scope="module")
def sdist_files(dist: Path) -> set[str]:
    with tarfile.open(_one(dist, f"mwsso-{mwsso.__version__}.tar.gz")) as sdist:
        prefix = f"mwsso-{mwsso.__version__}/"
        return {member.name.removeprefix(prefix) for member in sdist.getmembers() if member.isfile()}


def _source_files(folder: str, root: Path = REPO) -> set[str]:
    """The app's files in this checkout, as they would be named in the wheel (compiled files left out)."""
    return {
        path.relative_to(root).as_posix()
        for path in (root / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo")
    }


def test_the_wheel_holds_every_file_of_the_app_and_nothing_else(wheel_files):
    app = {name for name in wheel_files if not name.startswith(f"mwsso-{mwsso.__version__}.dist-info/")}
    assert app == _source_files("mwsso")


def test_the_wheel_holds_templates_static_files_and_translations(wheel_files):
    assert {"mwsso/templates/mwsso/login_button.html", "mwsso/templates/mwsso/login_error.html"} <= wheel_files
    # The button's CSS and the translations, wherever the checkout has them (whole folders, by the test above).
    for folder in ("mwsso/static", "mwsso/locale"):
        assert _source_files(folder) <= wheel_files


def test_the_wheel_and_sdist_say_the_app_is_typed(wheel_files, sdist_files, wheel_metadata):
    # PEP 561: without the marker a site's type checker ignores mwsso's annotations.
    assert "mwsso/py.typed" in wheel_files and "mwsso/py.typed" in sdist_files
    assert "Typing :: Typed" in wheel_metadata.get_all("Classifier")


def test_the_wheel_holds_no_tests_demo_or_benchmarks(wheel_files):
    assert not [name for name in wheel_files if name.split("/")[0] in ("tests", "project", "bench", "templates")]


def test_the_sdist_holds_no_tests_and_builds_the_same_app(sdist_files):
    assert not [name for name in sdist_files if name.split("/")[0] in ("tests", "project", "bench")]
    assert {"README.md", "CHANGELOG.md", "LICENSE", "pyproject.toml"} <= sdist_files
    assert _source_files("mwsso") <= sdist_files
    assert _source_files("docs") <= sdist_files


def test_the_metadata_names_license_urls_and_tested_versions(wheel_metadata, wheel_files):
    metadata = wheel_metadata
    assert metadata["License-Expression"] == "MIT"
    assert f"mwsso-{mwsso.__version__}.dist-info/licenses/LICENSE" in wheel_files
    urls = dict(value.split(", ", 1) for value in metadata.get_all("Project-URL"))
    assert set(urls) >= {"Homepage", "Documentation", "Source", "Issues", "Changelog"}
    assert all(url.startswith("https://github.com/mwsso/mwsso") for url in urls.values())
    classifiers = metadata.get_all("Classifier")
    assert {"Framework :: Django :: 5.2", "Framework :: Django :: 6.1"} <= set(classifiers)
    assert {"Programming Language :: Python :: 3.11", "Programming Language :: Python :: 3.13"} <= set(classifiers)
    assert metadata["Description-Content-Type"] == "text/markdown"


def test_every_classifier_is_one_pypi_accepts():
    from trove_classifiers import classifiers

    assert [c for c in PYPROJECT["project"]["classifiers"] if c not in classifiers] == []


def test_no_extra_that_can_never_apply():
    # An extra whose every requirement carries a marker excluded by requires-python would install nothing.
    from packaging.requirements import Requirement

    for extra, requirements in PYPROJECT["project"].get("optional-dependencies", {}).items():
        parsed = [Requirement(line) for line in requirements]
        applies = [
            r for r in parsed for python in ("3.11", "3.13")
            if r.marker is None or r.marker.evaluate({"python_version": python, "extra": extra})
        ]  # fmt: skip
        assert applies, f"mwsso[{extra}] installs nothing on a supported Python"


# -- the local wiki: a distribution of its own -------------------------------------------------------


def test_the_devwiki_extra_installs_the_local_wiki_of_this_version(wheel_metadata):
    assert PYPROJECT["project"]["optional-dependencies"]["devwiki"] == [f"mwsso-devwiki=={mwsso_devwiki.__version__}"]
    assert "devwiki" in wheel_metadata.get_all("Provides-Extra")
    wanted = f'mwsso-devwiki=={mwsso_devwiki.__version__}; extra == "devwiki"'
    assert [r for r in wheel_metadata.get_all("Requires-Dist") if "devwiki" in r] == [wanted]


def test_mwsso_holds_nothing_of_the_local_wiki(wheel_files, sdist_files):
    assert not [name for name in wheel_files | sdist_files if "devwiki" in name.split("/")[0]]


@pytest.fixture(scope="module")
def devwiki_wheel(dist: Path) -> Iterator[zipfile.ZipFile]:
    with zipfile.ZipFile(_one(dist, f"{DEVWIKI}-py3-none-any.whl")) as wheel:
        yield wheel


def test_the_local_wikis_wheel_holds_its_package_and_nothing_else(devwiki_wheel):
    files = {name for name in devwiki_wheel.namelist() if not name.startswith(f"{DEVWIKI}.dist-info/")}
    assert files == _source_files("mwsso_devwiki", REPO / "devwiki")


def test_the_local_wiki_brings_its_pytest_plugin_and_command(devwiki_wheel):
    entry_points = devwiki_wheel.read(f"{DEVWIKI}.dist-info/entry_points.txt").decode()
    assert "[pytest11]\nmwsso_devwiki = mwsso_devwiki.pytest_plugin" in entry_points
    assert "[console_scripts]\nmwsso-devwiki = mwsso_devwiki.cli:main" in entry_points


def test_the_local_wikis_metadata_names_license_and_needs_nothing_of_mwsso(devwiki_wheel):
    metadata = email.message_from_bytes(devwiki_wheel.read(f"{DEVWIKI}.dist-info/METADATA"))
    assert (metadata["Name"], metadata["Version"]) == ("mwsso-devwiki", mwsso_devwiki.__version__)
    assert metadata["License-Expression"] == "MIT"
    assert f"{DEVWIKI}.dist-info/licenses/LICENSE" in devwiki_wheel.namelist()
    assert devwiki_wheel.read(f"{DEVWIKI}.dist-info/licenses/LICENSE") == (REPO / "LICENSE").read_bytes()
    needs = [r.split(">")[0].split("=")[0].split(";")[0].strip() for r in metadata.get_all("Requires-Dist")]
    assert sorted(needs) == ["cryptography", "requests"]
    assert metadata["Description-Content-Type"] == "text/markdown"
    urls = [value.split(", ", 1)[1] for value in metadata.get_all("Project-URL")]
    assert urls and all(url.startswith("https://github.com/mwsso/mwsso") for url in urls)


def test_the_local_wikis_sdist_holds_its_package_readme_and_license(dist):
    with tarfile.open(_one(dist, f"{DEVWIKI}.tar.gz")) as sdist:
        files = {m.name.removeprefix(f"{DEVWIKI}/") for m in sdist.getmembers() if m.isfile()}
    assert {"README.md", "LICENSE", "pyproject.toml"} <= files
    assert _source_files("mwsso_devwiki", REPO / "devwiki") <= files
    assert not [name for name in files if name.split("/")[0] in ("tests", "project", "bench", "mwsso")]


def test_readme_links_to_the_repository_named_in_the_project_urls():
    readme = (REPO / "README.md").read_text()
    base = PYPROJECT["project"]["urls"]["Source"]
    for page in sorted((REPO / "docs").glob("*.md")):
        assert f"{base}/blob/main/docs/{page.name}" in readme, f"the README does not link to docs/{page.name}"


# -- a site with the app's wheel and without the local wiki ------------------------------------------

# Run in the new site: the checkout's editable installs out of the way, the wheel's mwsso in, no local wiki.
WITHOUT_THE_LOCAL_WIKI = """
import importlib.util, runpy, sys
sys.meta_path[:] = [f for f in sys.meta_path if "mwsso" not in getattr(f, "__module__", "")]
assert importlib.util.find_spec("mwsso_devwiki") is None, "the local wiki is importable"
import mwsso
assert mwsso.__file__.startswith(sys.argv[1]), mwsso.__file__
sys.argv = ["manage.py", *sys.argv[2:]]
runpy.run_path("manage.py", run_name="__main__")
"""


def test_the_wheel_installs_and_a_site_without_the_local_wiki_passes_its_checks(dist, tmp_path):
    from cryptography.fernet import Fernet

    from tests.test_quickstart import quickstart_blocks

    target = tmp_path / "site-packages"
    wheel = _one(dist, f"mwsso-{mwsso.__version__}-py3-none-any.whl")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MWSSO_", "DATABASE_", "PYTHON"))}
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target", str(target), str(wheel)],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    assert not (target / "mwsso_devwiki").exists()
    # A new site with the README's settings and URLs (signing in against the local wiki, were it there).
    subprocess.run([sys.executable, "-m", "django", "startproject", "mysite"], cwd=tmp_path, env=env, check=True)
    root, blocks = tmp_path / "mysite", quickstart_blocks()
    settings = root / "mysite" / "settings.py"
    settings.write_text(settings.read_text() + "\n" + blocks["settings"][1])
    (root / "mysite" / "urls.py").write_text(blocks["urls"][1])
    (root / "templates").mkdir()
    env.update(PYTHONPATH=str(target), MWSSO_TOKEN_KEYS=Fernet.generate_key().decode())

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", WITHOUT_THE_LOCAL_WIKI, str(target), *args],
            cwd=root, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    check = manage("check")
    assert check.returncode == 0 and "System check identified no issues" in check.stdout, check.stdout + check.stderr
    # The command is there, and says how to install what it runs.
    wiki = manage("mwsso_devwiki")
    assert wiki.returncode == 1 and 'pip install "mwsso[devwiki]"' in wiki.stderr, wiki.stderr
