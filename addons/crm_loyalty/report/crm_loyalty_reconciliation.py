from odoo import fields
from odoo import models
from odoo.tools import SQL


class CrmLoyaltyReconciliation(models.Model):
    """Per program, the points' ledger beside the liability in the books.

    Points: what the cards hold (the ledger), and what the liability is for (the points its
    revenue lines allocated, less those redeemed and expired since the accounting started);
    they differ by points earned on orders not yet invoiced and by debts of refunded points.
    Money: the value the revenue lines allocated to the liability, the balance of the
    liability account in the program's journal entries and in every posted entry of the
    company; the difference (the account's whole balance less what every program booked on it
    allocated) is zero unless someone booked on the account by hand.
    """

    _name = "crm.loyalty.reconciliation"
    _description = "Loyalty Liability Reconciliation"
    _auto = False
    _order = "company_id, program_id"
    _depends = {
        "crm.loyalty.ledger": ["program_id", "kind", "points", "state", "date", "origin_id"],
        "crm.loyalty.consumption": ["entry_id", "lot_id", "points"],
        "crm.loyalty.revenue.line": ["program_id", "kind", "amount", "points"],
        "account.move": ["state", "crm_loyalty_program_id"],
        "account.move.line": ["balance", "account_id", "move_id", "parent_state", "company_id"],
        "loyalty.program": ["crm_ifrs", "crm_ifrs_start", "crm_liability_account_id"],
    }

    program_id = fields.Many2one("loyalty.program", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    accounting_start = fields.Date("Accounting From", readonly=True)
    points_outstanding = fields.Float(
        "Points on Cards", digits=(16, 2), readonly=True, help="Available points of the ledger."
    )
    points_pending = fields.Float("Pending Points", digits=(16, 2), readonly=True)
    points_deferred = fields.Float(
        "Points in the Liability",
        digits=(16, 2),
        readonly=True,
        help="Points allocated by invoices (and the opening and adjustments), less those of "
        "them redeemed and expired since the accounting started.",
    )
    allocated_value = fields.Monetary(
        "Allocated Value",
        readonly=True,
        help="What the revenue lines put in the liability, net of releases.",
    )
    liability_balance = fields.Monetary(
        "Program's Entries",
        readonly=True,
        help="Credit balance of the liability account in the program's posted entries.",
    )
    liability_account_id = fields.Many2one("account.account", "Liability Account", readonly=True)
    account_balance = fields.Monetary(
        "Account Balance",
        readonly=True,
        help="Credit balance of the liability account in every posted entry, whoever made it.",
    )
    account_allocated = fields.Monetary(
        "Allocated on the Account",
        readonly=True,
        help="What the revenue lines of every program booked on this liability account put in it.",
    )
    difference = fields.Monetary(
        readonly=True,
        help="Account balance less what the programs booked on it allocated: an entry made "
        "on the account by hand, or a loyalty entry changed, shows here.",
    )

    @property
    def _table_query(self):
        return SQL(
            """
            WITH alloc AS (
                SELECT program_id,
                       SUM(amount) FILTER (WHERE kind != 'reward_cost') AS amount,
                       SUM(points) FILTER (WHERE kind NOT IN
                           ('release', 'breakage', 'reward_cost')) AS points
                  FROM crm_loyalty_revenue_line
              GROUP BY program_id
            ), allocated AS (
                SELECT ledger_id, SUM(points) AS points FROM crm_loyalty_revenue_line
                 WHERE kind IN ('defer', 'refund', 'undo')
              GROUP BY ledger_id
            ), reversed AS (
                SELECT origin_id, SUM(points) AS points FROM crm_loyalty_ledger
                 WHERE kind = 'reverse' AND state != 'cancelled' AND origin_id IS NOT NULL
              GROUP BY origin_id
            ), lots AS (
                -- the share of each lot the liability is for (see crm.loyalty.accounting.
                -- _closed_pool_points)
                SELECT l.id,
                       CASE WHEN l.date < p.crm_ifrs_start THEN 1.0
                            WHEN l.kind = 'adjust' THEN 1.0
                            WHEN l.kind = 'reverse' AND o.kind = 'redeem' THEN 1.0
                            WHEN l.kind = 'earn' THEN
                                 LEAST(GREATEST(COALESCE(a.points, 0), 0)
                                       / NULLIF(l.points + COALESCE(rv.points, 0), 0), 1.0)
                            ELSE 0 END AS share
                  FROM crm_loyalty_ledger l
                  JOIN loyalty_program p ON p.id = l.program_id AND p.crm_ifrs_start IS NOT NULL
             LEFT JOIN crm_loyalty_ledger o ON o.id = l.origin_id
             LEFT JOIN allocated a ON a.ledger_id = l.id
             LEFT JOIN reversed rv ON rv.origin_id = l.id
                 WHERE l.points > 0
            ), closed AS (
                SELECT e.program_id, SUM(c.points * lots.share) AS points
                  FROM crm_loyalty_consumption c
                  JOIN crm_loyalty_ledger e ON e.id = c.entry_id
                  JOIN loyalty_program p ON p.id = e.program_id
                  JOIN lots ON lots.id = c.lot_id
                 WHERE e.kind IN ('redeem', 'expire') AND e.state != 'cancelled'
                   AND e.date >= p.crm_ifrs_start
              GROUP BY e.program_id
            ), given_back AS (
                SELECT l.program_id, SUM(l.points) AS points
                  FROM crm_loyalty_ledger l
                  JOIN crm_loyalty_ledger o ON o.id = l.origin_id AND o.kind = 'redeem'
                  JOIN loyalty_program p ON p.id = l.program_id
                 WHERE l.kind = 'reverse' AND l.state != 'cancelled'
                   AND l.date >= p.crm_ifrs_start
              GROUP BY l.program_id
            ), cards AS (
                SELECT program_id,
                       SUM(points) FILTER (WHERE state = 'available') AS available,
                       SUM(points) FILTER (WHERE state = 'pending') AS pending
                  FROM crm_loyalty_ledger
                 WHERE state != 'cancelled'
              GROUP BY program_id
            ), books AS (
                SELECT m.crm_loyalty_program_id AS program_id, -SUM(aml.balance) AS balance
                  FROM account_move_line aml
                  JOIN account_move m ON m.id = aml.move_id
                  JOIN loyalty_program p ON p.id = m.crm_loyalty_program_id
                 WHERE m.state = 'posted' AND aml.account_id = p.crm_liability_account_id
              GROUP BY m.crm_loyalty_program_id
            ), accounts AS (
                -- every posted line of each liability account, any entry, per company
                SELECT aml.account_id, aml.company_id, -SUM(aml.balance) AS balance
                  FROM account_move_line aml
                 WHERE aml.parent_state = 'posted'
                   AND aml.account_id IN (SELECT crm_liability_account_id FROM loyalty_program
                                           WHERE crm_liability_account_id IS NOT NULL)
              GROUP BY aml.account_id, aml.company_id
            ), account_alloc AS (
                SELECT p.crm_liability_account_id AS account_id, p.company_id,
                       SUM(alloc.amount) AS amount
                  FROM loyalty_program p
                  JOIN alloc ON alloc.program_id = p.id
              GROUP BY p.crm_liability_account_id, p.company_id
            )
            SELECT p.id AS id, p.id AS program_id, p.company_id, c.currency_id,
                   p.crm_ifrs_start AS accounting_start,
                   COALESCE(cards.available, 0) AS points_outstanding,
                   COALESCE(cards.pending, 0) AS points_pending,
                   COALESCE(alloc.points, 0) - COALESCE(closed.points, 0)
                       + COALESCE(given_back.points, 0) AS points_deferred,
                   COALESCE(alloc.amount, 0) AS allocated_value,
                   COALESCE(books.balance, 0) AS liability_balance,
                   p.crm_liability_account_id AS liability_account_id,
                   COALESCE(acc.balance, 0) AS account_balance,
                   COALESCE(aa.amount, 0) AS account_allocated,
                   COALESCE(acc.balance, 0) - COALESCE(aa.amount, 0) AS difference
              FROM loyalty_program p
              JOIN res_company c ON c.id = p.company_id
         LEFT JOIN alloc ON alloc.program_id = p.id
         LEFT JOIN closed ON closed.program_id = p.id
         LEFT JOIN given_back ON given_back.program_id = p.id
         LEFT JOIN cards ON cards.program_id = p.id
         LEFT JOIN books ON books.program_id = p.id
         LEFT JOIN accounts acc
                ON acc.account_id = p.crm_liability_account_id AND acc.company_id = p.company_id
         LEFT JOIN account_alloc aa
                ON aa.account_id = p.crm_liability_account_id AND aa.company_id = p.company_id
             WHERE p.crm_ifrs OR alloc.program_id IS NOT NULL
            """
        )

    def action_open_revenue_lines(self):
        self.ensure_one()
        return self.program_id.action_crm_open_revenue_lines()

    def action_open_journal_items(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_account_moves_all")
        action["domain"] = [
            ("move_id.crm_loyalty_program_id", "=", self.program_id.id),
            ("parent_state", "=", "posted"),
        ]
        action["context"] = {"search_default_group_by_account": 1}
        return action
