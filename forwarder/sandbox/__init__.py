"""The sandbox central: a reference implementation of contracts/central-api.yaml."""

from forwarder.sandbox.app import SandboxSettings, make_app
from forwarder.sandbox.server import SandboxServer

__all__ = ["SandboxServer", "SandboxSettings", "make_app"]
