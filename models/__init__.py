"""Tortoise ORM models and migrations: the only place that knows tables.

One module per aggregate. `MODEL_MODULES` is what tortoise loads; migrations live in
`models/migrations/` and are generated with `python run.py makemigrations`.
"""

MODEL_MODULES = [
    "models.events", "models.contacts", "models.tags", "models.channels", "models.groups",
    "models.sop", "models.members", "models.points", "models.mall",
    "models.trace",
]
