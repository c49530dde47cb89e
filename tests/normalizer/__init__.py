"""Tests of the normalizer package."""
