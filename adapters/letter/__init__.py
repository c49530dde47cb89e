"""Letter channel: paper letters typed in by an admin."""
