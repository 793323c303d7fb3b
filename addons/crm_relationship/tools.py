"""Helpers shared by the CRM addons."""

from contextlib import contextmanager

from odoo.tools import SQL


@contextmanager
def local_settings(cr, settings):
    """Set PostgreSQL `settings` (name: value) for the statements run inside, then restore them.

    Like SET LOCAL, the values only live in the current transaction (or savepoint). On an error
    nothing is restored: the failed transaction or savepoint drops them itself.
    """
    names = list(settings)
    cr.execute(
        SQL(
            "SELECT %s",
            SQL(", ").join(
                SQL("current_setting(%s), set_config(%s, %s, true)", name, name, settings[name])
                for name in names
            ),
        )
    )
    previous = cr.fetchone()[0::2]
    yield
    cr.execute(
        SQL(
            "SELECT %s",
            SQL(", ").join(
                SQL("set_config(%s, %s, true)", name, value)
                for name, value in zip(names, previous, strict=True)
            ),
        )
    )
