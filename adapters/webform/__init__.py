"""Web-form channel: existing pemda complaint websites post their submissions here."""
