"""Who may use the control plane: everyone on loopback; off loopback, a bearer token over TLS.

Bound to a loopback address nothing changes. Bound anywhere else, the control plane makes,
at start, a bearer token (``<state_dir>/controlplane/token``, mode 0600) and serves HTTPS
with a certificate signed by a CA of its own (``<state_dir>/controlplane/ca.crt``; the CA
is kept across restarts, the token and the serving certificate are new each time). kubectl
sends tokens only over https, so both go into the kubeconfig `bulut kubeconfig` writes.
Every request but ``/healthz`` and ``/readyz`` must carry ``Authorization: Bearer <token>``;
others get 401 and a ``Status`` object, as kube-apiserver answers.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from bulut.apis.status import status
from bulut.edge import discovery
from bulut.settings import Settings, is_loopback

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
# health, and the platform issuer's public keys (bulut.edge.discovery)
OPEN_PATHS = frozenset({"/healthz", "/readyz", *discovery.PATHS})


@dataclass(frozen=True)
class Access:
    """The token and the TLS files of a control plane that is not on loopback."""

    token: str
    token_file: Path
    ca_file: Path
    cert_file: Path
    key_file: Path

    def announce(self, url: str) -> str:
        """The start-up line saying how to reach it."""
        return (
            f"control plane {url} is not on loopback: it serves HTTPS (CA {self.ca_file}) and "
            f"requires the bearer token in {self.token_file}; `bulut kubeconfig` puts both "
            "into the kubeconfig"
        )


def _write(path: Path, data: bytes, mode: int) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    path.chmod(mode)


def _names(host: str) -> list[x509.GeneralName]:
    """Every name a client may use for this host: the bind address, loopback, the hostname."""
    dns = {"localhost", socket.gethostname()}
    ips = {"127.0.0.1", "::1"}
    try:
        ipaddress.ip_address(host)
        ips.add(host)
    except ValueError:
        dns.add(host)
    if host in ("0.0.0.0", "::"):
        with contextlib.suppress(OSError):
            ips |= {str(a[4][0]) for a in socket.getaddrinfo(socket.gethostname(), None)}
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in sorted(dns)]
    names += [x509.IPAddress(ipaddress.ip_address(i)) for i in sorted(ips)]
    return names


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[str, ec.EllipticCurvePrivateKey] | None,
    *,
    days: int,
    names: list[x509.GeneralName] | None = None,
) -> x509.Certificate:
    now = datetime.now(UTC)
    issuer_name, signer = issuer if issuer else (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if issuer is None:
        usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
        builder = builder.add_extension(usage, critical=True)
    else:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        ).add_extension(x509.SubjectAlternativeName(names or []), critical=False)
    return builder.sign(signer, hashes.SHA256())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _ca(folder: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """The CA in ``folder`` (made once, then kept so kubeconfigs stay valid)."""
    cert_file, key_file = folder / "ca.crt", folder / "ca.key"
    if cert_file.is_file() and key_file.is_file():
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        if isinstance(key, ec.EllipticCurvePrivateKey) and cert.not_valid_after_utc > (
            datetime.now(UTC) + timedelta(days=30)
        ):
            return cert, key
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _certificate("bulut-control-plane-ca", key, None, days=3650)
    _write(key_file, _pem_key(key), 0o600)
    _write(cert_file, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return cert, key


def prepare(settings: Settings) -> Access | None:
    """None on loopback; else a new token and serving certificate, written to the state dir."""
    if is_loopback(settings.host):
        return None
    folder = settings.state_dir / "controlplane"
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    ca_cert, ca_key = _ca(folder)
    key = ec.generate_private_key(ec.SECP256R1())
    issuer = ca_cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    cert = _certificate(
        "bulut-control-plane", key, (str(issuer), ca_key), days=365, names=_names(settings.host)
    )
    cert_file, key_file = folder / "server.crt", folder / "server.key"
    _write(key_file, _pem_key(key), 0o600)
    _write(cert_file, cert.public_bytes(serialization.Encoding.PEM), 0o600)
    token = secrets.token_urlsafe(32)
    token_file = folder / "token"
    _write(token_file, token.encode() + b"\n", 0o600)
    return Access(token, token_file, folder / "ca.crt", cert_file, key_file)


class TokenGuard:
    """ASGI middleware: 401 ``Status`` unless the request carries the bearer token."""

    def __init__(self, app: ASGIApp, *, token: str) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()

    def _allowed(self, scope: Scope) -> bool:
        if scope.get("path") in OPEN_PATHS:
            return True
        for name, value in scope.get("headers") or []:
            if name == b"authorization":
                return hmac.compare_digest(bytes(value).strip(), self._expected)
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = orjson.dumps(status("Unauthorized", code=401, reason="Unauthorized"))
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b'Bearer realm="bulut"'),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
