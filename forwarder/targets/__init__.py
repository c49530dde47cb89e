"""Forwarder targets: how a report reaches a central (the `lapor` contract is the reference)."""
