"""Emitting CloudEvents to K_SINK, the way a SinkBinding wires a Knative workload.

``K_SINK`` is the URL to POST to (the broker, locally or on a cluster); ``K_CE_OVERRIDES``
is JSON such as ``{"extensions": {"env": "dev"}}`` whose extensions are set on every event.
Events go out in binary mode. Without ``K_SINK`` nothing is sent and a warning is logged.

With Knative's ``authentication-oidc`` on, the SinkBinding projects a token for the sink's
audience into the pod at ``/oidc/token`` (locally the file ``K_OIDC_TOKEN_FILE`` names); it is
re-read for every event (it is rewritten before it expires) and sent as
``Authorization: Bearer``. Without the file no token is sent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path

import httpx
from cloudevents.core.bindings.http import to_binary_event
from cloudevents.core.v1.event import CloudEvent

log = logging.getLogger(__name__)

CLUSTER_TOKEN_FILE = "/oidc/token"


class Sink:
    def __init__(
        self,
        url: str | None,
        extensions: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        token_file: Path | None = None,
    ) -> None:
        self.url = url or None
        self.extensions = dict(extensions or {})
        self.timeout = timeout
        self.token_file = token_file
        self._client: httpx.Client | None = None

    @property
    def client(self) -> httpx.Client:
        """One keep-alive client per instance, made at the first event (TLS set up only for an
        https sink: loading the CA bundle is most of what a new client costs)."""
        if self._client is None:
            https = (self.url or "").startswith("https:")
            self._client = httpx.Client(timeout=self.timeout, verify=https)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    @classmethod
    def from_config(cls, cfg: Mapping[str, str]) -> Sink:
        overrides = cfg.get("K_CE_OVERRIDES") or ""
        extensions: dict[str, str] = {}
        if overrides.strip():
            try:
                extensions = {
                    str(k): str(v) for k, v in json.loads(overrides).get("extensions", {}).items()
                }
            except (ValueError, AttributeError):
                log.warning('K_CE_OVERRIDES is not JSON like {"extensions": {...}}; ignored')
        timeout = float(cfg.get("K_SINK_TIMEOUT") or 10.0)
        token_file = Path(cfg.get("K_OIDC_TOKEN_FILE") or CLUSTER_TOKEN_FILE)
        return cls(cfg.get("K_SINK"), extensions, timeout, token_file)

    def authorization(self) -> dict[str, str]:
        """``Authorization`` with the projected token, or nothing when there is none."""
        if self.token_file is None:
            return {}
        try:
            token = self.token_file.read_text().strip()
        except OSError:
            return {}
        return {"authorization": f"Bearer {token}"} if token else {}

    def build(self, attributes: dict[str, str], data: object) -> CloudEvent:
        """A JSON event with the K_CE_OVERRIDES extensions applied."""
        merged = {**self.extensions, **attributes, "datacontenttype": "application/json"}
        return CloudEvent(attributes=merged, data=data)

    def emit(self, event: CloudEvent) -> bool:
        """POST ``event`` (binary mode); False when there is no K_SINK. Raises on failure."""
        if self.url is None:
            log.warning("K_SINK is not set: not emitting %s %s", event.get_type(), event.get_id())
            return False
        message = to_binary_event(event)
        headers = {**message.headers, **self.authorization()}
        response = self.client.post(self.url, headers=headers, content=message.body)
        response.raise_for_status()
        return True
