"""The protocol half of the local exchange: Hyperliquid's HTTP and websocket API (server, actions,
/info, websocket hub), its limits and faults, and the durable state file, on top of the venue."""
