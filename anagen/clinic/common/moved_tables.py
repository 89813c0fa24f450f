"""Moving a model to another app without losing an installation's rows.

A model that moves app changes its default table name (``<app>_<model>``). The new app's initial
migration declares the model in the migration state and then, in the database, either creates
the table (a fresh install) or adopts the old one (an installation migrated before the move):
rename the table and its named indexes, move its content type (and so its permissions) to the new
app label, and keep every row. Append-only triggers are named after their table, so the old ones
are dropped before the rename and the new app installs them under the new name (its next
operation, and ``post_migrate`` for the SQLite REPLACE guard).

Used by migrations (``audit.0001``, ``common.0001``): change nothing here that an applied migration
relies on.

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.CreateModel(...)]),
        adopt_or_create("audit", "Signature", old_table="core_signature", old_app_label="core",
                        renamed_indexes={"old_idx_name": "new_idx_name"}),
    ]
"""

from __future__ import annotations

from typing import Any

from .append_only import uninstall_sql


def adopt_table(
    schema_editor: Any,
    model: Any,
    *,
    old_table: str,
    old_app_label: str,
    renamed_indexes: dict[str, str],
    content_type_model: Any,
) -> bool:
    """Rename ``old_table`` to ``model``'s table, keeping its rows; False if there is none."""
    connection = schema_editor.connection
    tables = set(connection.introspection.table_names())
    new_table = model._meta.db_table
    if old_table not in tables or new_table in tables:
        return False
    for sql in uninstall_sql(connection.vendor, old_table):
        schema_editor.execute(sql, params=None)
    schema_editor.alter_db_table(model, old_table, new_table)
    indexes = {index.name: index for index in model._meta.indexes}
    with connection.cursor() as cursor:
        existing = connection.introspection.get_constraints(cursor, new_table)
    for old_name, new_name in renamed_indexes.items():
        if old_name in existing:
            old_index = indexes[new_name].clone()
            old_index.name = old_name
            schema_editor.rename_index(model, old_index, indexes[new_name])
    model_name = model._meta.model_name
    content_types = content_type_model.objects.using(connection.alias)
    if not content_types.filter(app_label=model._meta.app_label, model=model_name).exists():
        # The permissions (and anything else pointing at the content type) follow the model.
        content_types.filter(app_label=old_app_label, model=model_name).update(
            app_label=model._meta.app_label
        )
    return True


def adopt_or_create(
    app_label: str,
    model_name: str,
    *,
    old_table: str,
    old_app_label: str,
    renamed_indexes: dict[str, str] | None = None,
) -> Any:
    """A ``RunPython`` that adopts ``old_table`` if it exists, else creates the model's table.

    Backwards it drops the table, as reversing a ``CreateModel`` would.
    """
    from django.db import migrations

    def forwards(apps: Any, schema_editor: Any) -> None:
        model = apps.get_model(app_label, model_name)
        adopted = adopt_table(
            schema_editor,
            model,
            old_table=old_table,
            old_app_label=old_app_label,
            renamed_indexes=renamed_indexes or {},
            content_type_model=apps.get_model("contenttypes", "ContentType"),
        )
        if not adopted:
            schema_editor.create_model(model)

    def backwards(apps: Any, schema_editor: Any) -> None:
        model = apps.get_model(app_label, model_name)
        for sql in uninstall_sql(schema_editor.connection.vendor, model._meta.db_table):
            schema_editor.execute(sql, params=None)
        schema_editor.delete_model(model)

    return migrations.RunPython(forwards, backwards, elidable=False)
