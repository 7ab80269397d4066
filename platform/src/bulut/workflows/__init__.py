"""bulut.workflows: the CI/CD pipelines as data, and running them on this machine.

:mod:`.steps` is the one catalogue of steps that the Hera WorkflowTemplates and Tekton
Pipelines (``pipelines/``) and ``bulut pipeline run`` all read; :mod:`.runner` walks a
pipeline's steps locally in DAG order.
"""

from __future__ import annotations

from .steps import DR_DRILL, FUNCTION_CI, PIPELINES, PROMOTE, Pipeline, Step

__all__ = ["DR_DRILL", "FUNCTION_CI", "PIPELINES", "PROMOTE", "Pipeline", "Step"]
