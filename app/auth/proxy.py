"""Sign-in by a trusted reverse proxy (oauth2-proxy, Authelia, Shibboleth's SP).

The proxy authenticates the person and passes who they are in headers. Those headers are
believed only on connections from `proxy_trusted_addresses`; from anywhere else a request that
carries them is refused, since anyone can type a header. The service must then be reachable only
through the proxy, and it reads the real peer address (uvicorn runs without proxy headers).
"""

from __future__ import annotations

import ipaddress

from fastapi import Request

from app.auth.identity import AccessDenied, Identity, as_values, cohorts_for, role_for
from app.settings import Settings


def peer_trusted(request: Request, settings: Settings) -> bool:
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(net, strict=False)
        for net in settings.proxy_trusted_addresses
    )


def header_subject(request: Request, settings: Settings) -> str | None:
    """The subject a trusted proxy names on this request, or None."""
    value = request.headers.get(settings.proxy_user_header, "").strip()
    if not value or not peer_trusted(request, settings):
        return None
    return "proxy:" + value


def identity_from_headers(request: Request, settings: Settings) -> Identity:
    user = request.headers.get(settings.proxy_user_header, "").strip()
    if not peer_trusted(request, settings):
        if user:
            raise AccessDenied(
                "Sign-in headers were sent from an address that is not this service's sign-in "
                "proxy, so they were refused. Open the service through its usual address."
            )
        raise AccessDenied(
            "This service signs people in through your institution's sign-in proxy, and this "
            "request did not come through it. Open the service through its usual address."
        )
    if not user:
        raise AccessDenied(
            f"The sign-in proxy did not say who you are (the {settings.proxy_user_header} header "
            "is missing). Ask your administrator to check the proxy's configuration."
        )
    name = request.headers.get(settings.proxy_name_header, "").strip() or user
    groups = as_values(request.headers.get(settings.proxy_groups_header))
    return Identity(
        subject="proxy:" + user,
        display_name=" ".join(name.split())[:120],
        role=role_for(groups, settings, source=f"the {settings.proxy_groups_header} header"),
        cohorts=cohorts_for(groups, settings),
    )
