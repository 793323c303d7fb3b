import datetime
import threading

import psycopg2.errors

from odoo import SUPERUSER_ID
from odoo import api
from odoo.exceptions import UserError
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.service.model import retrying
from odoo.tests import TransactionCase
from odoo.tests import tagged
from odoo.tools import SQL


@tagged("post_install", "-at_install")
class TestConcurrentRedemptions(TransactionCase):
    """Two real transactions redeem from one card: the second never overdraws it."""

    def setUp(self):
        super().setUp()
        with self.env.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            program = env["loyalty.program"].create(
                {"name": "Concurrency Puntos", "program_type": "loyalty", "sale_ok": False}
            )
            self.product_ids = program.reward_ids.discount_line_product_id.ids
            partner = env["res.partner"].create({"name": "Concurrencia Pérez"})
            card = env["loyalty.card"].create({"program_id": program.id, "partner_id": partner.id})
            card.crm_adjust_points(100, "Saldo inicial")
            # the two transactions under test must see this card: it has to be committed
            cr.commit()  # pylint: disable=invalid-commit
            self.program_id, self.partner_id, self.card_id = program.id, partner.id, card.id
        self.addCleanup(self._drop_committed_data)

    def _drop_committed_data(self):
        # The ledger refuses deletions by design: remove this test's rows with SQL.
        with self.env.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            card = (self.card_id,)
            for query in (
                SQL(
                    "DELETE FROM crm_loyalty_consumption WHERE entry_id IN "
                    "(SELECT id FROM crm_loyalty_ledger WHERE card_id IN %s)",
                    card,
                ),
                SQL("DELETE FROM crm_loyalty_ledger WHERE card_id IN %s", card),
                SQL("DELETE FROM crm_loyalty_tier_history WHERE card_id IN %s", card),
                SQL("DELETE FROM loyalty_history WHERE card_id IN %s", card),
                SQL("DELETE FROM mail_message WHERE model = 'loyalty.card' AND res_id IN %s", card),
                SQL("DELETE FROM loyalty_card WHERE id IN %s", card),
            ):
                env.cr.execute(query)
            program = env["loyalty.program"].browse(self.program_id)
            program.action_archive()
            program.unlink()
            env["product.product"].browse(self.product_ids).unlink()
            env["res.partner"].browse(self.partner_id).unlink()
            cr.commit()  # pylint: disable=invalid-commit

    def _env(self, cr):
        return api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})

    def test_second_redemption_fails_while_the_first_holds_the_card(self):
        with self.env.registry.cursor() as cr1, self.env.registry.cursor() as cr2:
            first = self._env(cr1)["loyalty.card"].browse(self.card_id)
            second = self._env(cr2)["loyalty.card"].browse(self.card_id)
            first.crm_redeem_points(80, "Caja 1")
            # a lock error, which Odoo's request handler retries by itself
            with self.assertRaises(psycopg2.errors.LockNotAvailable) as caught:
                second.crm_redeem_points(80, "Caja 2")
            self.assertIsInstance(caught.exception, PG_CONCURRENCY_EXCEPTIONS_TO_RETRY)
            cr2.rollback()
            cr1.commit()
        # Once the first committed, the second sees what is left and cannot overdraw.
        with self.env.registry.cursor() as cr3:
            third = self._env(cr3)["loyalty.card"].browse(self.card_id)
            with self.assertRaisesRegex(UserError, "only 20"):
                third.crm_redeem_points(80, "Caja 2, reintento")
            cr3.rollback()
        with self.env.registry.cursor() as cr4:
            env = self._env(cr4)
            card = env["loyalty.card"].browse(self.card_id)
            entries = env["crm.loyalty.ledger"].search([("card_id", "=", self.card_id)])
            self.assertEqual(card.points, 20)
            self.assertEqual(sorted(entries.mapped("points")), [-80, 100])

    def test_a_request_waiting_for_a_busy_card_succeeds_once_it_is_free(self):
        with self.env.registry.cursor() as cr1, self.env.registry.cursor() as cr2:
            first = self._env(cr1)["loyalty.card"].browse(self.card_id)
            first.crm_redeem_points(30, "Caja 1")
            # the first cashier's transaction ends a moment later, while the second waits
            release = threading.Timer(0.5, cr1.commit)
            release.start()
            env2 = self._env(cr2)
            retrying(
                lambda: env2["loyalty.card"].browse(self.card_id).crm_redeem_points(30, "Caja 2"),
                env2,
            )
            release.join()
        with self.env.registry.cursor() as cr3:
            env = self._env(cr3)
            self.assertEqual(env["loyalty.card"].browse(self.card_id).points, 40)
            entries = env["crm.loyalty.ledger"].search([("card_id", "=", self.card_id)])
            self.assertEqual(sorted(entries.mapped("points")), [-30, -30, 100])


@tagged("post_install", "-at_install")
class TestConcurrentLiabilityPostings(TransactionCase):
    """Two workers post the same program's liability: the second, whose snapshot predates the
    first one's committed posting, gets a serialization failure (which Odoo retries with a
    fresh snapshot that sees the lines already booked) instead of booking them again; while
    the first still holds the program, the second skips it."""

    def setUp(self):
        super().setUp()
        with self.env.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            program = env["loyalty.program"].create(
                {"name": "Concurrencia Pasivo", "program_type": "loyalty", "sale_ok": False}
            )
            self.program_id = program.id
            self.product_ids = program.reward_ids.discount_line_product_id.ids
            cr.commit()  # pylint: disable=invalid-commit
        self.addCleanup(self._drop_program)

    def _drop_program(self):
        with self.env.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            program = env["loyalty.program"].browse(self.program_id)
            program.action_archive()
            program.unlink()
            env["product.product"].browse(self.product_ids).unlink()
            cr.commit()  # pylint: disable=invalid-commit

    def test_a_second_worker_never_posts_on_a_stale_snapshot(self):
        day = datetime.date(2026, 1, 31)
        with self.env.registry.cursor() as cr1, self.env.registry.cursor() as cr2:
            env1 = api.Environment(cr1, SUPERUSER_ID, {})
            env2 = api.Environment(cr2, SUPERUSER_ID, {})
            Accounting1 = env1["crm.loyalty.accounting"]
            Accounting2 = env2["crm.loyalty.accounting"]
            program1 = env1["loyalty.program"].browse(self.program_id)
            program2 = env2["loyalty.program"].browse(self.program_id)
            # the second worker's transaction starts (its snapshot) before the first posts
            cr2.execute("SELECT 1 FROM loyalty_program WHERE id = %s", (self.program_id,))
            self.assertTrue(Accounting1._lock_program(program1))
            Accounting1._set_posted_until(program1, day)
            # while the first holds the program, the second skips it
            self.assertFalse(Accounting2._lock_program(program2))
            cr1.commit()
            with self.assertRaises(psycopg2.errors.SerializationFailure) as caught:
                Accounting2._lock_program(program2)
            self.assertIsInstance(caught.exception, PG_CONCURRENCY_EXCEPTIONS_TO_RETRY)
            cr2.rollback()
        with self.env.registry.cursor() as cr3:
            program = api.Environment(cr3, SUPERUSER_ID, {})["loyalty.program"].browse(
                self.program_id
            )
            self.assertEqual(program.crm_ifrs_posted_until, day)
