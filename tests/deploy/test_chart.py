"""The Helm chart in helm/firebreak, rendered with Helm's own engine and checked offline.

Rendering and linting use helm-python-sdk (Helm v4's Go SDK through a bundled shared library:
no helm binary, no cluster, no network). Every rendered manifest is validated against the
Kubernetes OpenAPI schemas bundled with kubernetes-validate, in strict mode (unknown fields fail).
"""

from __future__ import annotations

import base64
import copy
import functools
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml")
helm = pytest.importorskip("helm_python", reason="helm-python-sdk is not installed")
kv = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate is not installed")

ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = ROOT / "helm" / "firebreak"
PRODUCTION_VALUES = ROOT / "helm" / "values-production.yaml"
RELEASE = "firebreak"
NAMESPACE = "firebreak"
# Oldest and newest Kubernetes minor versions the chart is checked against (bundled schemas).
K8S_VERSIONS = ("1.30.0", "1.33.0")

POD_KINDS = {"Deployment", "Job", "CronJob", "Pod"}
SECRET_ENV = {
    "FIREBREAK_DATABASE_URL",
    "FIREBREAK_REDIS_URL",
    "FIREBREAK_SECRET_KEY",
    "FIREBREAK_TWILIO_ACCOUNT_SID",
    "FIREBREAK_TWILIO_AUTH_TOKEN",
}

# Values carrying recognisable secrets: none of them may show up in a pod spec.
SENTINELS = {
    "db_password": "Sentinel-db-pass-3f9a",
    "redis_password": "Sentinel-redis-pass-77c1",
    "secret_key": "Sentinel-secret-key-0b2e",
    "twilio_token": "Sentinel-twilio-token-9d4f",
}
INLINE_SECRET_VALUES: dict[str, Any] = {
    "config": {
        "smsBackend": "twilio",
        "twilio": {"fromNumber": "+15550100123"},
    },
    "database": {
        "url": f"postgresql+psycopg://firebreak:{SENTINELS['db_password']}@pg.internal:5432/fb"
    },
    "redis": {"url": f"rediss://:{SENTINELS['redis_password']}@redis.internal:6380/0"},
    "secretKey": {"value": SENTINELS["secret_key"]},
    "twilio": {
        "accountSid": "AC" + "0" * 32,
        "authToken": SENTINELS["twilio_token"],
    },
}


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------


def load_yaml(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


class Rendered:
    """A rendered release: parsed manifests plus the raw text of each template."""

    def __init__(self, files: dict[str, str]):
        self.files = files
        self.notes = next((text for name, text in files.items() if name.endswith("NOTES.txt")), "")
        self.docs: list[dict[str, Any]] = []
        for name, text in sorted(files.items()):
            if name.endswith("NOTES.txt"):
                continue
            for doc in yaml.safe_load_all(text):
                if doc:
                    self.docs.append(doc)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.docs if d["kind"] == kind]

    def get(self, kind: str, name: str) -> dict[str, Any]:
        for doc in self.of_kind(kind):
            if doc["metadata"]["name"] == name:
                return doc
        names = [(d["kind"], d["metadata"]["name"]) for d in self.docs]
        raise AssertionError(f"no {kind} {name!r} among {names}")

    def kinds(self) -> set[tuple[str, str]]:
        return {(d["kind"], d["metadata"]["name"]) for d in self.docs}


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    kind = doc["kind"]
    if kind == "Pod":
        return doc["spec"]
    if kind == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return doc["spec"]["template"]["spec"]


def containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return list(spec.get("initContainers") or []) + list(spec["containers"])


def workloads(rendered: Rendered) -> Iterator[dict[str, Any]]:
    return (d for d in rendered.docs if d["kind"] in POD_KINDS)


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env") or []}


def main_container(doc: dict[str, Any]) -> dict[str, Any]:
    return pod_spec(doc)["containers"][0]


# ------------------------------------------------------------------------------------------
# fixtures
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def _cache_kubernetes_schemas() -> Iterator[None]:
    """kubernetes-validate re-reads its JSON schema files on every call; read each once."""
    utils = pytest.importorskip("kubernetes_validate.utils")
    original = getattr(utils, "schema_contents", None)
    if original is None:  # pragma: no cover - another kubernetes-validate layout: just slower
        yield
        return
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(utils, "schema_contents", functools.lru_cache(maxsize=None)(original))
        yield


@pytest.fixture(scope="module")
def chart() -> Iterator[Any]:
    with helm.Chart.load(CHART_DIR) as loaded:
        yield loaded


@pytest.fixture(scope="module")
def render(chart):
    def _render(values: dict[str, Any] | None = None, **kwargs: Any) -> Rendered:
        opts = {"name": RELEASE, "namespace": NAMESPACE, "is_install": True, **kwargs}
        return Rendered(chart.render(values or {}, **opts))

    return _render


@pytest.fixture(scope="module")
def production_values() -> dict[str, Any]:
    return load_yaml(PRODUCTION_VALUES)


@pytest.fixture(scope="module")
def default_release(render) -> Rendered:
    return render({})


@pytest.fixture(scope="module")
def production_release(render, production_values) -> Rendered:
    return render(production_values)


@pytest.fixture(scope="module")
def inline_secrets_release(render) -> Rendered:
    return render(INLINE_SECRET_VALUES)


VARIANTS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "inline-secrets-twilio": INLINE_SECRET_VALUES,
    "reconciler-loop-ingress-hpa": {
        "reconciler": {"mode": "loop"},
        "ingress": {"enabled": True, "className": "nginx"},
        "web": {"autoscaling": {"enabled": True, "targetMemoryUtilizationPercentage": 80}},
        "worker": {"autoscaling": {"enabled": True}},
        "image": {"digest": "sha256:" + "a" * 64},
    },
    "playbooks-from-values": {
        "playbooks": {"source": "values", "inline": {"sev1.yaml": "name: sev1\nsteps: []\n"}},
        "imagePullSecrets": [{"name": "regcred"}],
        "config": {"extraEnv": {"FIREBREAK_DB_POOL_SIZE": "10"}},
    },
    "everything-optional-off": {
        "serviceAccount": {"create": False, "name": "firebreak-sa"},
        "networkPolicy": {"enabled": False},
        "web": {"pdb": {"enabled": False}},
        "worker": {"pdb": {"enabled": False}},
        "reconciler": {"enabled": False},
        "migrations": {"enabled": False},
        "tests": {"enabled": False},
        "playbooks": {"validate": False},
    },
    "egress-allow-all": {"networkPolicy": {"egress": {"allowAll": True}}},
}


# ------------------------------------------------------------------------------------------
# lint, render, Kubernetes schema validation
# ------------------------------------------------------------------------------------------


def test_sdk_runs_in_process_without_helm_binary():
    # The SDK binds a bundled shared library; nothing is fetched and no helm executable is used.
    assert Path(helm.library_path).is_file()
    assert helm.helm_sdk_version().startswith("v")


@pytest.mark.parametrize("values_file", [None, PRODUCTION_VALUES], ids=["defaults", "production"])
def test_lint_is_clean(values_file):
    values = load_yaml(values_file) if values_file else None
    for kube_version in K8S_VERSIONS:
        report = helm.lint(CHART_DIR, values, strict=True, kube_version=f"v{kube_version}")
        problems = [m for m in report["messages"] if m["severity"] >= 2]
        assert report["errors"] == [] and problems == [], report


def test_chart_metadata(chart):
    meta = chart.metadata
    assert meta["apiVersion"] == "v2"
    assert meta["name"] == "firebreak"
    assert meta["type"] == "application"
    assert meta.get("appVersion")
    assert chart.schema is not None, "values.schema.json must ship with the chart"


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_manifest_is_valid_kubernetes(render, variant):
    rendered = render(VARIANTS[variant])
    assert rendered.docs
    for doc in rendered.docs:
        for version in K8S_VERSIONS:
            try:
                kv.validate(doc, version, strict=True)
            except kv.ValidationError as exc:  # pragma: no cover - message on failure
                path = "/".join(str(p) for p in exc.absolute_path)
                pytest.fail(f"{doc['kind']}/{doc['metadata']['name']} at {path}: {exc.message}")


def test_production_values_are_valid_kubernetes(production_release):
    for doc in production_release.docs:
        for version in K8S_VERSIONS:
            kv.validate(doc, version, strict=True)


def test_validator_catches_a_broken_manifest(default_release):
    # Proves the strict validation above has teeth: a misspelt field is rejected.
    deployment = copy.deepcopy(default_release.get("Deployment", "firebreak-web"))
    pod_spec(deployment)["containers"][0]["livenessprobe"] = {}
    with pytest.raises(kv.ValidationError):
        kv.validate(deployment, K8S_VERSIONS[0], strict=True)


def test_default_release_objects(default_release):
    assert default_release.kinds() == {
        ("Deployment", "firebreak-web"),
        ("Deployment", "firebreak-worker"),
        ("Service", "firebreak-web"),
        ("CronJob", "firebreak-reconciler"),
        ("Job", "firebreak-migrations"),
        ("Secret", "firebreak"),
        ("ServiceAccount", "firebreak"),
        ("PodDisruptionBudget", "firebreak-web"),
        ("PodDisruptionBudget", "firebreak-worker"),
        ("NetworkPolicy", "firebreak"),
        ("NetworkPolicy", "firebreak-web"),
        ("Pod", "firebreak-test-readyz"),
    }
    assert "helm test firebreak" in default_release.notes


def test_production_release_objects(production_release):
    kinds = production_release.kinds()
    assert ("HorizontalPodAutoscaler", "firebreak-web") in kinds
    assert ("HorizontalPodAutoscaler", "firebreak-worker") in kinds
    assert ("Ingress", "firebreak") in kinds
    # Every credential comes from an existing Secret: the chart creates none.
    assert production_release.of_kind("Secret") == []
    ingress = production_release.get("Ingress", "firebreak")
    assert ingress["spec"]["tls"] == [
        {"secretName": "firebreak-tls", "hosts": ["firebreak.example.com"]}
    ]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "firebreak-web", "port": {"name": "http"}}
    for component in ("web", "worker"):
        hpa = production_release.get("HorizontalPodAutoscaler", f"firebreak-{component}")
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["scaleTargetRef"]["name"] == f"firebreak-{component}"
        assert hpa["spec"]["minReplicas"] >= 2
        # The HPA owns the replica count.
        assert (
            "replicas" not in production_release.get("Deployment", f"firebreak-{component}")["spec"]
        )


# ------------------------------------------------------------------------------------------
# workloads
# ------------------------------------------------------------------------------------------


def test_web_probes_and_port(default_release):
    web = main_container(default_release.get("Deployment", "firebreak-web"))
    assert web["command"] == ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
    assert web["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    assert env_of(web)["PORT"]["value"] == "8000"
    assert web["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert web["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert web["startupProbe"]["httpGet"]["path"] == "/healthz"
    service = default_release.get("Service", "firebreak-web")
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    assert service["spec"]["selector"]["app.kubernetes.io/component"] == "web"


def gunicorn_graceful_timeout() -> int:
    """graceful_timeout from gunicorn.conf.py (gunicorn's default, 30 s, when not set)."""
    conf = ROOT / "gunicorn.conf.py"
    text = conf.read_text(encoding="utf-8") if conf.is_file() else ""
    match = re.search(r"^graceful_timeout\s*=\s*(\d+)", text, re.MULTILINE)
    return int(match.group(1)) if match else 30


def test_graceful_termination(default_release, production_release):
    for release in (default_release, production_release):
        web = pod_spec(release.get("Deployment", "firebreak-web"))
        pre_stop = web["containers"][0]["lifecycle"]["preStop"]["exec"]["command"]
        assert pre_stop[0] == "sleep"
        # Room for the preStop sleep plus gunicorn's graceful shutdown of in-flight requests.
        budget = int(pre_stop[1]) + gunicorn_graceful_timeout()
        assert web["terminationGracePeriodSeconds"] > budget
        worker = pod_spec(release.get("Deployment", "firebreak-worker"))
        assert worker["terminationGracePeriodSeconds"] >= 120
    strategy = default_release.get("Deployment", "firebreak-web")["spec"]["strategy"]
    assert strategy["rollingUpdate"]["maxUnavailable"] == 0


def test_worker_runs_rq_with_scheduler(default_release):
    worker = main_container(default_release.get("Deployment", "firebreak-worker"))
    assert worker["command"] + worker["args"] == ["firebreak", "worker", "--with-scheduler"]
    assert "ports" not in worker


def test_reconciler_cronjob_by_default(default_release):
    cron = default_release.get("CronJob", "firebreak-reconciler")
    assert cron["spec"]["schedule"] == "* * * * *"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    job_spec = cron["spec"]["jobTemplate"]["spec"]
    assert job_spec["activeDeadlineSeconds"] < 60
    assert main_container(cron)["command"] == ["firebreak", "reconcile", "--once"]
    assert pod_spec(cron)["restartPolicy"] == "Never"


def test_reconciler_loop_mode(render):
    rendered = render({"reconciler": {"mode": "loop"}})
    assert rendered.of_kind("CronJob") == []
    deployment = rendered.get("Deployment", "firebreak-reconciler")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert main_container(deployment)["command"] == ["firebreak", "reconcile", "--loop"]


def test_migration_hook(default_release):
    job = default_release.get("Job", "firebreak-migrations")
    annotations = job["metadata"]["annotations"]
    assert set(annotations["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
    assert int(annotations["helm.sh/hook-weight"]) == 0
    policy = set(annotations["helm.sh/hook-delete-policy"].split(","))
    assert "before-hook-creation" in policy
    assert main_container(job)["command"] == ["firebreak", "db", "upgrade"]
    assert pod_spec(job)["restartPolicy"] == "Never"
    assert job["spec"]["backoffLimit"] <= 2
    # The chart's Secret must exist before the Job: it is a hook with a lower weight.
    secret = default_release.get("Secret", "firebreak")
    secret_annotations = secret["metadata"]["annotations"]
    assert "pre-install" in secret_annotations["helm.sh/hook"]
    assert "pre-upgrade" in secret_annotations["helm.sh/hook"]
    assert int(secret_annotations["helm.sh/hook-weight"]) < int(annotations["helm.sh/hook-weight"])
    # ...whereas the ServiceAccount is not a hook, so the Job must not depend on it.
    assert pod_spec(job)["serviceAccountName"] == "default"


def test_helm_test_hook_calls_readyz(default_release):
    pod = default_release.get("Pod", "firebreak-test-readyz")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    assert pod["spec"]["restartPolicy"] == "Never"
    command = " ".join(main_container(pod)["command"])
    service = default_release.get("Service", "firebreak-web")
    port = service["spec"]["ports"][0]["port"]
    assert f"http://firebreak-web:{port}/readyz" in command
    assert "urllib" in command


def test_service_account_token_never_mounted(default_release, production_release, render):
    assert (
        default_release.get("ServiceAccount", "firebreak")["automountServiceAccountToken"] is False
    )
    for release in (default_release, production_release, render({"reconciler": {"mode": "loop"}})):
        for doc in workloads(release):
            assert pod_spec(doc)["automountServiceAccountToken"] is False, doc["metadata"]["name"]


@pytest.mark.parametrize("variant", ["defaults", "playbooks-from-values", "production"])
def test_restricted_security_context_everywhere(render, production_values, variant):
    values = production_values if variant == "production" else VARIANTS[variant]
    rendered = render(values)
    found = 0
    for doc in workloads(rendered):
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        spec = pod_spec(doc)
        pod_sc = spec["securityContext"]
        assert pod_sc["runAsNonRoot"] is True, name
        assert pod_sc["runAsUser"] == 10001, name
        assert pod_sc["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert "hostNetwork" not in spec and "hostPID" not in spec, name
        tmp_volumes = [v for v in spec["volumes"] if v["name"] == "tmp"]
        assert tmp_volumes and "emptyDir" in tmp_volumes[0], name
        for container in containers(spec):
            cname = f"{name}/{container['name']}"
            sc = container["securityContext"]
            assert sc["runAsNonRoot"] is True, cname
            assert sc["allowPrivilegeEscalation"] is False, cname
            assert sc["readOnlyRootFilesystem"] is True, cname
            assert sc.get("privileged", False) is False, cname
            assert sc["capabilities"] == {"drop": ["ALL"]}, cname
            assert sc["seccompProfile"] == {"type": "RuntimeDefault"}, cname
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"], cname
            assert container["resources"]["requests"], cname
            assert container["resources"]["limits"]["memory"], cname
            found += 1
    assert found >= 5


# ------------------------------------------------------------------------------------------
# secrets
# ------------------------------------------------------------------------------------------


def _assert_secret_env(rendered: Rendered, expected_secret: dict[str, str]) -> None:
    """Every secret env var is a secretKeyRef; `expected_secret` maps env name -> Secret name."""
    for doc in workloads(rendered):
        for container in containers(pod_spec(doc)):
            env = env_of(container)
            if container["name"] == "readyz":
                assert not env, "the test pod needs no credentials"
                continue
            for name in SECRET_ENV & set(env):
                entry = env[name]
                assert "value" not in entry, f"{name} inlined in {doc['metadata']['name']}"
                ref = entry["valueFrom"]["secretKeyRef"]
                assert ref["name"] == expected_secret[name], (name, ref)
                assert ref["key"]
            for name in ("FIREBREAK_DATABASE_URL", "FIREBREAK_REDIS_URL", "FIREBREAK_SECRET_KEY"):
                assert name in env, f"{name} missing in {doc['metadata']['name']}"


def test_no_secret_value_in_any_pod_spec(inline_secrets_release):
    rendered = inline_secrets_release
    for doc in workloads(rendered):
        text = yaml.safe_dump(doc)
        for label, sentinel in SENTINELS.items():
            assert sentinel not in text, f"{label} leaked into {doc['kind']}/{doc['metadata']}"
            encoded = base64.b64encode(sentinel.encode()).decode()
            assert encoded not in text
    _assert_secret_env(rendered, dict.fromkeys(SECRET_ENV, "firebreak"))
    # The values went into the chart's Secret instead.
    secret = rendered.get("Secret", "firebreak")
    decoded = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert SENTINELS["db_password"] in decoded["database-url"]
    assert SENTINELS["redis_password"] in decoded["redis-url"]
    assert decoded["secret-key"] == SENTINELS["secret_key"]
    assert decoded["twilio-auth-token"] == SENTINELS["twilio_token"]
    web_env = env_of(main_container(rendered.get("Deployment", "firebreak-web")))
    assert web_env["FIREBREAK_SMS_BACKEND"]["value"] == "twilio"
    assert web_env["FIREBREAK_TWILIO_FROM_NUMBER"]["value"] == "+15550100123"


def test_existing_secrets_are_referenced(production_release, production_values):
    expected = {
        "FIREBREAK_DATABASE_URL": production_values["database"]["existingSecret"],
        "FIREBREAK_REDIS_URL": production_values["redis"]["existingSecret"],
        "FIREBREAK_SECRET_KEY": production_values["secretKey"]["existingSecret"],
        "FIREBREAK_TWILIO_ACCOUNT_SID": production_values["twilio"]["existingSecret"],
        "FIREBREAK_TWILIO_AUTH_TOKEN": production_values["twilio"]["existingSecret"],
    }
    _assert_secret_env(production_release, expected)
    web_env = env_of(main_container(production_release.get("Deployment", "firebreak-web")))
    assert set(SECRET_ENV) <= set(web_env)
    ref = web_env["FIREBREAK_TWILIO_AUTH_TOKEN"]["valueFrom"]["secretKeyRef"]
    assert ref == {"name": "firebreak-twilio", "key": "auth-token"}


def test_partly_existing_secrets(render):
    rendered = render({"database": {"existingSecret": "pg-app", "existingSecretKey": "uri"}})
    secret = rendered.get("Secret", "firebreak")
    assert "database-url" not in secret["data"]
    assert {"redis-url", "secret-key"} <= set(secret["data"])
    web_env = env_of(main_container(rendered.get("Deployment", "firebreak-web")))
    ref = web_env["FIREBREAK_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    assert ref == {"name": "pg-app", "key": "uri"}


def test_console_backend_needs_no_twilio_secret(default_release):
    web_env = env_of(main_container(default_release.get("Deployment", "firebreak-web")))
    assert web_env["FIREBREAK_SMS_BACKEND"]["value"] == "console"
    assert not any(name.startswith("FIREBREAK_TWILIO_") for name in web_env)


def test_plain_settings(default_release):
    web_env = env_of(main_container(default_release.get("Deployment", "firebreak-web")))
    assert web_env["FIREBREAK_PUBLIC_URL"]["value"] == "http://firebreak.local"
    assert web_env["FIREBREAK_LOG_LEVEL"]["value"] == "info"
    assert web_env["FIREBREAK_PLAYBOOKS_DIR"]["value"] == "/app/playbooks"


@pytest.mark.parametrize(
    ("values", "hops"),
    [
        ({}, "0"),  # nothing in front: the peer address
        ({"ingress": {"enabled": True}}, "1"),  # the chart's ingress controller
        ({"ingress": {"enabled": True}, "config": {"trustedProxies": 2}}, "2"),
        ({"ingress": {"enabled": True}, "config": {"trustedProxies": 0}}, "0"),
    ],
)
def test_trusted_proxies_follow_the_ingress(render, values, hops):
    rendered = render(values)
    apps = [c for d in workloads(rendered) for c in containers(pod_spec(d)) if c.get("env")]
    assert apps
    for container in apps:
        assert env_of(container)["FIREBREAK_TRUSTED_PROXIES"]["value"] == hops


def test_production_trusts_the_ingress_controller(production_release):
    web_env = env_of(main_container(production_release.get("Deployment", "firebreak-web")))
    assert web_env["FIREBREAK_TRUSTED_PROXIES"]["value"] == "1"


# ------------------------------------------------------------------------------------------
# playbooks
# ------------------------------------------------------------------------------------------


def _check_playbooks_wiring(rendered: Rendered, expected_files: set[str]) -> None:
    (configmap,) = rendered.of_kind("ConfigMap")
    assert configmap["immutable"] is True
    assert set(configmap["data"]) == expected_files
    cm_name = configmap["metadata"]["name"]
    for name in ("firebreak-web", "firebreak-worker"):
        spec = pod_spec(rendered.get("Deployment", name))
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert volumes["playbooks"]["configMap"]["name"] == cm_name
        init = {c["name"]: c for c in spec["initContainers"]}["validate-playbooks"]
        mount = {m["name"]: m for m in init["volumeMounts"]}["playbooks"]["mountPath"]
        assert init["command"] == ["firebreak", "playbooks", "validate", mount]
        main = spec["containers"][0]
        assert env_of(main)["FIREBREAK_PLAYBOOKS_DIR"]["value"] == mount
        assert {"name": "playbooks", "mountPath": mount, "readOnly": True} in main["volumeMounts"]


def test_playbooks_baked_into_image_are_validated(default_release):
    assert default_release.of_kind("ConfigMap") == []
    for doc in workloads(default_release):
        if doc["kind"] in ("Job", "Pod"):
            continue  # migrations and the test pod do not use playbooks
        init = pod_spec(doc)["initContainers"]
        assert [c["command"] for c in init] == [
            ["firebreak", "playbooks", "validate", "/app/playbooks"]
        ]


def test_playbooks_from_values(render):
    rendered = render(VARIANTS["playbooks-from-values"])
    _check_playbooks_wiring(rendered, {"sev1.yaml"})
    (configmap,) = rendered.of_kind("ConfigMap")
    assert configmap["data"]["sev1.yaml"].startswith("name: sev1")
    # Content-addressed name: another playbook set means another ConfigMap (and a rollout).
    other = render({"playbooks": {"source": "values", "inline": {"sev1.yaml": "name: other\n"}}})
    assert other.of_kind("ConfigMap")[0]["metadata"]["name"] != configmap["metadata"]["name"]


def test_playbooks_from_chart_files(tmp_path):
    chart_copy = tmp_path / "firebreak"
    shutil.copytree(CHART_DIR, chart_copy)
    (chart_copy / "playbooks" / "brand-attack.yaml").write_text("name: brand-attack\n")
    (chart_copy / "playbooks" / "outage.yaml").write_text("name: outage\n")
    with helm.Chart.load(chart_copy) as copied:
        files = copied.render({"playbooks": {"source": "files"}}, name=RELEASE)
    rendered = Rendered(files)
    _check_playbooks_wiring(rendered, {"brand-attack.yaml", "outage.yaml"})
    for doc in rendered.docs:
        kv.validate(doc, K8S_VERSIONS[-1], strict=True)


def test_playbooks_from_files_without_files_fails(chart):
    with pytest.raises(helm.HelmError, match="no playbooks were found"):
        chart.render({"playbooks": {"source": "files"}}, name=RELEASE)


# ------------------------------------------------------------------------------------------
# values.schema.json
# ------------------------------------------------------------------------------------------

BAD_VALUES: dict[str, tuple[dict[str, Any], str]] = {
    "replicas-as-words": ({"web": {"replicas": "two"}}, "/web/replicas"),
    "unknown-sms-backend": ({"config": {"smsBackend": "carrier-pigeon"}}, "/config/smsBackend"),
    "missing-public-url": ({"config": {"publicUrl": None}}, "publicUrl"),
    "empty-public-url": ({"config": {"publicUrl": ""}}, "/config/publicUrl"),
    "relative-public-url": ({"config": {"publicUrl": "firebreak.local"}}, "/config/publicUrl"),
    "unknown-top-level-key": ({"replicaCount": 3}, "replicaCount"),
    "unknown-nested-key": ({"worker": {"replica": 3}}, "replica"),
    "latest-tag": ({"image": {"tag": "latest"}}, "/image/tag"),
    "bad-log-level": ({"config": {"logLevel": "verbose"}}, "/config/logLevel"),
    "too-many-proxies": ({"config": {"trustedProxies": 9}}, "/config/trustedProxies"),
    "proxies-as-words": ({"config": {"trustedProxies": "one"}}, "/config/trustedProxies"),
    "no-database": ({"database": {"url": ""}}, "/database"),
    "non-postgres-database": ({"database": {"url": "mysql://db/fb"}}, "/database/url"),
    "bad-redis-url": ({"redis": {"url": "http://redis:6379"}}, "/redis/url"),
    "twilio-without-credentials": (
        {"config": {"smsBackend": "twilio", "twilio": {"fromNumber": "+15550100123"}}},
        "/twilio",
    ),
    "twilio-without-sender": (
        {"config": {"smsBackend": "twilio"}, "twilio": {"existingSecret": "tw"}},
        "/config/twilio",
    ),
    "unknown-reconciler-mode": ({"reconciler": {"mode": "sidecar"}}, "/reconciler/mode"),
    "privileged-port": ({"web": {"port": 80}}, "/web/port"),
    "root-user": ({"securityContext": {"runAsUser": 0}}, "/securityContext/runAsUser"),
    "security-context-override": (
        {"securityContext": {"privileged": True}},
        "privileged",
    ),
    "values-source-without-playbooks": ({"playbooks": {"source": "values"}}, "/playbooks"),
    "bad-playbook-file-name": (
        {"playbooks": {"source": "values", "inline": {"../x.yaml": "a: b"}}},
        "invalid propertyName '../x.yaml'",
    ),
    "bad-resource-quantity": (
        {"web": {"resources": {"limits": {"memory": "lots"}}}},
        "/web/resources/limits/memory",
    ),
    "hpa-as-string": ({"web": {"autoscaling": {"enabled": "yes"}}}, "/web/autoscaling/enabled"),
}


@pytest.mark.parametrize("case", sorted(BAD_VALUES))
def test_schema_rejects_bad_values(chart, case):
    values, where = BAD_VALUES[case]
    with pytest.raises(helm.HelmValuesError) as excinfo:
        chart.render(values, name=RELEASE)
    assert where in str(excinfo.value)


def test_schema_rejects_bad_values_on_top_of_production(chart, production_values):
    bad = deep_merge(production_values, {"worker": {"replicas": "two"}})
    with pytest.raises(helm.HelmValuesError, match="/worker/replicas"):
        chart.render(bad, name=RELEASE)


def test_schema_accepts_both_shipped_values_files(chart, production_values):
    chart.validate_schema(chart.merge_values({}))
    chart.validate_schema(chart.merge_values(production_values))


def test_every_default_value_is_described_by_the_schema(chart):
    """additionalProperties false is only useful if the schema knows every default key."""

    def walk(values: Any, schema: dict[str, Any], path: str) -> None:
        if not isinstance(values, dict) or schema.get("type") != "object":
            return
        props = schema.get("properties", {})
        if schema.get("additionalProperties") is False:
            unknown = set(values) - set(props)
            assert not unknown, f"{path or '/'}: not in the schema: {sorted(unknown)}"
        for key, value in values.items():
            if key in props:
                walk(value, props[key], f"{path}/{key}")

    walk(load_yaml(CHART_DIR / "values.yaml"), chart.schema, "")
