"""What each pipeline step calls on the cluster, declared next to the steps and rendered.

Each template (Argo) or Task (Tekton) carries the annotation :data:`ANNOTATION`: one line per
need, ``<verbs> <resource>[.<group>][/<subresource>] [--name <object>] [-n <namespace>
[--restored-from <namespace>] | --cluster-scoped]``
(without ``-n`` the pipeline's own namespace; ``--restored-from``: a namespace the step makes
by a Velero restore, whose RBAC is the source's, copied by the restore).
``bulut validate gitops`` evaluates every need against the Roles and bindings of the step's
ServiceAccount (rule ``pipeline-step-rbac``), so a
step that calls ``oc get applications`` without a RoleBinding to read them fails offline,
not on its first run. Argo's executor needs (``workflowtaskresults``) are implied.
"""

from __future__ import annotations

from .rbac import ARGOCD_NAMESPACE, DRILL_SOURCE, VELERO_NAMESPACE

ANNOTATION = "bulut.dev/rbac-needs"
SERVICE_ACCOUNT = "bulut.dev/service-account"
# The cluster drill's scenario (disaster-recovery/drills/cluster.yaml) drills shop-dev into
# shop-dev-drill; bulut.dr.velero.drill lists these kinds in both to compare them.
DRILL_TARGET = f"{DRILL_SOURCE}-drill"
DRILL_COMPARED = (
    "services.serving.knative.dev,brokers.eventing.knative.dev,triggers.eventing.knative.dev,"
    "configmaps,secrets,serviceaccounts"
)

NEEDS: dict[str, dict[str, tuple[str, ...]]] = {
    "promote": {
        "wait-for-sync": (f"get applications.argoproj.io -n {ARGOCD_NAMESPACE}",),
    },
    "ci-dispatch": {
        "start-function-ci": ("create workflows.argoproj.io",),
    },
    "dr-drill": {
        "drill": (
            f"create,get backups.velero.io -n {VELERO_NAMESPACE}",
            f"create,get,delete restores.velero.io -n {VELERO_NAMESPACE}",
            f"list {DRILL_COMPARED} -n {DRILL_SOURCE}",
            f"get,list {DRILL_COMPARED} -n {DRILL_TARGET} --restored-from {DRILL_SOURCE}",
            f"get services/proxy -n {DRILL_TARGET} --restored-from {DRILL_SOURCE}",
            f"delete namespaces --name {DRILL_TARGET} --cluster-scoped",
        ),
    },
}


def needs_annotation(pipeline: str, step: str) -> dict[str, str]:
    """The annotation of one step's template, or nothing when it calls no API."""
    needs = NEEDS.get(pipeline, {}).get(step)
    return {ANNOTATION: "\n".join(needs)} if needs else {}
