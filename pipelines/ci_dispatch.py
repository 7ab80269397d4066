"""WorkflowTemplate ``ci-dispatch``: one ``function-ci`` Workflow per changed function folder.

The Sensor (events.py) starts this with the push payload's ``commits`` (each commit lists
``added``, ``modified`` and ``removed`` paths). :func:`changed_functions` turns them into
the sorted folder names under ``functions/`` that still exist after the push; the resource
step then creates one Workflow from ``function-ci`` for each of them, so every function
builds, fails and retries on its own.
"""

from __future__ import annotations

import inspect
import json
import re

import yaml
from hera.workflows import DAG, Container, Env, Parameter, Resource, Task, WorkflowTemplate
from hera.workflows.models import ValueFrom

from bulut.workflows import FUNCTION_CI

from . import images, rbac
from .hygiene import pod_gc, ttl
from .pod_security import home_in_tmp, restricted_container, restricted_pod, small

FUNCTION = "{{inputs.parameters.function}}"
CHILD = yaml.safe_dump(
    {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {
            "generateName": f"function-ci-{FUNCTION}-",
            "namespace": rbac.NAMESPACE,
            "labels": {
                "app.kubernetes.io/part-of": "bulut-pipelines",
                "bulut.dev/function": FUNCTION,
            },
        },
        "spec": {
            "workflowTemplateRef": {"name": FUNCTION_CI.name},
            "arguments": {
                "parameters": [
                    {"name": "function", "value": FUNCTION},
                    {"name": "revision", "value": "{{workflow.parameters.revision}}"},
                    {"name": "repo", "value": "{{workflow.parameters.repo}}"},
                ]
            },
        },
    },
    sort_keys=False,
)
FOLDER = re.compile(r"^functions/([a-z0-9][a-z0-9-]*)/")


def changed_functions(commits: str) -> list[str]:
    """The function folders a push added to or modified, sorted, from its ``commits`` JSON.

    A folder whose every change is a removal is left out (the function was deleted).
    """
    names: set[str] = set()
    for commit in json.loads(commits or "[]"):
        for path in [*(commit.get("added") or []), *(commit.get("modified") or [])]:
            found = FOLDER.match(path)
            if found:
                names.add(found.group(1))
    return sorted(names)


def changed_functions_step() -> Container:
    """Run :func:`changed_functions` on the payload, which arrives as an environment variable.

    The payload carries commit messages: it never becomes program text.
    """
    program = "\n".join(
        [
            "import json, os, re",
            f"FOLDER = re.compile({FOLDER.pattern!r})",
            inspect.getsource(changed_functions).replace("-> list[str]", ""),
            "with open('/tmp/functions.json', 'w') as out:",
            "    json.dump(changed_functions(os.environ['COMMITS']), out)",
        ]
    )
    return Container(
        name="changed-functions",
        image=images.TOOLS,
        command=["python3", "-c", program],
        env=[*home_in_tmp(), Env(name="COMMITS", value="{{workflow.parameters.commits}}")],
        security_context=restricted_container(),
        resources=small(memory="128Mi"),
        outputs=[Parameter(name="functions", value_from=ValueFrom(path="/tmp/functions.json"))],
    )


def start_function_ci() -> Resource:
    """Create one ``function-ci`` Workflow for a function folder."""
    return Resource(
        name="start-function-ci",
        action="create",
        manifest=CHILD,
        inputs=[Parameter(name="function")],
        set_owner_reference=True,
    )


def workflow_template() -> WorkflowTemplate:
    """The ``ci-dispatch`` WorkflowTemplate."""
    with WorkflowTemplate(
        name="ci-dispatch",
        namespace=rbac.NAMESPACE,
        annotations={
            "workflows.argoproj.io/description": "One function-ci run per changed function."
        },
        labels={"app.kubernetes.io/part-of": "bulut-pipelines"},
        entrypoint="main",
        service_account_name=rbac.DISPATCHER,
        security_context=restricted_pod(),
        pod_gc=pod_gc(),
        ttl_strategy=ttl(),
        active_deadline_seconds=600,
        arguments=[
            Parameter(name="commits", value="[]", description="The push payload's commits."),
            Parameter(name="revision", description="The pushed commit (body.after)."),
            Parameter(name="repo", value="https://github.com/example/bulut.git"),
        ],
    ) as template:
        start = start_function_ci()
        with DAG(name="main"):
            changed = Task(name="changed-functions", template=changed_functions_step())
            changed >> Task(
                name="start-function-ci",
                template=start,
                arguments=[Parameter(name="function", value="{{item}}")],
                with_param="{{tasks.changed-functions.outputs.parameters.functions}}",
            )
    return template
