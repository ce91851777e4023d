"""The local exchange: a trio-websocket server speaking the Thalex protocol over the matching
engine, with fault injection. It reuses the protocol codec, so it sits above `thalex` in the
layers while the engine and market sources stay below."""
