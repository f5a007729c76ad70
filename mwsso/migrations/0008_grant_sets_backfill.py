"""Fill in ``AccessToken.grant_set`` for the tokens stored before 0007_grant_sets, 1,000 tokens per transaction.

Not one transaction for the whole table: each batch commits on its own, so a large table is neither locked
nor held in memory at once, and a run stopped halfway is simply run again (a batch rewrites only the rows
whose set differs). The names, digest and keys are computed as ``mwsso.models.GrantSet.fields_for`` does,
copied here so that this migration keeps its meaning whatever the model becomes.
"""

import hashlib
import json
from typing import Any

from django.db import migrations, transaction
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

BATCH = 1000


def grant_set_fields(grants: Any) -> dict[str, Any] | None:
    names = sorted({grant for grant in grants if isinstance(grant, str)}) if isinstance(grants, list) else []
    if not names:
        return None
    keys = (hashlib.sha256(b"mwsso-grant:" + name.encode()).hexdigest()[:16] for name in names)
    return {
        "digest": hashlib.sha256(json.dumps(names).encode()).hexdigest(),
        "grants": names,
        "grant_keys": " " + " ".join(keys) + " ",
    }


def backfill(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    token_model = apps.get_model("mwsso", "AccessToken")
    grant_set_model = apps.get_model("mwsso", "GrantSet")
    using = schema_editor.connection.alias
    tokens = token_model.objects.using(using)
    last_pk = 0
    while rows := list(
        tokens.filter(pk__gt=last_pk).order_by("pk").values_list("pk", "grants", "grant_set_id")[:BATCH]
    ):
        last_pk = rows[-1][0]
        sets: dict[str, dict[str, Any]] = {}
        wanted: dict[int, str | None] = {}
        for pk, grants, _current in rows:
            fields = grant_set_fields(grants)
            wanted[pk] = fields and fields["digest"]
            if fields:
                sets[fields["digest"]] = fields
        with transaction.atomic(using=using):
            # Conflicts ignored: a sign-in running meanwhile may add the same set (the digest is unique).
            grant_set_model.objects.using(using).bulk_create(
                [grant_set_model(**fields) for fields in sets.values()], ignore_conflicts=True
            )
            ids = dict(grant_set_model.objects.using(using).filter(digest__in=sets).values_list("digest", "pk"))
            by_set: dict[int | None, list[int]] = {}
            for pk, _grants, current in rows:
                digest = wanted[pk]
                target = ids[digest] if digest else None
                if current != target:
                    by_set.setdefault(target, []).append(pk)
            for target, pks in by_set.items():
                tokens.filter(pk__in=pks).update(grant_set_id=target)


class Migration(migrations.Migration):
    atomic = False  # one transaction per batch (above)

    dependencies = [
        ("mwsso", "0007_grant_sets"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=False),
    ]
