"""The engine: models, workflow definitions, services, audit chain and blob store.

Knows nothing of Flask. Services take a session and an actor, and flush; callers commit.
"""
