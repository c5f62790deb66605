"""Experiment tracking: the Tracker interface, a null tracker and MLflow."""
