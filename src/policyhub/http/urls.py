"""Absolute URLs in responses, built from the configured public base URL, never from the request.

The ``Host`` header is whatever the client sends: a URL built from it (``request.base_url``,
``request.url_for``) lets any caller put a host of its choosing into an answer that others follow,
such as the ``html_url`` a CI tool shows next to a Kosli assertion. ``POLICYHUB_PUBLIC_BASE_URL`` says
where clients reach the service (behind a proxy: the proxy's address); unset, it is
``http://<host>:<port>`` from the listen settings. ``Location`` headers stay relative paths (RFC 9110
allows it), so they need none of this.
"""

from __future__ import annotations

from policyhub.settings import Settings


def public_base_url(settings: Settings) -> str:
    """The service's public base URL, without a trailing slash."""
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/")
    host = settings.host
    if ":" in host and not host.startswith("["):  # an IPv6 address
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def public_url(settings: Settings, path: str) -> str:
    """The absolute URL of ``path`` (a path of this service, e.g. ``/v1/orgs/acme/decisions/<id>``)."""
    return f"{public_base_url(settings)}/{path.lstrip('/')}"
