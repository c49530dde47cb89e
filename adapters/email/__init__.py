"""The email channel: IMAP in (`imap.py`), SMTP out (`smtp.py`), MIME reading (`mime.py`).

`charsets.py` turns bytes into text even when the declared charset lies; `quotes.py` strips
quoted replies and signatures from a body; `loops.py` recognises auto-replies, bounces and
list mail so they are held instead of becoming reports.
"""
