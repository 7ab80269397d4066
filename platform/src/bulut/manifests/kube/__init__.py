"""Kubernetes' own validation (kube-apiserver's rules) for the fields Bulut's manifests use.

Pure functions over plain dicts, each returning :class:`~bulut.manifests.findings.FieldError`
lists worded as kube-apiserver words them (``Invalid value``, ``Required value``,
``Unsupported value``, ``Duplicate value``, ``Forbidden``).
"""
