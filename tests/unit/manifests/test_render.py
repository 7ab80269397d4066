"""bulut.manifests.render: func.yaml -> what `kn func deploy` creates (knative.md §5.5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bulut.errors import InvalidInputError
from bulut.manifests import render

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "manifests" / "func.yaml"


@pytest.fixture
def func_yaml() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(FIXTURE.read_text())
    return data


def container_of(service: dict[str, Any]) -> dict[str, Any]:
    containers: list[dict[str, Any]] = service["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def test_service_is_named_after_the_function_with_kn_func_identity_labels(
    func_yaml: dict[str, Any],
) -> None:
    service = render.render_service(func_yaml)
    assert service["apiVersion"] == "serving.knative.dev/v1"
    assert service["kind"] == "Service"
    assert service["metadata"]["name"] == "sample"
    labels = service["metadata"]["labels"]
    assert labels["boson.dev/function"] == "true"
    assert labels["function.knative.dev/name"] == "sample"
    assert labels["function.knative.dev/runtime"] == "python"
    assert labels["func.domain"] == "example.com"
    assert labels["tier"] == "backend"
    assert service["spec"]["template"]["metadata"]["labels"] == labels


def test_deployer_annotation_and_user_annotations_are_on_service_and_template(
    func_yaml: dict[str, Any],
) -> None:
    service = render.render_service(func_yaml)
    for found in (
        service["metadata"]["annotations"],
        service["spec"]["template"]["metadata"]["annotations"],
    ):
        assert found["function.knative.dev/deployer"] == "knative"
        assert found["team"] == "shop"


def test_user_annotations_cannot_overwrite_the_deployer_stamp(func_yaml: dict[str, Any]) -> None:
    func_yaml["deploy"]["annotations"]["function.knative.dev/deployer"] = "raw"
    service = render.render_service(func_yaml)
    assert service["metadata"]["annotations"]["function.knative.dev/deployer"] == "knative"


def test_scale_annotations_use_go_integer_and_float_formatting(func_yaml: dict[str, Any]) -> None:
    annotations = render.render_service(func_yaml)["spec"]["template"]["metadata"]["annotations"]
    assert annotations["autoscaling.knative.dev/min-scale"] == "1"
    assert annotations["autoscaling.knative.dev/max-scale"] == "10"
    assert annotations["autoscaling.knative.dev/metric"] == "rps"
    assert annotations["autoscaling.knative.dev/target"] == "75.000000"
    assert annotations["autoscaling.knative.dev/target-utilization-percentage"] == "80.500000"


def test_scale_annotations_stay_off_the_service_metadata(func_yaml: dict[str, Any]) -> None:
    annotations = render.render_service(func_yaml)["metadata"]["annotations"]
    assert not any(key.startswith("autoscaling.knative.dev/") for key in annotations)


def test_unset_scale_options_produce_no_annotation() -> None:
    assert render.scale_annotations({"max": 3}) == {"autoscaling.knative.dev/max-scale": "3"}


def test_a_non_numeric_scale_target_is_rejected_naming_the_field() -> None:
    with pytest.raises(InvalidInputError) as caught:
        render.scale_annotations({"target": "lots"})
    assert caught.value.field == "deploy.options.scale.target"


def test_container_concurrency_comes_from_limits_concurrency(func_yaml: dict[str, Any]) -> None:
    spec = render.render_service(func_yaml)["spec"]["template"]["spec"]
    assert spec["containerConcurrency"] == 20


def test_knative_defaults_are_written_out_so_argo_cd_sees_no_drift(
    func_yaml: dict[str, Any],
) -> None:
    service = render.render_service(func_yaml)
    spec = service["spec"]["template"]["spec"]
    assert container_of(service)["name"] == "user-container"
    assert spec["timeoutSeconds"] == 300
    assert spec["enableServiceLinks"] is False
    assert container_of(service)["readinessProbe"]["successThreshold"] == 1
    assert service["spec"]["traffic"] == [{"latestRevision": True, "percent": 100}]


def test_no_creator_annotations_are_ever_rendered(func_yaml: dict[str, Any]) -> None:
    text = "".join(render.render_files(func_yaml).values())
    assert "serving.knative.dev/creator" not in text
    assert "lastModifier" not in text


def test_container_concurrency_defaults_to_zero_without_a_limit() -> None:
    service = render.render_service({"name": "plain", "runtime": "python", "image": "x/plain"})
    assert service["spec"]["template"]["spec"]["containerConcurrency"] == 0


def test_probes_use_the_health_endpoints_of_func_yaml(func_yaml: dict[str, Any]) -> None:
    container = container_of(render.render_service(func_yaml))
    assert container["livenessProbe"] == {"httpGet": {"path": "/alive"}}
    assert container["readinessProbe"]["httpGet"] == {"path": "/ready"}


def test_probes_default_to_the_func_python_health_paths() -> None:
    container = container_of(render.render_service({"name": "p", "image": "x/p"}))
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/liveness"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/readiness"


def test_security_context_is_the_restricted_one_kn_func_sets(func_yaml: dict[str, Any]) -> None:
    assert container_of(render.render_service(func_yaml))["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def test_resources_come_from_options(func_yaml: dict[str, Any]) -> None:
    assert container_of(render.render_service(func_yaml))["resources"] == {
        "requests": {"cpu": "250m", "memory": "128Mi"},
        "limits": {"cpu": "1", "memory": "256Mi"},
    }


def test_env_literals_secret_and_configmap_keys_are_translated(func_yaml: dict[str, Any]) -> None:
    env = {var["name"]: var for var in container_of(render.render_service(func_yaml))["env"]}
    assert env["GREETING"] == {"name": "GREETING", "value": "hello"}
    assert env["API_KEY"]["valueFrom"] == {
        "secretKeyRef": {"name": "sample-secrets", "key": "api-key"}
    }
    assert env["MODE"]["valueFrom"] == {"configMapKeyRef": {"name": "sample-config", "key": "mode"}}


def test_env_from_local_environment_reads_the_functions_env_secret(
    func_yaml: dict[str, Any],
) -> None:
    env = {var["name"]: var for var in container_of(render.render_service(func_yaml))["env"]}
    assert env["LOCAL_TOKEN"]["valueFrom"] == {
        "secretKeyRef": {"name": "sample-env", "key": "LOCAL_TOKEN"}
    }


def test_a_whole_configmap_becomes_env_from(func_yaml: dict[str, Any]) -> None:
    container = container_of(render.render_service(func_yaml))
    assert container["envFrom"] == [{"configMapRef": {"name": "sample-all"}}]


def test_address_is_appended_like_kn_func_does_unless_set() -> None:
    env, _ = render.container_env([{"name": "A", "value": "1"}], "f")
    assert env[-1] == {"name": "ADDRESS", "value": "0.0.0.0"}
    env, _ = render.container_env([{"name": "ADDRESS", "value": "127.0.0.1"}], "f")
    assert env == [{"name": "ADDRESS", "value": "127.0.0.1"}]


def test_an_unknown_env_template_is_rejected_naming_the_entry() -> None:
    with pytest.raises(InvalidInputError) as caught:
        render.container_env([{"name": "X", "value": "{{ vault:path }}"}], "f")
    assert caught.value.field == "run.envs[0]"


def test_volumes_are_named_like_kn_func_names_them(func_yaml: dict[str, Any]) -> None:
    service = render.render_service(func_yaml)
    volumes = service["spec"]["template"]["spec"]["volumes"]
    assert volumes[0] == {"name": "secret-sample-certs", "secret": {"secretName": "sample-certs"}}
    assert volumes[1]["name"] == "empty-dir-1"
    assert container_of(service)["volumeMounts"] == [
        {"name": "secret-sample-certs", "mountPath": "/etc/certs"},
        {"name": "empty-dir-1", "mountPath": "/scratch"},
    ]


def test_service_account_is_taken_from_func_yaml(func_yaml: dict[str, Any]) -> None:
    assert render.render_service(func_yaml)["spec"]["template"]["spec"]["serviceAccountName"] == (
        "sample"
    )


def test_image_prefers_deploy_image_then_image_then_registry_and_name() -> None:
    assert render.function_image({"name": "f", "deploy": {"image": "a/f@sha256:1"}}) == (
        "a/f@sha256:1"
    )
    assert render.function_image({"name": "f", "image": "b/f:1"}) == "b/f:1"
    assert render.function_image({"name": "f", "registry": "quay.io/acme/"}) == "quay.io/acme/f"
    assert render.function_image({"name": "f"}, "registry.example.com/shop") == (
        "registry.example.com/shop/f"
    )


def test_a_function_without_any_image_source_is_rejected() -> None:
    with pytest.raises(InvalidInputError, match=r"set image, deploy\.image or registry"):
        render.function_image({"name": "f"})


def test_an_invalid_function_name_is_rejected_naming_the_field() -> None:
    with pytest.raises(InvalidInputError) as caught:
        render.render_service({"name": "Not_Valid", "image": "x"})
    assert caught.value.field == "name"


def test_one_trigger_per_subscription_named_like_kn_func(func_yaml: dict[str, Any]) -> None:
    triggers = render.render_triggers(func_yaml)
    assert [t["metadata"]["name"] for t in triggers] == [
        "sample-function-trigger-0",
        "sample-function-trigger-1",
    ]
    first = triggers[0]["spec"]
    assert first["broker"] == "default"
    assert first["filter"] == {
        "attributes": {"source": "/orders", "type": "com.example.order.created"}
    }
    assert first["subscriber"] == {
        "ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "sample"}
    }


def test_a_subscription_without_filters_matches_every_event(func_yaml: dict[str, Any]) -> None:
    second = render.render_triggers(func_yaml)[1]["spec"]
    assert second["broker"] == "other"
    assert second["filter"] == {}


def test_a_subscription_without_source_is_rejected() -> None:
    with pytest.raises(InvalidInputError) as caught:
        render.render_triggers({"name": "f", "deploy": {"subscriptions": [{"filters": {}}]}})
    assert caught.value.field == "deploy.subscriptions[0]"


def test_render_function_returns_the_service_first(func_yaml: dict[str, Any]) -> None:
    kinds = [document["kind"] for document in render.render_function(func_yaml)]
    assert kinds == ["Service", "Trigger", "Trigger"]


def test_rendered_files_carry_the_generated_header_and_round_trip(
    func_yaml: dict[str, Any],
) -> None:
    files = render.render_files(func_yaml)
    assert sorted(files) == ["ksvc.yaml", "trigger-0.yaml", "trigger-1.yaml"]
    for text in files.values():
        assert render.is_generated(text)
        assert "do not edit" in text.splitlines()[0]
    assert yaml.safe_load(files["ksvc.yaml"]) == render.render_service(func_yaml)


def test_rendering_is_reproducible(func_yaml: dict[str, Any]) -> None:
    assert render.render_files(func_yaml) == render.render_files(func_yaml)


def test_drift_reports_missing_changed_and_stale_generated_files() -> None:
    header = render.GENERATED_HEADER.format(name="f")
    expected = {"a/ksvc.yaml": header + "x: 1\n", "a/trigger-0.yaml": header + "y: 1\n"}
    existing: dict[str, str | None] = {
        "a/ksvc.yaml": header + "x: 2\n",
        "a/trigger-0.yaml": None,
        "a/trigger-1.yaml": header + "z: 1\n",
        "a/serviceaccount.yaml": "kind: ServiceAccount\n",
    }
    drift = render.find_drift(expected, existing)
    assert [item.path for item in drift] == ["a/ksvc.yaml", "a/trigger-0.yaml", "a/trigger-1.yaml"]
    assert "-x: 2" in drift[0].summary() and "+x: 1" in drift[0].summary()
    assert "missing" in drift[1].summary()
    assert drift[2].expected == ""


def test_no_drift_when_files_match() -> None:
    assert render.find_drift({"k.yaml": "a"}, {"k.yaml": "a"}) == []
