"""SMS channels: Twilio (SMS and WhatsApp), Kannel and Gammu SMSD, sharing one SMS grammar."""
