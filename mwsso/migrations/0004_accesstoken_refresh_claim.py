"""A committed, expiring claim on a token row while one worker refreshes it (``mwsso.tokens.refresh``).

Replaces the row lock (and, on SQLite, the database-wide write lock) that a refresh held for the length of
its call to the wiki. Two nullable/defaulted columns: no table rewrite, reversible.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("mwsso", "0003_wiki_key")]

    operations = [
        migrations.AddField(
            model_name="accesstoken",
            name="refresh_claim",
            field=models.CharField(blank=True, default="", editable=False, max_length=32, verbose_name="refresh claim"),
        ),
        migrations.AddField(
            model_name="accesstoken",
            name="refresh_claimed_until",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="refresh claimed until"),
        ),
    ]
