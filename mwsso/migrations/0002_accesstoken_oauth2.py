"""OAuth 2.0 tokens: when a token was last refreshed, and what ``expires_at`` means.

The refresh token needs no column of its own: it is encrypted with its access token in
``encrypted`` (see ``AccessToken.credential_fields``), so key rotation covers it.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("mwsso", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="accesstoken",
            name="refreshed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="refreshed at"),
        ),
        migrations.AlterField(
            model_name="accesstoken",
            name="expires_at",
            field=models.DateTimeField(
                blank=True,
                help_text="When the OAuth 2.0 access token expires (none for OAuth 1.0a).",
                null=True,
                verbose_name="expires at",
            ),
        ),
    ]
