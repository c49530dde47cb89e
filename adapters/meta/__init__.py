"""Meta's channels (WhatsApp Cloud API, Messenger, Instagram): one webhook scheme, one family."""
