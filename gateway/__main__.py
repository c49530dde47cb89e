"""`python -m gateway` is `sp4n-gateway`."""

from gateway.cli import main

main()
