"""The shared vocabulary every layer speaks: drafts, kinds, statuses, durations, errors.

This package imports nothing of ours, so any package may import it (README: architecture).
"""
