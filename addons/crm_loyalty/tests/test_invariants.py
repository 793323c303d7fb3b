from datetime import date
from datetime import timedelta

from hypothesis import HealthCheck
from hypothesis import event
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import LoyaltyLedgerCase

# Amounts as a JSON-RPC caller may send them: tiny, huge, not finite, not numbers.
RAW_AMOUNT = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(min_value=0, max_value=1, places=3).map(float),
    st.sampled_from([0.005, 0.004, 0.015, 1e300, -1e300, 1e12 + 1, "12.5", "abc", None, True]),
)
STEP = st.one_of(
    st.tuples(st.just("order"), st.integers(1, 4)),
    st.tuples(st.just("pay"), st.integers(0, 5)),
    st.tuples(st.just("cancel"), st.integers(0, 5)),
    st.tuples(st.just("refund"), st.integers(0, 5), st.integers(1, 4)),
    st.tuples(st.just("redeem"), st.integers(1, 120)),  # % of the balance
    st.tuples(st.just("adjust"), st.integers(-300, 300)),
    st.tuples(st.just("expire"), st.integers(0, 800)),
    st.tuples(st.just("mature"), st.integers(0, 60)),
    st.tuples(st.just("redeem_raw"), RAW_AMOUNT),
    st.tuples(st.just("adjust_raw"), RAW_AMOUNT),
)
PROGRAM = st.fixed_dictionaries(
    {
        "crm_pending_mode": st.sampled_from(["none", "paid", "window"]),
        "crm_allow_negative": st.booleans(),
        "crm_expiry_mode": st.sampled_from(["none", "months", "year_end"]),
    }
)


@tagged("post_install", "-at_install")
class TestLedgerInvariants(LoyaltyLedgerCase):
    """Random sequences of sales-flow and ledger operations keep the balances equal."""

    def _run_step(self, card, orders, step):
        kind = step[0]
        today = date.today()
        if kind == "order":
            orders.append(self._confirmed_order(qty=step[1], partner=card.partner_id))
        elif kind in ("pay", "cancel", "refund") and orders:
            order = orders[step[1] % len(orders)]
            if order.state != "sale":
                return
            if kind == "cancel":
                order._action_cancel()
                return
            invoice = order.invoice_ids.filtered(lambda m: m.move_type == "out_invoice")[:1]
            if not invoice:
                invoice = self._invoice(order)
            if kind == "pay" and invoice.payment_state == "not_paid":
                self._pay(invoice)
            elif kind == "refund":
                refund = invoice._reverse_moves()
                refund.invoice_line_ids.quantity = min(step[2], order.order_line[0].product_uom_qty)
                refund.action_post()
        elif kind == "redeem":
            card.crm_redeem_points(max(1, round(card.points * step[1] / 100)), "Canje")
        elif kind == "adjust" and step[1]:
            card.crm_adjust_points(step[1], "Ajuste aleatorio")
        elif kind == "redeem_raw":
            card.crm_redeem_points(step[1], "Canje con monto arbitrario")
        elif kind == "adjust_raw":
            card.crm_adjust_points(step[1], "Ajuste con monto arbitrario")
        elif kind == "expire":
            self.env["crm.loyalty.scheduler"]._expire_due_lots(
                today=today + timedelta(days=step[1])
            )
        elif kind == "mature":
            self.env["crm.loyalty.scheduler"]._mature_due_lots(
                today=today + timedelta(days=step[1])
            )

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(program=PROGRAM, steps=st.lists(STEP, min_size=1, max_size=12))
    def test_balances_match_the_ledger_after_every_step(self, program, steps):
        self.program.write(program)
        partner = self.env["res.partner"].create({"name": "Cliente Hipótesis"})
        card = self.env["loyalty.card"].create(
            {"program_id": self.program.id, "partner_id": partner.id}
        )
        orders = []
        # Start from an order and a balance so that spending steps have something to use.
        for step in [("order", 2), ("adjust", 150), *steps]:
            try:
                with self.env.cr.savepoint():
                    self._run_step(card, orders, step)
                event(f"{step[0]} done")
            except (UserError, ValidationError):
                # Refused operations (overdraw, adjustment below zero...) write nothing.
                self.env.invalidate_all()
                event(f"{step[0]} refused")
            self.assertLedgerInvariant(card)
