"""WorkflowTemplate ``promote``: put a digest into an environment and prove it serves.

DAG (:data:`bulut.workflows.PROMOTE`): checkout the GitOps repository, set the
digest in ``gitops/overlays/<env>/kustomization.yaml``, publish (dev and staging: commit and
push; prod: a pull request, then wait for its merge), wait until the Argo CD Application
``shop-<env>`` is Synced *at that revision* and Healthy, smoke-test the function with a
binary CloudEvent through curl, and revert the commit when the smoke test fails. The
rollback step ends the run as Failed on purpose: a reverted promotion is not a success.
"""

from __future__ import annotations

from collections.abc import Callable

from hera.workflows import (
    DAG,
    Container,
    Env,
    Parameter,
    Resource,
    SecretEnv,
    Task,
    WorkflowTemplate,
)
from hera.workflows.models import ValueFrom

from bulut.workflows import PROMOTE, Step

from . import images, rbac
from .hygiene import pod_gc, transient_retry, ttl
from .pod_security import home_in_tmp, restricted_container, restricted_pod, small
from .workspace import MOUNT, SOURCE, claim, mount

ENVIRONMENTS = ["dev", "staging", "prod"]
PARAMETERS = {
    "FUNCTION": "function",
    "ENVIRONMENT": "environment",
    "DIGEST": "digest",
    "REGISTRY": "registry",
    "REPO": "repo",
    "BRANCH": "branch",
    "GITHUB_REPOSITORY": "github-repository",
    "SMOKE_URL": "smoke-url",
    "SMOKE_TYPE": "smoke-type",
    "SMOKE_DATA": "smoke-data",
    "EXPECT_TYPE": "expect-reply-type",
}
CHECK_INPUT = (
    'case "$FUNCTION" in ""|*[!a-z0-9-]*) echo "bad function name" >&2; exit 2;; esac\n'
    'case "$ENVIRONMENT" in dev|staging|prod) ;; *) echo "bad environment" >&2; exit 2;; esac\n'
)
GIT_AUTH = (
    "git config --global credential.helper "
    "'!f() { echo username=x-access-token; echo \"password=$GIT_TOKEN\"; }; f'\n"
    'git config --global user.name "bulut-pipelines"\n'
    'git config --global user.email "pipelines@bulut.invalid"\n'
)
CHECKOUT = (
    "set -eu\n" + CHECK_INPUT + GIT_AUTH + 'rm -rf "$SRC"\n'
    'git clone --branch "$BRANCH" "$REPO" "$SRC"\n'
)
SET_DIGEST = (
    "set -eu\n"
    + CHECK_INPUT
    + 'echo "$DIGEST" | grep -Eq "^sha256:[0-9a-f]{64}$" || { echo "bad digest" >&2; exit 2; }\n'
    'file="$SRC/gitops/overlays/$ENVIRONMENT/kustomization.yaml"\n'
    'export IMAGE="$REGISTRY/$FUNCTION"\n'
    "yq -e '.images[] | select(.name == strenv(IMAGE))' \"$file\" > /dev/null || "
    '{ echo "$file lists no image $IMAGE" >&2; exit 2; }\n'
    "yq -i '(.images[] | select(.name == strenv(IMAGE))).digest = strenv(DIGEST)' \"$file\"\n"
)
PUBLISH = (
    "set -eu\n" + CHECK_INPUT + GIT_AUTH + 'cd "$SRC"\n'
    'git add "gitops/overlays/$ENVIRONMENT/kustomization.yaml"\n'
    'if git diff --cached --quiet; then echo "already at $DIGEST"; '
    'git rev-parse HEAD > "$WORKSPACE/revision"; exit 0; fi\n'
    'git commit -m "promote $FUNCTION to $ENVIRONMENT: $DIGEST"\n'
    'if [ "$ENVIRONMENT" != prod ]; then\n'
    '  git push origin "HEAD:$BRANCH"\n'
    '  git rev-parse HEAD > "$WORKSPACE/revision"\n'
    "  exit 0\n"
    "fi\n"
    "# prod: a pull request; a person merges it, then the run continues from the merge.\n"
    'head="promote/$FUNCTION-$(echo "$DIGEST" | cut -c8-19)"\n'
    'git push --force origin "HEAD:refs/heads/$head"\n'
    'api="https://api.github.com/repos/$GITHUB_REPOSITORY/pulls"\n'
    'auth="Authorization: Bearer $GIT_TOKEN"\n'
    'body="{\\"title\\":\\"Promote $FUNCTION to prod\\",\\"head\\":\\"$head\\",'
    '\\"base\\":\\"$BRANCH\\",\\"body\\":\\"Digest $DIGEST passed staging.\\"}"\n'
    'wget -q -O /tmp/pr --header "$auth" --post-data "$body" "$api"\n'
    "number=\"$(grep -o '\"number\": *[0-9]*' /tmp/pr | head -n1 | grep -o '[0-9]*$')\"\n"
    'echo "opened $api/$number; waiting for its merge"\n'
    'until wget -q -O /tmp/pr --header "$auth" "$api/$number" && '
    "grep -q '\"merged\": *true' /tmp/pr; do sleep 60; done\n"
    "grep -o '\"merge_commit_sha\": *\"[0-9a-f]*\"' /tmp/pr | grep -o '[0-9a-f]\\{40\\}' "
    '> "$WORKSPACE/revision"\n'
)
SMOKE_TEST = (
    "set -eu\n"
    'status="$(curl -sS -o /tmp/body -D /tmp/headers -w "%{http_code}" --max-time 30 \\\n'
    "  --retry 5 --retry-all-errors --retry-delay 3 \\\n"
    '  -H "ce-specversion: 1.0" -H "ce-type: $SMOKE_TYPE" -H "ce-source: /bulut/promote" \\\n'
    '  -H "ce-id: smoke-$RUN" -H "Content-Type: application/json" \\\n'
    '  --data "$SMOKE_DATA" "$SMOKE_URL")"\n'
    'echo "HTTP $status"; cat /tmp/headers /tmp/body\n'
    'case "$status" in 2??) ;; *) echo "smoke test failed: HTTP $status" >&2; exit 1;; esac\n'
    'if [ -n "$EXPECT_TYPE" ]; then\n'
    '  grep -qi "^ce-type: $EXPECT_TYPE" /tmp/headers || '
    'grep -q "\\"type\\": *\\"$EXPECT_TYPE\\"" /tmp/body || '
    '{ echo "smoke test failed: the reply is not a $EXPECT_TYPE event" >&2; exit 1; }\n'
    "fi\n"
)
ROLLBACK = (
    "set -eu\n" + GIT_AUTH + 'cd "$SRC"\n'
    'revision="$(cat "$WORKSPACE/revision")"\n'
    'git fetch origin "$BRANCH"\n'
    "git checkout -B rollback FETCH_HEAD\n"
    'parents="$(git rev-list --parents -n1 "$revision" | wc -w)"\n'
    'if [ "$parents" -gt 2 ]; then git revert --no-edit -m 1 "$revision"; '
    'else git revert --no-edit "$revision"; fi\n'
    'git push origin "HEAD:$BRANCH"\n'
    'echo "smoke test failed: reverted $revision on $BRANCH; Argo CD restores the previous '
    'digest" >&2\n'
    "exit 1\n"
)


def _env(*, token: bool = False) -> list[Env | SecretEnv]:
    env: list[Env | SecretEnv] = [*home_in_tmp(), Env(name="WORKSPACE", value=MOUNT)]
    env.append(Env(name="SRC", value=SOURCE))
    env.append(Env(name="RUN", value="{{workflow.uid}}"))
    env += [Env(name=k, value=f"{{{{workflow.parameters.{v}}}}}") for k, v in PARAMETERS.items()]
    if token:
        env.append(SecretEnv(name="GIT_TOKEN", secret_name="gitops-token", secret_key="token"))
    return env


def _shell(
    step: Step, image: str, script: str, *, token: bool = False, **options: object
) -> Container:
    return Container(
        name=step.name,
        image=image,
        command=["sh", "-c"],
        args=[script],
        env=_env(token=token),
        volume_mounts=[mount()],
        security_context=restricted_container(),
        resources=small(),
        **options,  # type: ignore[arg-type]
    )


def checkout(step: Step) -> Container:
    """Clone the GitOps branch (the token comes from the ``gitops-token`` Secret)."""
    return _shell(step, images.GIT, CHECKOUT, token=True, retry_strategy=transient_retry())


def set_digest(step: Step) -> Container:
    """yq sets the digest of ``<registry>/<function>`` in the overlay's ``images:``."""
    return _shell(step, images.YQ, SET_DIGEST)


def publish(step: Step) -> Container:
    """Commit and push, or open the prod pull request and wait for its merge."""
    return _shell(
        step,
        images.GIT,
        PUBLISH,
        token=True,
        retry_strategy=transient_retry(),
        active_deadline_seconds=3 * 86_400,
        outputs=[Parameter(name="revision", value_from=ValueFrom(path=f"{MOUNT}/revision"))],
    )


def wait_for_sync(step: Step) -> Resource:
    """``get`` the Application until Synced at the revision and Healthy (label-selector form)."""
    manifest = (
        "apiVersion: argoproj.io/v1alpha1\n"
        "kind: Application\n"
        "metadata:\n"
        "  name: shop-{{workflow.parameters.environment}}\n"
        f"  namespace: {rbac.ARGOCD_NAMESPACE}\n"
    )
    return Resource(
        name=step.name,
        action="get",
        manifest=manifest,
        inputs=[Parameter(name="revision")],
        success_condition=(
            "status.sync.status == Synced,status.health.status == Healthy,"
            "status.sync.revision == {{inputs.parameters.revision}}"
        ),
        failure_condition="status.health.status == Degraded",
        active_deadline_seconds=900,
    )


def smoke_test(step: Step) -> Container:
    """A binary CloudEvent to the function; 2xx and, if asked, the reply's type."""
    return _shell(step, images.CURL, SMOKE_TEST)


def rollback(step: Step) -> Container:
    """Revert the promotion on the branch, push, and fail the run."""
    return _shell(step, images.GIT, ROLLBACK, token=True, retry_strategy=transient_retry())


CLUSTER_TEMPLATES: dict[str, Callable[[Step], Container | Resource]] = {
    "checkout": checkout,
    "set-digest": set_digest,
    "publish": publish,
    "wait-for-sync": wait_for_sync,
    "smoke-test": smoke_test,
    "rollback": rollback,
}


def workflow_template() -> WorkflowTemplate:
    """The ``promote`` WorkflowTemplate."""
    with WorkflowTemplate(
        name=PROMOTE.name,
        namespace=rbac.NAMESPACE,
        annotations={"workflows.argoproj.io/description": PROMOTE.summary},
        labels={"app.kubernetes.io/part-of": "bulut-pipelines"},
        entrypoint="main",
        service_account_name=rbac.PROMOTER,
        security_context=restricted_pod(),
        pod_gc=pod_gc(),
        ttl_strategy=ttl(),
        volume_claim_templates=[claim("1Gi")],
        arguments=[
            Parameter(name="function", description="Folder under functions/."),
            Parameter(name="environment", enum=ENVIRONMENTS, value="dev"),
            Parameter(name="digest", description="sha256:... that function-ci pushed."),
            Parameter(name="registry", value="registry.example.com/shop"),
            Parameter(name="repo", value="https://github.com/example/bulut.git"),
            Parameter(name="branch", value="main"),
            Parameter(name="github-repository", value="example/bulut"),
            Parameter(
                name="smoke-url",
                value=(
                    "http://{{workflow.parameters.function}}."
                    "shop-{{workflow.parameters.environment}}.svc.cluster.local"
                ),
            ),
            Parameter(name="smoke-type", value="com.example.smoke.test"),
            Parameter(name="smoke-data", value='{"smoke": true}'),
            Parameter(name="expect-reply-type", value=""),
        ],
    ) as template:
        templates = {step.name: CLUSTER_TEMPLATES[step.name](step) for step in PROMOTE.steps}
        with DAG(name="main"):
            for step in PROMOTE.steps:
                arguments = (
                    [
                        Parameter(
                            name="revision", value="{{tasks.publish.outputs.parameters.revision}}"
                        )
                    ]
                    if step.name == "wait-for-sync"
                    else None
                )
                Task(
                    name=step.name,
                    template=templates[step.name],
                    depends=step.depends_expression,
                    arguments=arguments,
                )
    return template
