"""The production settings example in docs/deploying.md passes ``manage.py check --deploy`` as written."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from tests.production.processes import REPO

# The two HSTS choices docs/deploying.md leaves to each site.
LEFT_TO_THE_SITE = {"security.W005", "security.W021"}


def readme_settings_example() -> str:
    section = (REPO / "docs" / "deploying.md").read_text().split("# Deploying in production", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_readme_production_settings_pass_the_deploy_checks(tmp_path: Path) -> None:
    code = readme_settings_example()
    assert "from mysite.settings import *" in code
    package = tmp_path / "mysite"
    package.mkdir()
    (package / "__init__.py").write_text("")
    # The demo project stands in for "your site's base settings".
    (package / "settings_production.py").write_text(
        code.replace("from mysite.settings import", "from project.settings import")
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "MWSSO_", "DATABASE_"))}
    env.update(
        PYTHONPATH=os.pathsep.join([str(tmp_path), str(REPO)]),
        DJANGO_SETTINGS_MODULE="mysite.settings_production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL="postgres://mwsso@db.internal:5432/mwsso",
        REDIS_URL="redis://cache.internal:6379/0",
        MWSSO_CONSUMER_KEY="0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        MWSSO_CONSUMER_SECRET=secrets.token_hex(20),
        MWSSO_TOKEN_KEYS=",".join([Fernet.generate_key().decode(), Fernet.generate_key().decode()]),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert set(re.findall(r"\(([\w.]+\.[EW]\d{3})\)", output)) <= LEFT_TO_THE_SITE, output
