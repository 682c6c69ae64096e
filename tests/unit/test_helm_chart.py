"""Static checks of the Helm chart in helm/admitone.

Helm itself is not installed on the development machines, so these tests read the chart's files:
plain YAML must parse, every ``.Values…`` a template reads must be defined in values.yaml, every
setting the chart passes must be a real ``ADMITONE_*`` setting, and template blocks must balance.
Where a ``helm`` binary is on PATH, ``helm lint`` and ``helm template`` run as well.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from admitone.settings import Settings, env_name

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "admitone"
TEMPLATES = CHART / "templates"
# Set by the chart itself in the pod spec, or read from the Secret: never in values.config.
CHART_SET = {"host", "port", "data_dir", "background_jobs"}
SECRET_SET = {"database_url", "redis_url", "operator_token", "payment_webhook_secret", "smtp_url",
              "razorpay_key_id", "razorpay_key_secret", "razorpay_webhook_secret",
              "stripe_secret_key", "stripe_webhook_secret"}

VALUES_REF = re.compile(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
SPEC_REF = re.compile(r"\$spec\.([A-Za-z_][A-Za-z0-9_]*)")
ACTION = re.compile(r"{{-?\s*(.*?)\s*-?}}", re.S)
OPENERS = re.compile(r"^(if|range|with|define|block)\b")


def _values() -> dict[str, Any]:
    loaded = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _template_files() -> list[Path]:
    return sorted(p for p in TEMPLATES.iterdir() if p.suffix in {".yaml", ".tpl", ".txt"})


def _snake(name: str) -> str:
    """camelCase → snake_case, as the chart's ``snakecase`` does for the ConfigMap keys."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def test_chart_yaml_is_a_v2_application_chart_of_this_version() -> None:
    """Chart.yaml parses, is a v2 application chart, and its appVersion is the package's."""
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text(encoding="utf-8"))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert chart["apiVersion"] == "v2"
    assert chart["name"] == "admitone"
    assert chart["type"] == "application"
    assert re.fullmatch(r"\d+\.\d+\.\d+", chart["version"])
    assert chart["appVersion"] == project["version"]


def test_every_values_reference_in_templates_is_defined_in_values_yaml() -> None:
    """Each `.Values.a.b…` path a template reads exists in values.yaml: none is silently nil."""
    values = _values()
    missing = []
    for path in _template_files():
        for match in VALUES_REF.finditer(path.read_text(encoding="utf-8")):
            node: Any = values
            for part in match.group(1).strip(".").split("."):
                if not isinstance(node, dict) or part not in node:
                    missing.append(f"{path.name}: .Values{match.group(1)}")
                    break
                node = node[part]
    assert missing == []


def test_component_fields_read_through_spec_exist_for_gateway_and_scheduler() -> None:
    """The shared pod template reads `$spec.x` from both the gateway and the scheduler values."""
    values = _values()
    fields = set(SPEC_REF.findall((TEMPLATES / "_helpers.tpl").read_text(encoding="utf-8")))
    assert fields, "the pod template reads component fields through $spec"
    for component in ("gateway", "scheduler"):
        assert fields - set(values[component]) == set(), component


def test_config_keys_are_real_settings_and_hold_no_secrets() -> None:
    """Every values.config key is an ADMITONE_* setting; secrets and chart-set ones stay out."""
    fields = set(Settings.__struct_fields__)
    keys = {_snake(key) for key in _values()["config"]}
    assert keys - fields == set()
    assert keys & (CHART_SET | SECRET_SET) == set()


def test_config_defaults_are_the_apps_defaults() -> None:
    """values.config repeats the app's defaults: installing the chart changes nothing silently."""
    defaults = Settings()
    for key, value in _values()["config"].items():
        if value in (None, ""):
            continue
        assert getattr(defaults, _snake(key)) == value, key


def test_every_admitone_variable_in_templates_is_a_setting() -> None:
    """Each ADMITONE_* name the templates set is one that admitone/settings.py reads."""
    known = {env_name(field) for field in Settings.__struct_fields__}
    used = set()
    for path in _template_files():
        used |= set(re.findall(r"\bADMITONE_[A-Z_]+\b", path.read_text(encoding="utf-8")))
    used.discard("ADMITONE_")  # the ConfigMap's printf prefix
    assert used, "the templates set ADMITONE_* variables"
    assert used - known == set()
    assert {env_name(name) for name in CHART_SET | SECRET_SET} <= used


def test_template_actions_balance() -> None:
    """In every template, `{{`/`}}` pair up and each if/range/with/define has its `end`."""
    for path in _template_files():
        text = path.read_text(encoding="utf-8")
        assert text.count("{{") == text.count("}}"), path.name
        depth = 0
        for action in ACTION.findall(text):
            if action.startswith("/*"):
                continue
            if OPENERS.match(action):
                depth += 1
            elif action == "end":
                depth -= 1
            assert depth >= 0, f"{path.name}: an end without its block"
        assert depth == 0, f"{path.name}: a block without its end"


def test_probes_and_background_jobs_follow_the_design() -> None:
    """Liveness is /healthz, readiness /readyz; the scheduler runs the jobs, the gateway none."""
    values = _values()
    assert values["probes"]["liveness"]["path"] == "/healthz"
    assert values["probes"]["readiness"]["path"] == "/readyz"
    assert values["scheduler"]["enabled"] is True
    assert values["scheduler"]["replicaCount"] == 2
    gateway = (TEMPLATES / "deployment-gateway.yaml").read_text(encoding="utf-8")
    scheduler = (TEMPLATES / "deployment-scheduler.yaml").read_text(encoding="utf-8")
    assert '"backgroundJobs" (not .Values.scheduler.enabled)' in gateway
    assert '"backgroundJobs" true' in scheduler
    helpers = (TEMPLATES / "_helpers.tpl").read_text(encoding="utf-8")
    assert 'ternary "1" "0" .backgroundJobs' in helpers
    assert 'value: "0.0.0.0"' in helpers


def test_pods_run_as_non_root_on_a_read_only_root_file_system() -> None:
    """Default security contexts forbid root, privilege escalation and writes outside emptyDirs."""
    values = _values()
    assert values["podSecurityContext"]["runAsNonRoot"] is True
    assert values["podSecurityContext"]["runAsUser"] != 0
    assert values["securityContext"]["readOnlyRootFilesystem"] is True
    assert values["securityContext"]["allowPrivilegeEscalation"] is False
    assert values["securityContext"]["capabilities"]["drop"] == ["ALL"]


def _helm() -> str:
    helm = shutil.which("helm")
    if helm is None:
        pytest.skip("helm is not on PATH")
    return helm


def test_helm_lint_passes() -> None:
    """`helm lint` finds no error in the chart (runs only where helm is installed)."""
    helm = _helm()
    result = subprocess.run(  # noqa: S603 - a fixed helm command on the repository's own chart
        [helm, "lint", str(CHART), "--set", "secret.databaseUrl=postgresql://db/admitone",
         "--set", "secret.redisUrl=redis://redis:6379/0"],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_helm_template_renders_the_design_s_resources() -> None:
    """`helm template` renders YAML with both Deployments, the HPA, PDBs and the migration hook."""
    helm = _helm()
    result = subprocess.run(  # noqa: S603 - a fixed helm command on the repository's own chart
        [helm, "template", "tickets", str(CHART), "--set", "secret.databaseUrl=postgresql://db/a",
         "--set", "secret.redisUrl=redis://redis:6379/0", "--set", "ingress.enabled=true"],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    docs = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    kinds = {(doc["kind"], doc["metadata"]["name"]) for doc in docs}
    for expected in [
        ("Deployment", "tickets-admitone-gateway"), ("Deployment", "tickets-admitone-scheduler"),
        ("HorizontalPodAutoscaler", "tickets-admitone-gateway"),
        ("Job", "tickets-admitone-migrate"),
        ("PodDisruptionBudget", "tickets-admitone-gateway"), ("Service", "tickets-admitone"),
        ("Ingress", "tickets-admitone"), ("ConfigMap", "tickets-admitone"),
        ("Secret", "tickets-admitone"), ("Secret", "tickets-admitone-signing-keys"),
    ]:
        assert expected in kinds
    jobs = {}
    for doc in docs:
        if doc["kind"] == "Deployment":
            env = doc["spec"]["template"]["spec"]["containers"][0]["env"]
            jobs[doc["metadata"]["name"]] = {e["name"]: e.get("value") for e in env}[
                "ADMITONE_BACKGROUND_JOBS"
            ]
    assert jobs == {"tickets-admitone-gateway": "0", "tickets-admitone-scheduler": "1"}
