"""Every row of every table as text: what someone with a database dump would see (no secret may be in it)."""

from __future__ import annotations

from django.db import connection


def database_dump() -> str:
    dump = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            dump.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(dump)
