"""Classifiers learned from a pemda's own history: features, model file, training, metrics."""
