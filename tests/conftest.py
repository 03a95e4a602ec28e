"""Shared pytest fixtures: an empty store and a small demo organisation per test session."""

from __future__ import annotations

import pytest

from analytics.demo import build_demo
from tests.fixtures import new_db


@pytest.fixture
def db(tmp_path):
    """An empty store in a fresh file."""
    database = new_db(tmp_path / "test.duckdb")
    yield database
    database.close()


@pytest.fixture
def db_factory(tmp_path):
    """Make as many empty stores as a test needs."""
    made = []

    def make(name: str = "x"):
        database = new_db(tmp_path / f"{name}.duckdb")
        made.append(database)
        return database

    yield make
    for database in made:
        database.close()


@pytest.fixture(scope="session")
def demo_path(tmp_path_factory):
    """A small demo organisation (600 employees), built once per test process; do not write to it."""
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build_demo(path, seed=11, n_employees=600)
    return path


@pytest.fixture(scope="session")
def full_demo_path(tmp_path_factory):
    """The default-size demo organisation (2,000 employees, seed 7), as the dashboard ships it."""
    path = tmp_path_factory.mktemp("demo_full") / "demo.duckdb"
    build_demo(path)
    return path
