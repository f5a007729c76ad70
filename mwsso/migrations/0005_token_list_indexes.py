"""Indexes for the admin's token list: its order (newest first), that order within a status or a wiki, and the fingerprint.

Without them every page of the list sorted the whole table (issue 21). Numbered 0005: it follows the refresh
claim's migration (0004_accesstoken_refresh_claim) once both are merged.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("mwsso", "0004_accesstoken_refresh_claim"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="accesstoken",
            index=models.Index(fields=["created", "id"], name="mwsso_token_created"),
        ),
        migrations.AddIndex(
            model_name="accesstoken",
            index=models.Index(fields=["status", "created"], name="mwsso_token_status_created"),
        ),
        migrations.AddIndex(
            model_name="accesstoken",
            index=models.Index(fields=["wiki", "created"], name="mwsso_token_wiki_created"),
        ),
        migrations.AddIndex(
            model_name="accesstoken",
            index=models.Index(fields=["fingerprint"], name="mwsso_token_fingerprint"),
        ),
    ]
