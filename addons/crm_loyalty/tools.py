"""Server-side scopes of the points ledger.

Which code may write the ledger, and how a change of a card's points is recorded, is decided
by the server code that runs, never by the request: a context key can be sent by any browser
or JSON-RPC caller, so none is read here. A scope lives in a registry private to this module,
keyed by the database cursor, which no client can reach (not in ``cr.cache``: Odoo clears that
when a savepoint is rolled back), and is popped when its block ends, error or not.
"""

import weakref
from contextlib import contextmanager
from dataclasses import dataclass

# {cursor: [LedgerScope, ...]}: the scopes open on each cursor, innermost last
_STACKS = weakref.WeakKeyDictionary()

# A scope's mode:
# - ENGINE: the ledger engine writes entries, lots and card balances (the only writer).
# - MANAGED: a flow whose ledger entries our code posts itself (order confirmation or
#   cancellation, Odoo's Update Balance wizard): the card point writes Odoo makes inside are
#   left to the sync that follows.
# - RECORD: a flow of Odoo's that changes card points and whose change we record as it
#   happened, with the scope's kind and reason (reward lines of confirmed orders, customer
#   merge).
ENGINE = "engine"
MANAGED = "managed"
RECORD = "record"


@dataclass(frozen=True)
class LedgerScope:
    mode: str
    kind: str | None = None
    # a text, a lazy translation (``_lt``: written in the customer's language), or a function
    # returning one (built only when needed)
    reason: object = None
    source: object = None
    source_type: str | None = None


@contextmanager
def ledger_scope(env, mode, **values):
    """Run the block inside a ledger scope (see the module docstring).

    A RECORD scope opened inside a MANAGED one stays managed: the outer flow posts the
    entries of everything that happens inside it.
    """
    stack = _STACKS.setdefault(env.cr, [])
    if mode == RECORD and stack and stack[-1].mode == MANAGED:
        stack.append(stack[-1])
    else:
        stack.append(LedgerScope(mode, **values))
    try:
        yield
    finally:
        stack.pop()


def current_scope(env):
    """The innermost ledger scope of this cursor, or None."""
    stack = _STACKS.get(env.cr)
    return stack[-1] if stack else None


def in_engine(env):
    """Whether the ledger engine is running on this cursor (any depth)."""
    return any(scope.mode == ENGINE for scope in _STACKS.get(env.cr, ()))
