"""Blueprints of the web app: webhooks, citizen status, health and metrics."""
