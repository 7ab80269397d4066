"""bulut.dashboard: the web dashboard at ``/`` on the control plane.

``live`` follows a ResourceFeed and keeps each revision's instance counts over time;
``charts`` draws them as inline SVG; ``pages`` renders the HTML, with ``assets`` (the
inline CSS and JS: nothing from a CDN); ``reports`` finds the last DR drill report;
``app`` serves it all, with a Server-Sent Events stream that pushes fresh fragments.
"""

from .app import Dashboard, create_dashboard

__all__ = ["Dashboard", "create_dashboard"]
