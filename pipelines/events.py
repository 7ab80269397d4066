"""Argo Events: a git push to main starts ``ci-dispatch`` with the push's changed paths.

- EventBus ``default`` (NATS JetStream) in the CI namespace;
- EventSource ``git``: a GitHub push webhook on port 12000, ``/push``, HMAC-checked with
  the ``github-webhook`` Secret (expose it with a Route or Ingress; the hook is registered
  in the repository settings, so no API token lives in the cluster);
- Sensor ``function-ci``: for pushes to ``refs/heads/main`` it creates a Workflow from
  ``ci-dispatch`` with ``body.commits`` (their added/modified/removed paths), ``body.after``
  (the revision) and the clone URL; ci-dispatch starts one ``function-ci`` per changed
  function folder.

Argo Events' CRDs are permissive (``spec`` preserves unknown fields), so the contract tests
validate these against Argo Events' ``schema.json`` with objects closed.
"""

from __future__ import annotations

from typing import Any

from . import rbac

Manifest = dict[str, Any]
PORT = 12000
LABELS = {"app.kubernetes.io/part-of": "bulut-pipelines"}


def _meta(name: str) -> Manifest:
    return {"name": name, "namespace": rbac.NAMESPACE, "labels": dict(LABELS)}


def event_bus() -> Manifest:
    """The namespace's default EventBus."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "EventBus",
        "metadata": _meta("default"),
        "spec": {"jetstream": {"version": "2.10.10", "replicas": 3}},
    }


def event_source() -> Manifest:
    """The GitHub push webhook."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "EventSource",
        "metadata": _meta("git"),
        "spec": {
            "service": {"ports": [{"port": PORT, "targetPort": PORT}]},
            "github": {
                "push": {
                    "repositories": [{"owner": "example", "names": ["bulut"]}],
                    "events": ["push"],
                    "webhook": {
                        "endpoint": "/push",
                        "port": str(PORT),
                        "method": "POST",
                        "url": "https://ci.example.com",
                    },
                    "webhookSecret": {"name": "github-webhook", "key": "secret"},
                    "contentType": "json",
                    "insecure": False,
                    "active": True,
                }
            },
        },
    }


def _parameter(data_key: str, index: int) -> Manifest:
    return {
        "src": {"dependencyName": "push", "dataKey": data_key},
        "dest": f"spec.arguments.parameters.{index}.value",
    }


def sensor() -> Manifest:
    """Pushes to main become a ``ci-dispatch`` Workflow."""
    workflow = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "ci-dispatch-", "labels": dict(LABELS)},
        "spec": {
            "workflowTemplateRef": {"name": "ci-dispatch"},
            "arguments": {
                "parameters": [
                    {"name": "commits", "value": "[]"},
                    {"name": "revision", "value": "main"},
                    {"name": "repo", "value": "https://github.com/example/bulut.git"},
                ]
            },
        },
    }
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Sensor",
        "metadata": _meta("function-ci"),
        "spec": {
            "template": {"serviceAccountName": rbac.SENSOR},
            "dependencies": [
                {
                    "name": "push",
                    "eventSourceName": "git",
                    "eventName": "push",
                    "filters": {
                        "data": [
                            {"path": "headers.X-Github-Event", "type": "string", "value": ["push"]},
                            {"path": "body.ref", "type": "string", "value": ["refs/heads/main"]},
                        ]
                    },
                }
            ],
            "triggers": [
                {
                    "template": {
                        "name": "ci-dispatch",
                        "k8s": {
                            "operation": "create",
                            "source": {"resource": workflow},
                            "parameters": [
                                _parameter("body.commits", 0),
                                _parameter("body.after", 1),
                                _parameter("body.repository.clone_url", 2),
                            ],
                        },
                    },
                    "retryStrategy": {"steps": 3},
                }
            ],
        },
    }


def manifests() -> list[Manifest]:
    """EventBus, EventSource and Sensor, in apply order."""
    return [event_bus(), event_source(), sensor()]
