"""The SQL beside the code: every statement a module names exists, and every file is used."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from admitone.db.migrate import MigrationNumberError, available_migrations, collect_migrations

ROOT = Path(__file__).resolve().parents[2] / "admitone"


def _named_statements() -> dict[str, set[str]]:
    """``package -> names`` of every ``sql("name")`` call, where the module's ``sql`` is
    ``sql_folder("package")``."""
    named: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        package = None
        for node in tree.body:
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                    and getattr(node.value.func, "id", None) == "sql_folder"):
                package = node.value.args[0].value  # type: ignore[attr-defined]
        if package is None:
            continue
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "sql"
                    and node.args and isinstance(node.args[0], ast.Constant)):
                named.setdefault(package, set()).add(node.args[0].value)
    return named


def _folder(package: str) -> Path:
    return ROOT.parent.joinpath(*package.split(".")) / "sql"


def test_every_named_statement_has_its_file() -> None:
    """A module asks only for SQL files its own package holds."""
    named = _named_statements()
    assert set(named) >= {"admitone.booking_core", "admitone.admission", "admitone.db"}
    missing = [f"{package}: {name}" for package, names in named.items() for name in names
               if not (_folder(package) / f"{name}.sql").is_file()]
    assert missing == []


def test_every_sql_file_is_used_and_holds_one_commented_statement() -> None:
    """No file is left behind by a move, and each starts by saying what it does."""
    named = _named_statements()
    for package, names in named.items():
        files = {path.stem: path for path in _folder(package).glob("*.sql")}
        assert set(files) == names, package
        for path in files.values():
            text = path.read_text(encoding="utf-8")
            assert text.startswith("-- "), path.name
            body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
            assert ";" not in body.rstrip().rstrip(";"), path.name


def test_migrations_of_every_package_run_in_one_number_order() -> None:
    """booking_core's and admission's migrations form one sequence; the version recorded is
    the file name, as databases migrated before the split recorded it."""
    versions = [version for version, _ in available_migrations()]
    assert versions[:4] == ["0001_schema", "0002_seat_functions", "0003_sandbox_gateway",
                            "0005_waiting_rooms"]
    assert versions == sorted(versions)
    assert all(re.fullmatch(r"\d{4}_[a-z0-9_]+", version) for version in versions)


def test_migrations_are_collected_across_folders_by_number(tmp_path: Path) -> None:
    """A later number in one folder runs after an earlier one in another; other files are
    ignored."""
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (first / "0002_two.sql").write_text("SELECT 2")
    (second / "0001_one.sql").write_text("SELECT 1")
    (second / "0003_three.sql").write_text("SELECT 3")
    (second / "README.md").write_text("not a migration")
    assert collect_migrations([first, second]) == [
        ("0001_one", "SELECT 1"), ("0002_two", "SELECT 2"), ("0003_three", "SELECT 3")]


def test_two_migrations_with_one_number_are_refused(tmp_path: Path) -> None:
    """Two packages cannot both claim a number: which runs first would be a guess."""
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (first / "0004_rooms.sql").write_text("SELECT 1")
    (second / "0004_seats.sql").write_text("SELECT 2")
    with pytest.raises(MigrationNumberError, match="0004"):
        collect_migrations([first, second])
