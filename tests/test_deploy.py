"""The orchestrator files (Dockerfile, compose.yaml, deploy/k8s/, the HAProxy configs) pass their linters offline.

No image is built here (no container engine): these check what can be checked without one.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
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
                 "observe layer4 error-limit 1 on-error mark-down", "option redispatch 1",
                 # ... and a request that a dying replica accepted and reset unanswered is retried too
                 "retry-on conn-failure empty-response"):
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


def test_the_kubernetes_redis_keeps_its_append_only_file_on_a_volume_and_every_pod_has_its_url():
    docs = [doc for p in K8S for doc in yaml.safe_load_all(p.read_text()) if doc]
    [redis] = [d for d in docs if d["kind"] == "StatefulSet"]
    [service] = [d for d in docs if d["kind"] == "Service" and d["metadata"]["name"] == redis["spec"]["serviceName"]]
    assert service["spec"]["selector"] == redis["spec"]["selector"]["matchLabels"]
    container = redis["spec"]["template"]["spec"]["containers"][0]
    args = container["args"]
    assert args[args.index("--appendonly") + 1] == "yes"
    [claim] = redis["spec"]["volumeClaimTemplates"]
    assert {"name": claim["metadata"]["name"], "mountPath": args[args.index("--dir") + 1]} in container["volumeMounts"]
    app = manifests()["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in app["env"]}
    assert env["REDIS_URL"]["value"] == f"redis://{service['metadata']['name']}:{service['spec']['ports'][0]['port']}/0"


def test_compose_gives_the_replicas_a_redis_with_its_append_only_file_on_a_volume():
    compose = yaml.safe_load((REPO_ROOT / "compose.yaml").read_text())
    app, redis = compose["services"]["app"], compose["services"]["redis"]
    assert app["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert app["depends_on"]["redis"]["condition"] == "service_healthy"
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    volume = redis["volumes"][0].split(":")
    assert volume[1] == "/data" and volume[0] in compose["volumes"]  # the image's working directory, named


REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
STAND_IN = '''#!/bin/sh
# AE_DEMO_PYTHON for deploy/replicas.sh: `-m streamlit run app.py … --server.port P` starts a stand-in replica that
# answers /_stcore/health and notes its pid and REDIS_URL; anything else (the script's own checks) is Python.
if [ "$1" = "-m" ] && [ "$2" = "streamlit" ]; then
  for last; do :; done
  echo "$$ $last $REDIS_URL" >> "$(dirname "$0")/replicas.txt"
  exec {python} -c 'import http.server, sys
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/_stcore/health" else 404); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *args): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Health).serve_forever()' "$last"
fi
exec {python} "$@"
'''


def until(condition, timeout_s: float = 30):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def accepts(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


@needs_haproxy
@pytest.mark.slow
@pytest.mark.skipif(not Path(REDIS).exists(), reason="redis-server not found: `sudo apt-get install redis-server`")
def test_replicas_sh_starts_again_what_exits_with_a_back_off_and_stops_everything_only_on_sigterm(tmp_path):
    """deploy/replicas.sh itself, with stand-in replicas (tests/e2e/test_replica_death.py runs the real ones)."""
    from harness.browser import free_port_run

    stand_in = tmp_path / "python"
    stand_in.write_text(STAND_IN.format(python=sys.executable))
    stand_in.chmod(0o755)
    port = free_port_run(4)
    redis_port = port + 3
    log = tmp_path / "replicas.log"
    script = subprocess.Popen(["bash", str(REPO_ROOT / "deploy" / "replicas.sh"), "2", str(port)], cwd=REPO_ROOT,
                              stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
                              env={**os.environ, "AE_DEMO_PYTHON": str(stand_in), "AE_DEMO_BIND": "127.0.0.1"})
    started = lambda: [line.split() for line in (tmp_path / "replicas.txt").read_text().splitlines()]  # noqa: E731
    try:
        until(lambda: accepts(port))  # HAProxy is up once Redis and both replicas answer
        assert sorted(int(p) for _, p, _ in started()) == [port + 1, port + 2]
        assert {url for _, _, url in started()} == {f"redis://127.0.0.1:{redis_port}/0"}
        redis = [p for p in psutil.Process(script.pid).children(recursive=True) if p.name() == "redis-server"]
        assert len(redis) == 1
        import redis as redis_client
        assert redis_client.Redis(port=redis_port).config_get("appendonly") == {"appendonly": "yes"}

        first = int(started()[0][0])
        os.kill(first, signal.SIGKILL)  # a crash: started again at once
        until(lambda: len(started()) == 3)
        os.kill(int(started()[2][0]), signal.SIGKILL)  # again within a minute of its start: after a second
        until(lambda: len(started()) == 4)
        text = log.read_text()
        replica = started()[0][1]
        assert re.search(rf"replica {replica} exited \(killed by signal 9\) after \d+ s; starting it again in 0 s", text)
        assert re.search(rf"replica {replica} exited \(killed by signal 9\) after \d+ s; starting it again in 1 s", text)
        redis[0].kill()  # Redis too
        until(lambda: "redis exited (killed by signal 9)" in log.read_text())
        until(lambda: accepts(redis_port))
        assert script.poll() is None, "the script stopped when a program it runs exited"

        everything = psutil.Process(script.pid).children(recursive=True)
        script.send_signal(signal.SIGTERM)
        assert script.wait(30) == 143
        until(lambda: not [p for p in everything if p.is_running() and p.status() != psutil.STATUS_ZOMBIE], 15)
        assert not [p for p in range(port, port + 4) if accepts(p)]
    finally:  # on a failure: SIGTERM, so that the script stops what it started (each in a session of its own)
        if script.poll() is None:
            script.terminate()
            try:
                script.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(script.pid, signal.SIGKILL)
