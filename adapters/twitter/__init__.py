"""The X (Twitter) channel: mentions and direct messages polled with tweepy's v2 `Client`.

`options.py` declares the YAML fields; `api.py` is the only module that talks to X (rate
limits, tier errors, media downloads); `cursor.py` keeps the position in both timelines;
`convert.py` turns v2 posts and DM events into drafts; `webhook.py` reads the optional
Account Activity webhook; `text.py` measures and cuts texts as X counts them;
`adapter.py` ties them together as the `twitter` channel type.
"""
