"""Helpers shared by the CRM addons."""

from collections.abc import Collection
from contextlib import contextmanager

from odoo.exceptions import AccessError
from odoo.fields import Domain
from odoo.tools import SQL

# PostgreSQL settings for the statements that read every sale or invoice of a company (the
# metrics refresh, the scores' summary, the bought products of the next offers, the
# propensities' history), each kept because a measure showed it: the benchmarks of
# scripts/bench at 100,000 customers, as ratios to their plain SQL pass, taking turns.
SCAN_SETTINGS = {
    # JIT compiles the statements' expressions in 0.3 to 0.8 s (EXPLAIN ANALYZE: 126 to 175
    # functions) for statements that run 1 to 4 s: metrics full refresh 2.62 x off, 2.74 x on
    # (2026-11-24); the propensities' history 1.07 s off, 1.9 to 2.0 s on (2026-12-02).
    "jit": "off",
    # The default costs plan these statements without parallel workers (passing a million
    # joined rows from workers looks dear) and join the metrics' parts by sorting them; these
    # give every scan and join a parallel plan. Metrics full refresh 2.62 x with, 2.95 x
    # without; on an idle machine (2026-12-02): the bought products 0.9 -> 0.52 s, the scores'
    # summary 0.82 -> 0.70 s, the propensities' history (with jit off) 1.9 -> 1.07 s.
    "parallel_setup_cost": "100",
    "parallel_tuple_cost": "0.01",
    # enable_hashagg = off, set before, is gone: the metrics' plan is the same without it (the
    # parts' aggregates need sorted rows anyway: mode(), count(DISTINCT)), 2.62 x either way.
}


def check_group(env, groups):
    """AccessError unless the user is in one of `groups` (xml ids, comma-separated) or the
    environment is superuser.

    Public methods call it themselves: a button's `groups` only hides it, and any JSON-RPC
    caller can still call the method.
    """
    if not env.su and not env.user.has_groups(groups):
        names = [env.ref(xmlid).sudo().full_name for xmlid in groups.split(",")]
        raise AccessError(
            env._("This needs one of these access rights: %(groups)s.", groups=", ".join(names))
        )


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


def pg_array(values):
    """The text form of a PostgreSQL array of ``values`` (numbers and None, or codes: strings
    without quotes, commas or backslashes; a list or a numpy array), for a parameter cast to an
    array type: several times faster for a long list than psycopg2's ARRAY[...], which adapts
    each element on its own. Floats keep their exact value (repr)."""
    if hasattr(values, "tolist"):  # a numpy array: its elements as Python numbers
        values = values.tolist()
    if values and isinstance(values[0], str):
        return '{"%s"}' % '","'.join(values)
    return "{%s}" % ",".join("NULL" if v is None else repr(v) for v in values)


def search_x2many_ids(model, domain):
    """`domain` (fully optimized on `model`) with every one2many or many2many compared with ids
    or with False turned into an 'any' search of its records, at every level.

    Odoo answers "has record 42" or "has none" on an x2many by reading the comodel's table as
    superuser, whatever the user; an 'any' search applies the user's record rules, so that a
    rule run in one company cannot tell whether a customer has orders in another.
    """

    def rewrite(condition):
        field = model._fields.get(condition.field_expr)
        if field is None or not field.relational:
            return condition
        value = condition.value
        if condition.operator in ("any", "not any", "any!", "not any!"):
            if not isinstance(value, Domain):
                raise ValueError(f"unsupported value for {condition.field_expr}: {value!r}")
            subdomain = search_x2many_ids(model.env[field.comodel_name], value)
            return Domain(condition.field_expr, condition.operator, subdomain)
        if field.type == "many2one" or condition.operator not in ("in", "not in"):
            return condition  # a many2one compares its own column
        if isinstance(value, str) or not isinstance(value, Collection):
            value = [value]
        ids = [v for v in value if v]
        has = Domain(condition.field_expr, "any", Domain("id", "in", ids)) if ids else Domain.FALSE
        if len(ids) < len(value):  # False or None: "has none"
            has |= Domain(condition.field_expr, "not any", Domain.TRUE)
        return has if condition.operator == "in" else ~has

    return domain.map_conditions(rewrite)


# Operators on a many2one or x2many column that compare the stored ids and read nothing else.
ID_OPERATORS = ("=", "!=", "in", "not in")


def find_operator(domain, operators):
    """The first of `operators` that `domain` uses, at any depth ('any' subdomains), or None."""
    for condition in domain.iter_conditions():
        if condition.operator in operators:
            return condition.operator
        nested = "any" in condition.operator and isinstance(condition.value, (list, tuple, Domain))
        if nested and (found := find_operator(Domain(condition.value), operators)):
            return found
    return None


def reads_own_columns_only(model, domain):
    """Whether `domain` only compares stored columns of `model`'s rows: no path to another
    model, no name search, no hierarchy (nothing but the rows themselves is read)."""
    for condition in domain.iter_conditions():
        field = model._fields.get(condition.field_expr)
        if field is None or not field.store:  # a path, or a related field (also a path)
            return False
        if field.relational:
            values = condition.value
            if isinstance(values, str) or not isinstance(values, Collection):
                values = [values]
            if condition.operator not in ID_OPERATORS or not all(
                v in (False, None) or (isinstance(v, int) and not isinstance(v, bool))
                for v in values
            ):
                return False
    return True
