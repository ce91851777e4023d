"""The Thalex wire protocol: message types, codec and JSON-RPC correlation (sans-IO), and the trio-websocket session shell."""
