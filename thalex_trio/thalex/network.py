"""Where the session connects: Thalex production, Thalex testnet, or a local URL (the simulator)."""

from __future__ import annotations

import enum


class Network(enum.Enum):
    """A Thalex environment; the value is its WebSocket endpoint (API.md §1)."""

    PROD = "wss://thalex.com/ws/api/v2"
    TEST = "wss://testnet.thalex.com/ws/api/v2"

    @property
    def url(self) -> str:
        """The WebSocket URL of this environment."""
        return self.value


def endpoint_url(network: Network | str) -> str:
    """The URL to connect to: a `Network`'s endpoint, or a `ws://`/`wss://` URL as given."""
    if isinstance(network, Network):
        return network.url
    if not network.startswith(("ws://", "wss://")):
        raise ValueError(f"not a WebSocket URL: {network!r}")
    return network
