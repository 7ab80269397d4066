"""bulut.dashboard: the web dashboard at ``/`` on the control plane.

``live`` follows a ResourceFeed and keeps each revision's instance counts over time;
``charts`` draws them as inline SVG; ``pages`` renders the HTML (inline CSS and JS, no
CDN); ``reports`` finds the last DR drill report; ``app`` serves it all, with a
Server-Sent Events stream that pushes fresh fragments to the browser.
"""

from .app import Dashboard, create_dashboard

__all__ = ["Dashboard", "create_dashboard"]
