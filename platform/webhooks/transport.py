"""Sending a webhook to the address that was checked, not to whatever its host name resolves to next.

``targets.check_target`` resolves the URL's host and refuses private addresses; if ``requests`` then
resolved the name again, a host whose DNS answers a public address to the check and an internal one a
moment later (DNS rebinding, TTL 0) would have the platform POST into its own network. So the connection
goes to the checked address, while the request still names the host: the Host header, and for https the
TLS server name (SNI) and the certificate's host-name check, are the URL's host's.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter


class PinnedAddressAdapter(HTTPAdapter):
    """Connects every request to ``address``; Host, SNI and certificate checks stay on the URL's host."""

    def __init__(self, address: str, **kwargs: Any) -> None:
        self.address = address
        super().__init__(**kwargs)

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        hostname = host_params["host"]
        host_params["host"] = self.address
        if host_params["scheme"] == "https":
            pool_kwargs["server_hostname"] = hostname
            pool_kwargs["assert_hostname"] = hostname
        return host_params, pool_kwargs

    def add_headers(self, request, **kwargs) -> None:
        # urllib3 would name the address it connects to; the receiver routes and checks by name.
        request.headers["Host"] = urlsplit(request.url).netloc


def post_to_address(url: str, address: str, *, verify: bool | str = True, **kwargs: Any) -> requests.Response:
    """POST ``url`` over a connection to ``address``, without redirects, proxies or .netrc (a proxy would
    resolve the name again)."""
    with requests.Session() as session:
        session.trust_env = False
        adapter = PinnedAddressAdapter(address)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        # A redirect would lead the request to a target that was never checked.
        return session.post(url, allow_redirects=False, verify=verify, **kwargs)
