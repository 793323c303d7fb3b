"""A business that already runs Odoo's loyalty app installs crm_loyalty, uses it, updates it and
uninstalls it: no point is lost at any step.

This is not a TransactionCase: installing and uninstalling a module needs a database of its own
and Odoo's command line, as an administrator would run them. The database is built from scratch
with Odoo's `sale_loyalty` only (no demo data), given a program, two cards with points and
history written through Odoo's own flows, then taken through install, use, update and uninstall.
"""

import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ODOO = ROOT / "scripts" / "odoo"
CONF = ROOT / ".local" / "odoo.conf"


def odoo(*args, stdin=None):
    result = subprocess.run(
        [str(ODOO), *args, "-c", str(CONF), "--log-level=warn"],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def server(db, *args):
    return odoo("server", "-d", db, "--stop-after-init", "--http-port=0", *args)


def shell(db, code):
    """Run `code` in Odoo's shell on `db`; it prints one JSON line prefixed by RESULT=."""
    out = odoo("shell", "-d", db, "--no-http", stdin=code)
    line = next(line for line in out.splitlines() if line.startswith("RESULT="))
    return json.loads(line.removeprefix("RESULT="))


READ_CARDS = """
import json
cards = env['loyalty.card'].search([('program_id.name', '=', 'Puntos Existentes')], order='code')
data = {'points': {c.code: c.points for c in cards}}
if 'crm.loyalty.ledger' in env:
    Ledger = env['crm.loyalty.ledger']
    data['ledger'] = {
        c.code: sum(Ledger.search([('card_id', '=', c.id), ('state', '=', 'available')]).mapped('points'))
        for c in cards
    }
    data['kinds'] = sorted(Ledger.search([('card_id', 'in', cards.ids)]).mapped('kind'))
print('RESULT=' + json.dumps(data))
"""


@pytest.fixture(scope="module")
def live_db():
    if not CONF.is_file():
        pytest.fail("no .local/odoo.conf: run the tests through `make test`")
    db = f"crm_live_{uuid.uuid4().hex[:8]}"
    try:
        server(db, "-i", "sale_loyalty", "--without-demo=all")
        yield db
    finally:
        subprocess.run(["dropdb", "--if-exists", db], check=False, env=os.environ)


def test_installing_updating_and_uninstalling_crm_loyalty_keeps_every_point(live_db):
    # 1. Odoo alone: a loyalty program and two cards whose points come from Odoo's own
    # Update Balance wizard (which writes loyalty.history), one of them fractional.
    before = shell(
        live_db,
        """
import json
program = env['loyalty.program'].create({'name': 'Puntos Existentes', 'program_type': 'loyalty'})
partners = env['res.partner'].create([{'name': 'Cliente Antiguo %s' % i} for i in (1, 2)])
cards = env['loyalty.card'].create([
    {'program_id': program.id, 'partner_id': p.id, 'code': 'OLD-%s' % i}
    for i, p in enumerate(partners, 1)
])
for card, balance in zip(cards, (500, 120.5)):
    env['loyalty.card.update.balance'].create(
        {'card_id': card.id, 'new_balance': balance, 'description': 'Carga inicial'}
    ).action_update_card_point()
env.cr.commit()
print('RESULT=' + json.dumps({c.code: c.points for c in cards}))
""",
    )
    assert before == {"OLD-1": 500, "OLD-2": 120.5}

    # 2. Install: each card opens its ledger with the points it holds, nothing else moves.
    server(live_db, "-i", "crm_loyalty")
    state = shell(live_db, READ_CARDS)
    assert state["points"] == {"OLD-1": 500, "OLD-2": 120.5}
    assert state["ledger"] == state["points"]
    assert state["kinds"] == ["opening", "opening"]

    # 3. Use: the 500 points can be spent (the reported bug said "only 0 points available").
    state = shell(
        live_db,
        """
card = env['loyalty.card'].search([('code', '=', 'OLD-1')])
card.crm_redeem_points(100, 'Canje en caja')
env.cr.commit()
"""
        + READ_CARDS,
    )
    assert state["points"] == {"OLD-1": 400, "OLD-2": 120.5}
    assert state["ledger"] == state["points"]

    # 4. Update: opening again finds nothing to open; balances unchanged.
    server(live_db, "-u", "crm_loyalty")
    state = shell(live_db, READ_CARDS)
    assert state["points"] == {"OLD-1": 400, "OLD-2": 120.5}
    assert state["kinds"] == ["opening", "opening", "redeem"]

    # 5. Uninstall: Odoo's cards keep their balances, the ledger is gone with the addon.
    shell(
        live_db,
        """
env['ir.module.module'].search([('name', '=', 'crm_loyalty')]).button_immediate_uninstall()
env.cr.commit()
print('RESULT={}')
""",
    )
    state = shell(live_db, READ_CARDS)
    assert state == {"points": {"OLD-1": 400, "OLD-2": 120.5}}
