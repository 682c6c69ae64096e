""".ci/pip_audit.py: a found vulnerability fails CI, a database out of reach does not."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "pip_audit.py"


@pytest.fixture(scope="module")
def audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ci_pip_audit", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_known_vulnerability_fails(audit: ModuleType) -> None:
    report = {"dependencies": [
        {"name": "jinja2", "version": "3.1.2", "vulns": [
            {"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"]}]},
        {"name": "msgspec", "version": "0.23.0", "vulns": []},
    ]}
    code, message = audit.verdict(report)
    assert code == 1
    assert "jinja2 3.1.2: GHSA-h5c8-rqwp-cp95 (fixed in 3.1.3)" in message


def test_no_vulnerability_passes_and_counts(audit: ModuleType) -> None:
    report = {"dependencies": [{"name": "msgspec", "version": "0.23.0", "vulns": []},
                               {"name": "six", "skip_reason": "not on PyPI"}]}
    assert audit.verdict(report) == (
        0, "pip-audit: 1 locked packages, no known vulnerabilities (1 not audited)")


def test_a_database_out_of_reach_skips_with_its_reason(audit: ModuleType) -> None:
    """An index without PyPI's JSON API answers "not found" for every package: nothing was
    audited, which is said, and CI goes on."""
    report = {"dependencies": [
        {"name": "anyio", "skip_reason": "Dependency not found on PyPI and could not be "
                                         "audited: anyio (4.16.0)"}]}
    code, message = audit.verdict(report)
    assert code == 0
    assert message.startswith("pip-audit skipped: its vulnerability database could not be")


def test_an_ignored_vulnerability_needs_a_reason(audit: ModuleType) -> None:
    assert audit.ignored("# comment\n\nPYSEC-2024-1 only the CLI, never served\n") == {
        "PYSEC-2024-1": "only the CLI, never served"}
    with pytest.raises(ValueError, match="needs a reason"):
        audit.ignored("PYSEC-2024-1\n")
