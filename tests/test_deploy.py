"""The orchestrator files (Dockerfile, compose.yaml, deploy/k8s/, the HAProxy configs) pass their linters offline.

No image is built here (no container engine): these check what can be checked without one.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
K8S = sorted((REPO_ROOT / "deploy" / "k8s").glob("*.yaml"))
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
needs_haproxy = pytest.mark.skipif(not Path(HAPROXY).exists(),
                                   reason="HAProxy not found: `sudo apt-get install haproxy` (.ci/run does)")


def tool(name: str) -> str:
    """A console script of requirements-dev.txt: beside this interpreter (the venv), else on PATH."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    assert found, f"{name} not installed: pip install -r requirements-dev.txt"
    return found


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)


def test_the_dockerfile_passes_hadolint():
    result = run(tool("hadolint"), "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dockerfile_takes_torch_from_the_cpu_index_unless_told_otherwise():
    text = (REPO_ROOT / "Dockerfile").read_text()
    assert "ARG TORCH_VARIANT=cpu" in text and "whl/${TORCH_VARIANT}" in text
    assert "_stcore/health" in text


def test_the_kubernetes_manifests_are_valid():
    assert {p.name for p in K8S} >= {"deployment.yaml", "service.yaml", "ingress.yaml"}
    result = run(tool("kubernetes-validate"), "--strict", *map(str, K8S))
    assert result.returncode == 0, result.stdout + result.stderr


def test_kubernetes_validate_does_reject_a_wrong_manifest(tmp_path):
    """The check above means something: an unknown field fails, offline."""
    wrong = yaml.safe_load((REPO_ROOT / "deploy" / "k8s" / "service.yaml").read_text())
    wrong["spec"]["ports"][0]["targetPortt"] = 8501
    path = tmp_path / "wrong.yaml"
    path.write_text(yaml.safe_dump(wrong))
    assert run(tool("kubernetes-validate"), "--strict", str(path)).returncode != 0


def manifests() -> dict[str, dict]:
    return {doc["kind"]: doc for p in K8S for doc in yaml.safe_load_all(p.read_text()) if doc}


def test_pods_are_ready_only_when_streamlit_answers_and_name_their_replica():
    container = manifests()["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/_stcore/health"
    env = {e["name"]: e for e in container["env"]}
    assert env["AE_DEMO_REPLICA"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"


def test_the_ingress_keeps_a_browser_on_its_pod_by_cookie_with_websocket_timeouts():
    notes = manifests()["Ingress"]["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert "upstream-hash-by" not in " ".join(notes)  # not by client address: one NAT for a whole room
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    assert int(notes["nginx.ingress.kubernetes.io/proxy-send-timeout"]) >= 3600


def test_compose_runs_haproxy_in_front_of_app_replicas():
    compose = yaml.safe_load((REPO_ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert services["balancer"]["image"].startswith("haproxy:")
    assert services["app"]["build"]["context"] == "."
    config = services["balancer"]["volumes"][0].split(":")[0]
    assert (REPO_ROOT / config).is_file()


def rendered_template(tmp_path: Path) -> Path:
    """deploy/haproxy.cfg.template as deploy/replicas.sh renders it (its --print-config)."""
    result = run("bash", "deploy/replicas.sh", "--print-config", "2", "8600")
    assert result.returncode == 0, result.stderr
    path = tmp_path / "haproxy.cfg"
    path.write_text(result.stdout)
    return path


@needs_haproxy
@pytest.mark.parametrize("config", ["replicas.sh", "compose"])
def test_the_haproxy_configs_are_valid_and_agree(config, tmp_path):
    path = rendered_template(tmp_path) if config == "replicas.sh" else REPO_ROOT / "deploy" / "haproxy-compose.cfg"
    check = subprocess.run([HAPROXY, "-c", "-f", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    text = path.read_text()
    for line in ("cookie AE_DEMO_REPLICA insert indirect nocache httponly", "http-check send meth GET uri /_stcore/health",
                 "timeout tunnel 2h", "balance leastconn", "option http-no-delay",
                 # a dead replica: marked down at its first refused connection, its browsers sent to a live one
                 "observe layer4 error-limit 1 on-error mark-down", "option redispatch 1"):
        assert line in text, f"{path.name} lacks {line!r}"
    assert "balance source" not in text
    assert "option persist" not in text  # it would keep a browser on its replica after the replica died


def test_replicas_sh_renders_one_server_per_replica_with_its_port_as_cookie(tmp_path):
    text = rendered_template(tmp_path).read_text()
    assert "bind 0.0.0.0:8600" in text
    assert [line.split() for line in text.splitlines() if line.strip().startswith("server ")] == [
        ["server", "replica-8601", "127.0.0.1:8601", "cookie", "8601"],
        ["server", "replica-8602", "127.0.0.1:8602", "cookie", "8602"]]
    assert not [line for line in text.splitlines() if "@" in line], "a marker left unrendered"
