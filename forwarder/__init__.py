"""forwarder package."""
