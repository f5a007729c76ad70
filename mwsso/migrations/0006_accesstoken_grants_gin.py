"""A GIN index on the access tokens' grants, on PostgreSQL only: the admin's grant filter and
``mwsso_tokens --grant`` use a JSON containment there (``grants @> '["editpage"]'``), which it serves.

Other databases have no such index (SQLite and MariaDB cannot index a JSON list's items), and keep matching
the JSON text. Not in the model's ``Meta.indexes``: a GIN index would be created on every database, so the
migration creates it itself, and the model state (``makemigrations --check``) does not know it.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

INDEX = "mwsso_token_grants_gin"


def create_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("mwsso", "AccessToken")._meta.db_table)
    # jsonb_path_ops: smaller and faster than the default operator class, and containment (@>) is all we ask.
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON {table} USING gin (grants jsonb_path_ops)")


def drop_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("mwsso", "0005_token_list_indexes"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
