"""The Dockerfile and the Kubernetes manifests under deploy/k8s agree with the app: the
probes name endpoints the Flask app serves, on the port busbot listens on, the pod meets the
Restricted pod security standard, and the tokens come from a Secret. (Docker itself does not
run in the tests: the Dockerfile is read, not built.)"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from bot.bus import Bus
from bot.connection import embedded
from bot.settings import Settings
from bot.slack.serve import JOIN_S
from bot.web.app import create_app
from tests.runtime_helpers import manual_runtime

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"


def manifests() -> dict[str, dict]:
    docs = [d for f in sorted(K8S.glob("*.yaml")) for d in yaml.safe_load_all(f.read_text()) if d]
    return {d["kind"]: d for d in docs}


@pytest.fixture(scope="module")
def pod() -> dict:
    return manifests()["Deployment"]["spec"]["template"]["spec"]


@pytest.fixture(scope="module")
def container(pod) -> dict:
    [c] = pod["containers"]
    return c


def routes() -> set[str]:
    bus = Bus(embedded(), Settings(_env_file=None), where="embedded")
    app = create_app(bus, None, rt=manual_runtime(bus))
    return {rule.rule for rule in app.url_map.iter_rules()}


def test_two_replicas_with_probes_on_endpoints_that_exist(container):
    deployment = manifests()["Deployment"]
    assert deployment["spec"]["replicas"] == 2
    served = routes()
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["path"] in served


def test_the_port_is_the_one_busbot_listens_on(container):
    env = {e["name"]: e.get("value") for e in container["env"]}
    [port] = container["ports"]
    assert int(env["PORT"]) == port["containerPort"]
    assert Settings(_env_file=None, port=env["PORT"]).port == port["containerPort"]
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["port"] in (port["name"], port["containerPort"])
    service = manifests()["Service"]
    assert service["spec"]["selector"] == manifests()["Deployment"]["spec"]["selector"]["matchLabels"]
    assert [p["targetPort"] for p in service["spec"]["ports"]] == [port["name"]]


def test_the_pod_meets_the_restricted_pod_security_standard(pod, container):
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    sc = container["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False and sc["runAsNonRoot"] is True
    assert sc["capabilities"]["drop"] == ["ALL"] and "add" not in sc["capabilities"]
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["seccompProfile"]["type"] in ("RuntimeDefault", "Localhost")
    assert pod["securityContext"].get("runAsUser", 1) != 0
    assert not any(v.get("hostPath") for v in pod.get("volumes", []))
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/tmp"}  # the only writable place


def test_secrets_come_from_the_secret_and_the_pod_outlives_the_drain(pod, container):
    secret = manifests()["Secret"]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e}
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "REDIS_URL"):
        assert refs[name]["name"] == secret["metadata"]["name"] and refs[name]["key"] in secret["stringData"]
        assert not refs[name].get("optional")
    assert all(e.get("value") in (None, "") or e["name"] not in refs for e in container["env"])
    assert pod["terminationGracePeriodSeconds"] > JOIN_S  # SIGTERM: the job runner puts its job down first
    assert container["command"] + container["args"] == ["busbot", "serve"]


def dockerfile() -> list[tuple[str, str]]:
    lines = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text()).splitlines()
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1] if " " in ln.strip() else "")
            for ln in (x.strip() for x in lines) if ln and not ln.startswith("#")]


def test_the_image_runs_busbot_serve_as_a_non_root_user(container, pod):
    steps = dockerfile()
    base = [arg for op, arg in steps if op == "FROM"]
    assert len(base) == 1 and re.match(r"python:3\.\d+-slim", base[0])
    users = [arg for op, arg in steps if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert users[-1].split(":")[0].isdigit()  # numeric, so runAsNonRoot can be checked
    assert int(users[-1].split(":")[0]) == pod["securityContext"]["runAsUser"]
    [cmd] = [arg for op, arg in steps if op == "CMD"]
    assert shlex.split(cmd.replace('"', "").strip("[]").replace(",", " ")) == ["busbot", "serve"]
    exposed = [arg for op, arg in steps if op == "EXPOSE"]
    assert exposed == [str(container["ports"][0]["containerPort"])]
