"""What the admin console and the citizen pages read and do, without Flask.

Accounts, the audit log, the reports query, channel health, exports and repair actions
live here as plain functions on a session; the blueprints in `gateway.web` only wire them
to requests and templates.
"""
