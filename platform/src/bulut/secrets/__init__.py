"""Vault/OpenBao: the local dev server, KV/Transit/database credentials, injection."""

from .devserver import DevServer
from .vault import Lease, Vault

__all__ = ["DevServer", "Lease", "Vault"]
