"""Tests of the SMS channels (Twilio, Kannel, Gammu SMSD) and their shared grammar."""
