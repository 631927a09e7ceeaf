"""The engine: models, workflow definitions, services, audit chain and blob store.

Knows nothing of Flask. Services take a session and an actor, and flush; callers commit.

    config       instance folder, database URL, secrets (env or 0600 files made by init)
    db           engines, sessions, Alembic migrations configured in code (migrations/)
    models       typed SQLAlchemy models with check constraints
    definitions  pledge and nomination workflows as data, one transitions machine each
    services     the use cases (see workflow.services for the list); each trigger goes
                 down one pipeline of steps (services.pipeline)
    inputs       TriggerInputs: what a request carries for a trigger, typed and checked
    values       sha256_hex and parse_date, shared with the web layer
    audit        the hash-chained audit log and its verifier
    blobs, pki   content-addressed files in the database; the deployment CA
    seed         the demo cluster (``thidua seed-demo``)
"""

from workflow.inputs import TriggerInputs

__all__ = ["TriggerInputs"]
