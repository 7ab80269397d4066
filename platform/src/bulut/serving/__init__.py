"""bulut.serving: the local Knative Serving data plane.

``router`` (hosts, traffic split) → ``activator`` (held while no instance is ready) →
``queue`` (containerConcurrency breaker) → the instance's keep-alive pool
(``bulut.httpd.OriginPool``) → an instance: a ``fork()`` of the revision's ``zygote``.
``revisions`` ties one revision's pieces and its ``autoscaler`` together;
``dataplane.Serving`` follows a ResourceFeed.
"""

from bulut.serving.dataplane import Serving

__all__ = ["Serving"]
