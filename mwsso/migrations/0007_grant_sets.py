"""Grant sets: each distinct combination of grants once, and each token's (``AccessToken.grant_set``), indexed
with the list's order, so that the admin's grant filter and ``mwsso_tokens --grant`` read an index on every
database (issue 21). The rows are filled in by 0008_grant_sets_backfill.

The GIN index of 0006 (PostgreSQL only) is dropped: no query reads the JSON list any more, and it cost
every write of a token.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

GIN_INDEX = "mwsso_token_grants_gin"


def drop_gin_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {GIN_INDEX}")


def create_gin_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # Back to 0006's state (its filter, a JSON containment, needs it).
    if schema_editor.connection.vendor == "postgresql":
        table = schema_editor.quote_name(apps.get_model("mwsso", "AccessToken")._meta.db_table)
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {GIN_INDEX} ON {table} USING gin (grants jsonb_path_ops)")


class Migration(migrations.Migration):
    dependencies = [
        ("mwsso", "0006_accesstoken_grants_gin"),
    ]

    operations = [
        migrations.CreateModel(
            name="GrantSet",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("digest", models.CharField(editable=False, max_length=64, unique=True, verbose_name="digest")),
                ("grants", models.JSONField(default=list, editable=False, verbose_name="grants")),
                ("grant_keys", models.TextField(editable=False, verbose_name="grant keys")),
            ],
            options={
                "verbose_name": "grant set",
                "verbose_name_plural": "grant sets",
            },
        ),
        migrations.AddField(
            model_name="accesstoken",
            name="grant_set",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="mwsso.grantset",
            ),
        ),
        migrations.AddIndex(
            model_name="accesstoken",
            index=models.Index(fields=["grant_set", "created", "id"], name="mwsso_token_grant_set"),
        ),
        migrations.RunPython(drop_gin_index, create_gin_index, elidable=False),
    ]
