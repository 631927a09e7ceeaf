"""Blueprints of the HTML interface."""
