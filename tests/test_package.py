"""The sdist and the wheel, as ``python -m build`` makes them: complete for the app, and no tests in them.

``make package`` builds into dist/ and runs these with ``MWSSO_DIST_DIR=dist``; without it, the tests build
into a temporary directory themselves (about 10 s; ``-m "not package"`` leaves them out).
"""

from __future__ import annotations

import email
import os
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import mwsso

pytestmark = pytest.mark.package

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    given = os.environ.get("MWSSO_DIST_DIR")
    if given:
        yield Path(given)
        return
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(REPO)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    yield out


def _one(dist: Path, pattern: str) -> Path:
    (found,) = sorted(dist.glob(pattern))
    return found


@pytest.fixture(scope="module")
def wheel_files(dist: Path) -> set[str]:
    with zipfile.ZipFile(_one(dist, f"mwsso-{mwsso.__version__}-py3-none-any.whl")) as wheel:
        return set(wheel.namelist())


@pytest.fixture(scope="module")
def sdist_files(dist: Path) -> set[str]:
    with tarfile.open(_one(dist, f"mwsso-{mwsso.__version__}.tar.gz")) as sdist:
        prefix = f"mwsso-{mwsso.__version__}/"
        return {member.name.removeprefix(prefix) for member in sdist.getmembers() if member.isfile()}


def _source_files(folder: str) -> set[str]:
    """The app's files in this checkout, as they would be named in the wheel (compiled files left out)."""
    return {
        path.relative_to(REPO).as_posix()
        for path in (REPO / folder).rglob("*")
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


def test_the_wheel_holds_no_tests_demo_or_benchmarks(wheel_files):
    assert not [name for name in wheel_files if name.split("/")[0] in ("tests", "project", "bench", "templates")]


def test_the_sdist_holds_no_tests_and_builds_the_same_app(sdist_files):
    assert not [name for name in sdist_files if name.split("/")[0] in ("tests", "project", "bench")]
    assert {"README.md", "CHANGELOG.md", "LICENSE", "pyproject.toml"} <= sdist_files
    assert _source_files("mwsso") <= sdist_files
    assert _source_files("docs") <= sdist_files


def test_the_metadata_names_license_urls_and_tested_versions(dist, wheel_files):
    with zipfile.ZipFile(_one(dist, "*.whl")) as wheel:
        metadata = email.message_from_bytes(wheel.read(f"mwsso-{mwsso.__version__}.dist-info/METADATA"))
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
    extras = PYPROJECT["project"].get("optional-dependencies", {})
    assert list(extras) == ["allauth"]  # mwsso.contrib.allauth (docs/allauth.md)
    assert [requirement for requirement in extras["allauth"] if ";" in requirement] == []


def test_readme_links_to_the_repository_named_in_the_project_urls():
    readme = (REPO / "README.md").read_text()
    base = PYPROJECT["project"]["urls"]["Source"]
    for page in sorted((REPO / "docs").glob("*.md")):
        assert f"{base}/blob/main/docs/{page.name}" in readme, f"the README does not link to docs/{page.name}"
