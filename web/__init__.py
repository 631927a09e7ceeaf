"""The Flask application, its CLI and its JSON API."""
