"""bulut.apis: the typed API layer, the one source of truth for every kind served.

:mod:`.registry` reads the vendored CRDs (``crds/``, provenance in ``SOURCES.txt``): group,
version, kind, plural, singular, short names, categories, scope, the status subresource,
printer columns and schema. From it come discovery (:mod:`.discovery`), OpenAPI v3
(:mod:`.openapi`), Tables (:mod:`.tables`) and strict field validation (:mod:`.schema`);
:mod:`.status`, :mod:`.selectors`, :mod:`.patches`, :mod:`.fields` (managedFields and
server-side apply) and :mod:`.protobuf` are the API machinery the control plane's routes use.
Everything here is pure; nothing is read at import.
"""

from .registry import ApiResource, PrinterColumn, Registry, Served, registry

__all__ = ["ApiResource", "PrinterColumn", "Registry", "Served", "registry"]
