"""Shared fixtures: a small synthetic world, zone keys, and one full demo run per session."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from justicelink.crypto import ZoneKeys
from justicelink.logsetup import quiet_libraries
from justicelink.synth import generate

# what the command line does at start-up, once, before any test module imports a zone
quiet_libraries()

DEMO_PEOPLE = 60_000
# sign-ins made by tests never touch the real user's config directory
os.environ["JUSTICELINK_CONFIG_DIR"] = tempfile.mkdtemp(prefix="justicelink-test-config-")
os.environ.pop("JUSTICELINK_TOKEN", None)
os.environ.pop("JUSTICELINK_HOME", None)


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory):
    """A 20,000-person synthetic world (register, every extract, truth)."""
    out = tmp_path_factory.mktemp("world") / "w"
    return generate(out, people=20_000, seed=7, progress=False)


@pytest.fixture()
def zones(tmp_path: Path) -> dict[str, ZoneKeys]:
    return {
        "provider": ZoneKeys.create(tmp_path / "provider", "provider"),
        "linkage": ZoneKeys.create(tmp_path / "linkage", "linkage"),
        "bank": ZoneKeys.create(tmp_path / "bank", "bank"),
    }


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from rich.console import Console

    from justicelink.demo import run_demo

    root = tmp_path_factory.mktemp("demo") / "home"
    run_demo(root, people=DEMO_PEOPLE, seed=11, console=Console(quiet=True))
    return root


@pytest.fixture(scope="session")
def pg_server():
    from pg import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def control_url(request, tmp_path: Path) -> str:
    """The control-plane database: every control test runs on SQLite and on PostgreSQL 15."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'control.db'}"
    from pg import fresh_database

    return fresh_database(request.getfixturevalue("pg_server"))
