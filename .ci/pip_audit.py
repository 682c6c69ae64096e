# ruff: noqa: T201 - a CI step that prints its verdict
"""pip-audit of requirements/ci.lock, for .ci/run: fail on a known vulnerability, never on a
missing network.

A vulnerability listed in requirements/audit-ignore.txt (``<id> <reason>``, one a line; a line
without a reason is an error) is not reported. When pip-audit cannot reach its vulnerability
database (no network, or an index that does not serve PyPI's JSON API, so every package comes
back "not audited") this prints why and passes: CI must not fail for the network's absence.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "ci.lock"
IGNORE = ROOT / "requirements" / "audit-ignore.txt"
LIMIT_SECONDS = 300  # the whole audit; each request has 10 s (--timeout)
_OFFLINE_HINTS = ("connection", "resolve", "timed out", "timeout", "network", "unreachable",
                  "name or service not known", "temporary failure")


def ignored(text: str) -> dict[str, str]:
    """``{vulnerability id: reason}`` from the ignore file's text; a bare id is an error."""
    found = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        vuln, _, reason = line.partition(" ")
        if not reason.strip():
            raise ValueError(f"{IGNORE.name} line {number}: {vuln} needs a reason")
        found[vuln] = reason.strip()
    return found


def verdict(report: dict[str, Any]) -> tuple[int, str]:
    """(exit code, what to print) for pip-audit's JSON report."""
    deps = report.get("dependencies", [])
    audited = [dep for dep in deps if "skip_reason" not in dep]
    vulnerable = [(dep, vuln) for dep in audited for vuln in dep.get("vulns", [])]
    if vulnerable:
        lines = [f"  {dep['name']} {dep['version']}: {vuln['id']} (fixed in "
                 f"{', '.join(vuln.get('fix_versions') or ['no release yet'])})"
                 for dep, vuln in vulnerable]
        return 1, ("pip-audit: known vulnerabilities (fix, or list them with a reason in "
                   f"requirements/{IGNORE.name}):\n" + "\n".join(lines))
    if deps and not audited:
        return 0, ("pip-audit skipped: its vulnerability database could not be reached "
                   f"(every package not audited, e.g. {deps[0]['skip_reason']!r})")
    return 0, (f"pip-audit: {len(audited)} locked packages, no known vulnerabilities"
               f" ({len(deps) - len(audited)} not audited)")


def main() -> int:
    try:
        skip = ignored(IGNORE.read_text(encoding="utf-8") if IGNORE.exists() else "")
    except ValueError as exc:
        print(f"pip-audit: {exc}")
        return 1
    command = [sys.executable, "-m", "pip_audit", "-r", str(LOCK), "--no-deps", "--disable-pip",
               "--progress-spinner", "off", "-f", "json", "--timeout", "10"]
    for vuln in skip:
        command += ["--ignore-vuln", vuln]
    try:
        done = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
            command, capture_output=True, text=True, timeout=LIMIT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        print(f"pip-audit skipped: its vulnerability database did not answer in {LIMIT_SECONDS} s")
        return 0
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        error = done.stderr.strip().splitlines()[-1:] or ["no output"]
        if any(hint in done.stderr.lower() for hint in _OFFLINE_HINTS):
            print(f"pip-audit skipped: its vulnerability database could not be reached "
                  f"({error[0][:200]})")
            return 0
        print(f"pip-audit failed: {done.stderr[-2000:]}")
        return 1
    code, message = verdict(report)
    print(message)
    return code


if __name__ == "__main__":
    sys.exit(main())
