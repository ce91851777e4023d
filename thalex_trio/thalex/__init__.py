"""The Thalex wire protocol: message types, codec and JSON-RPC correlation (sans-IO), and the
trio-websocket session shell (`session.py`, the only module here that imports trio)."""
