import threading
import time
from collections import defaultdict
from contextlib import ExitStack
from unittest.mock import patch

from odoo import SUPERUSER_ID
from odoo import api
from odoo.exceptions import AccessError
from odoo.tests import TransactionCase
from odoo.tests import new_test_user
from odoo.tests import tagged
from odoo.tools import SQL

from odoo.addons.crm_relationship.models import crm_customer_metric_plan

CUSTOMERS = 12
# claims of at most 3 customers over ranges of 3 partner ids: 12 customers make 4 or 5 claims
SMALL = {"BATCH_SIZE": 3, "CLAIM_ID_SPAN": 3}
# the 12 customers in one range (ids below a billion), refreshed in batches of 2
ONE_RANGE = {"BATCH_SIZE": 2, "CLAIM_ID_SPAN": 10**9}
WAIT = 60  # seconds a worker waits for the other one before the test fails instead of hanging


class WorkerDied(Exception):
    """Raised by a patched batch: the worker process stops there, as if killed."""


@tagged("post_install", "-at_install")
class TestCronWorkers(TransactionCase):
    """Two cron workers, each in its own transaction and thread, share one refresh: every stale
    customer is refreshed by exactly one of them, also when one of them dies mid-run.

    The workers run as the cron's user (the superuser) on committed data: twelve customers of
    the main company whose metrics were last refreshed two days ago and last recomputed from
    their documents eight days ago, so due for their weekly recompute. Each worker is
    limited to these customers (`_run_worker`'s partner_ids), so the rest of the database
    plays no part.
    """

    def setUp(self):
        super().setUp()
        self.company_id = self.env.ref("base.main_company").id
        with self.env.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            partners = env["res.partner"].create(
                [{"name": f"Cliente Worker {i:02d}", "is_company": True} for i in range(CUSTOMERS)]
            )
            env["crm.customer.metric"]._refresh_metrics(
                partners.ids, [self.company_id], classify=False
            )
            env.flush_all()
            cr.execute(
                SQL(
                    """UPDATE crm_customer_metric
                          SET refreshed_at = now() AT TIME ZONE 'UTC' - interval '2 days',
                              facts_date = facts_date - 2, recomputed_date = recomputed_date - 8
                        WHERE partner_id = ANY(%s)""",
                    partners.ids,
                )
            )
            self.partner_ids = partners.ids
        self.addCleanup(self._drop_committed_data)
        self.got = defaultdict(list)  # worker name: the customers it refreshed, call by call
        self.errors = {}

    def _drop_committed_data(self):
        with self.env.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            # what a failed test may have left in the plan
            cr.execute(
                SQL(
                    "DELETE FROM crm_customer_metric_plan WHERE stale_keys ?| %s::text[]",
                    [str(partner) for partner in self.partner_ids],
                )
            )
            # their metrics and segment history go with them (ondelete cascade)
            env["res.partner"].browse(self.partner_ids).unlink()

    def _env(self, cr):
        return api.Environment(cr, SUPERUSER_ID, {})

    def _stale(self):
        with self.env.registry.cursor() as cr:
            keys = self._env(cr)["crm.customer.metric"]._get_stale_keys(
                [self.company_id], self.partner_ids
            )
        return {partner for partner, _company in keys}

    def _plan(self):
        """The partners left in the plan."""
        with self.env.registry.cursor() as cr:
            cr.execute(
                SQL(
                    """SELECT jsonb_object_keys(stale_keys)::int FROM crm_customer_metric_plan
                        WHERE company_id = %s""",
                    self.company_id,
                )
            )
            return {partner for (partner,) in cr.fetchall()}

    def _patched(self, before_refresh, sizes=SMALL):
        """Small claims (`sizes`), and `_refresh_metrics` recording which worker refreshes
        whom after calling `before_refresh(worker name, call number)`, which may wait or
        raise."""
        Metric = type(self.env["crm.customer.metric"])
        original = Metric._refresh_metrics
        got = self.got

        def refresh(model, partner_ids=None, company_ids=None, **kw):
            name = threading.current_thread().name
            calls = self.calls[name] = self.calls.get(name, 0) + 1
            before_refresh(name, calls)
            result = original(model, partner_ids, company_ids, **kw)
            got[name].append(list(partner_ids))
            return result

        self.calls = {}
        stack = ExitStack()
        for name, value in sizes.items():
            stack.enter_context(patch.object(crm_customer_metric_plan, name, value))
        stack.enter_context(patch.object(Metric, "_refresh_metrics", refresh))
        return stack

    def _worker(self, name):
        def run():
            try:
                with self.env.registry.cursor() as cr:
                    count = self._env(cr)["crm.customer.metric.plan"]._run_worker(
                        [self.company_id], self.partner_ids
                    )
                self.errors[name] = None
                self.counts[name] = count
            except Exception as error:  # the test checks it
                self.errors[name] = error

        return threading.Thread(target=run, name=name)

    def _start(self, name):
        self.threads.append(thread := self._worker(name))
        thread.start()

    def _run(self, *names):
        """Run the workers `names` at once, and those they start, until all are through."""
        self.counts = {}
        self.threads = []
        for name in names:
            self._start(name)
        while self.threads:
            thread = self.threads.pop(0)
            thread.join(WAIT * 2)
            self.assertFalse(thread.is_alive(), "a worker hangs")

    def _wait_for_a_waiting_worker(self):
        """Block until a worker waits for a range's lock (held by the caller's worker)."""
        deadline = time.monotonic() + WAIT
        with self.env.registry.cursor() as cr:
            while time.monotonic() < deadline:
                cr.execute(
                    SQL(
                        """SELECT count(*) FROM pg_locks
                            WHERE locktype = 'advisory' AND NOT granted AND classid = %s""",
                        crm_customer_metric_plan.CLAIM_LOCK_SPACE,
                    )
                )
                if cr.fetchone()[0]:
                    return
                cr.rollback()
                time.sleep(0.05)
        self.fail("no worker waits for the range")

    def _refreshed(self, name):
        return [partner for call in self.got[name] for partner in call]

    def test_two_workers_at_once_refresh_each_customer_exactly_once(self):
        # each worker's first batch waits for the other's: both hold a claim at the same time
        both_started = threading.Barrier(2, timeout=WAIT)

        def before_refresh(name, call):
            if call == 1:
                both_started.wait()

        self.assertEqual(self._stale(), set(self.partner_ids))
        with self._patched(before_refresh):
            self._run("worker-1", "worker-2")
        self.assertEqual(self.errors, {"worker-1": None, "worker-2": None})
        first, second = self._refreshed("worker-1"), self._refreshed("worker-2")
        self.assertTrue(first and second, "both workers took part")
        # none twice, none missed
        self.assertEqual(sorted(first + second), sorted(self.partner_ids))
        self.assertEqual(self.counts, {"worker-1": len(first), "worker-2": len(second)})
        self.assertEqual(self._stale(), set())
        self.assertEqual(self._plan(), set())

    def test_a_worker_dying_mid_run_leaves_its_batch_to_the_other_worker(self):
        # worker-1 refreshes a batch, claims a second one and dies before writing it, while
        # worker-2 holds its own first claim
        both_started = threading.Barrier(2, timeout=WAIT)
        first_died = threading.Event()

        def before_refresh(name, call):
            if call == 1:
                both_started.wait()
            if name == "worker-1" and call == 2:
                first_died.set()
                raise WorkerDied
            if name == "worker-2" and call == 1:
                self.assertTrue(first_died.wait(WAIT))

        with self._patched(before_refresh):
            self._run("worker-1", "worker-2")
        self.assertIsInstance(self.errors["worker-1"], WorkerDied)
        self.assertIsNone(self.errors["worker-2"])
        self.assertEqual(self.calls["worker-1"], 2)
        survived, other = self._refreshed("worker-1"), self._refreshed("worker-2")
        self.assertEqual(len(self.got["worker-1"]), 1)  # its first batch, committed before it died
        self.assertEqual(sorted(survived + other), sorted(self.partner_ids))
        self.assertEqual(self._stale(), set())
        self.assertEqual(self._plan(), set())

    def test_the_next_run_redoes_the_batch_of_a_worker_that_died_without_a_new_scan(self):
        def before_refresh(name, call):
            if name == "worker-1" and call == 2:
                raise WorkerDied

        Plan = type(self.env["crm.customer.metric.plan"])
        make_plan = patch.object(Plan, "_make_plan", autospec=True, side_effect=Plan._make_plan)
        with self._patched(before_refresh), make_plan as plan:
            self._run("worker-1")
            self.assertIsInstance(self.errors["worker-1"], WorkerDied)
            self.assertEqual(len(self.got["worker-1"]), 1)
            done = self._refreshed("worker-1")
            # the batch it was refreshing is still stale, with everything after it, and planned
            left = set(self.partner_ids) - set(done)
            self.assertEqual(self._stale(), left)
            self.assertEqual(self._plan(), left)
            self._run("worker-2")
        self.assertIsNone(self.errors["worker-2"])
        self.assertEqual(sorted(self._refreshed("worker-2")), sorted(left))
        self.assertEqual(plan.call_count, 1)  # the second run went on with the first one's plan
        self.assertEqual(self._stale(), set())
        self.assertEqual(self._plan(), set())

    def test_a_worker_dying_mid_range_leaves_the_rest_of_it_to_the_next_run(self):
        # one range of 12, batches of 2: the worker commits its first batch, dies in its
        # second; the range stays planned and the next run refreshes the 10 left, once
        def before_refresh(name, call):
            if name == "worker-1" and call == 2:
                raise WorkerDied

        Plan = type(self.env["crm.customer.metric.plan"])
        make_plan = patch.object(Plan, "_make_plan", autospec=True, side_effect=Plan._make_plan)
        with self._patched(before_refresh, ONE_RANGE), make_plan as plan:
            self._run("worker-1")
            self.assertIsInstance(self.errors["worker-1"], WorkerDied)
            done = self._refreshed("worker-1")
            self.assertEqual(done, sorted(self.partner_ids)[:2])
            self.assertEqual(self._plan(), set(self.partner_ids))  # the whole range, still
            self._run("worker-2")
        self.assertIsNone(self.errors["worker-2"])
        self.assertEqual(self._refreshed("worker-2"), sorted(self.partner_ids)[2:])
        self.assertEqual(self.counts["worker-2"], 10)
        self.assertEqual(plan.call_count, 1)
        self.assertEqual(self._stale(), set())
        self.assertEqual(self._plan(), set())

    def test_a_worker_dying_mid_range_leaves_the_rest_of_it_to_the_worker_waiting_for_it(self):
        # worker-1 holds the only range and starts worker-2, which has nothing but that range
        # to wait for; worker-1 dies in its second batch, and worker-2 goes on from there
        def before_refresh(name, call):
            if name == "worker-1" and call == 1:
                self._start("worker-2")
            if name == "worker-1" and call == 2:
                self._wait_for_a_waiting_worker()
                raise WorkerDied

        with self._patched(before_refresh, ONE_RANGE):
            self._run("worker-1")
        self.assertIsInstance(self.errors["worker-1"], WorkerDied)
        self.assertIsNone(self.errors["worker-2"])
        self.assertEqual(self._refreshed("worker-1"), sorted(self.partner_ids)[:2])
        self.assertEqual(self._refreshed("worker-2"), sorted(self.partner_ids)[2:])
        self.assertEqual(self._stale(), set())
        self.assertEqual(self._plan(), set())

    def test_a_worker_out_of_time_mid_range_stops_and_its_next_call_goes_on(self):
        # Odoo's cron gives a call about ten seconds: out of time after its first batch, the
        # worker returns, the range planned; the next call refreshes the rest, without a scan
        Cron = type(self.env["ir.cron"])
        commit_progress = Cron._commit_progress
        commits = []

        def out_of_time_after_one_batch(cron, processed=0, **kw):
            commit_progress(cron, processed, **kw)
            commits.append(processed)
            return 0.0 if processed else 60.0

        Plan = type(self.env["crm.customer.metric.plan"])
        make_plan = patch.object(Plan, "_make_plan", autospec=True, side_effect=Plan._make_plan)
        with self._patched(lambda name, call: None, ONE_RANGE), make_plan as plan:
            with patch.object(Cron, "_commit_progress", out_of_time_after_one_batch):
                self._run("worker-1")
            self.assertIsNone(self.errors["worker-1"])
            self.assertEqual(self.counts["worker-1"], 2)
            self.assertEqual(commits, [0, 2])  # the plan, then one batch
            self.assertEqual(self._stale(), set(sorted(self.partner_ids)[2:]))
            self._run("worker-1")
        self.assertEqual(self.counts["worker-1"], 10)
        self.assertEqual(self._refreshed("worker-1"), sorted(self.partner_ids))
        self.assertEqual(plan.call_count, 1)
        self.assertEqual(self._stale(), set())
        self.assertEqual(self._plan(), set())

    def test_a_customer_refreshed_since_the_plan_is_not_refreshed_again(self):
        # once the plan is made, two of its customers are refreshed by someone else (the
        # refresh button of the 360° page): the worker leaves them alone
        Plan = type(self.env["crm.customer.metric.plan"])
        Metric = type(self.env["crm.customer.metric"])
        lock_claim_, refresh_ = Plan._lock_claim, Metric._refresh_metrics
        meanwhile = self.partner_ids[4:6]
        refreshed_meanwhile = []

        def lock_claim(model, *args, **kw):
            if not refreshed_meanwhile:
                with self.env.registry.cursor() as cr:
                    refresh_(self._env(cr)["crm.customer.metric"], meanwhile, [self.company_id])
                refreshed_meanwhile.append(meanwhile)
            return lock_claim_(model, *args, **kw)

        with (
            self._patched(lambda name, call: None),
            patch.object(Plan, "_lock_claim", lock_claim),
        ):
            self._run("worker-1")
        self.assertIsNone(self.errors["worker-1"])
        self.assertEqual(
            sorted(self._refreshed("worker-1")), sorted(set(self.partner_ids) - set(meanwhile))
        )
        self.assertEqual(self._stale(), set())
        self.assertEqual(self._plan(), set())


@tagged("post_install", "-at_install")
class TestCronWorkerWakeUp(TransactionCase):
    """The first worker wakes the second one for a refresh of more than one batch."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.first = cls.env.ref("crm_relationship.ir_cron_refresh_customer_metrics")
        cls.second = cls.env.ref("crm_relationship.ir_cron_refresh_customer_metrics_worker_2")
        company = cls.env.ref("base.main_company")
        partners = cls.env["res.partner"].create(
            [{"name": f"Cliente Despertar {i}", "is_company": True} for i in range(4)]
        )
        cls.env["crm.customer.metric"]._refresh_metrics(partners.ids, company.ids, classify=False)
        cls.env.flush_all()
        cls.env.cr.execute(
            SQL(
                """UPDATE crm_customer_metric SET refreshed_at = refreshed_at - interval '2 days',
                          facts_date = facts_date - 2, recomputed_date = recomputed_date - 8
                    WHERE partner_id = ANY(%s)""",
                partners.ids,
            )
        )
        cls.company_ids = company.ids
        cls.partner_ids = partners.ids

    def _run_as_first_worker(self, batch_size):
        Cron = type(self.env["ir.cron"])
        Trigger = self.env["ir.cron.trigger"]
        crons = [("cron_id", "in", (self.first | self.second).ids)]
        before = Trigger.search(crons)
        sizes = {"BATCH_SIZE": batch_size, "CLAIM_ID_SPAN": batch_size}
        with ExitStack() as stack:
            for name, value in sizes.items():
                stack.enter_context(patch.object(crm_customer_metric_plan, name, value))
            stack.enter_context(patch.object(Cron, "_commit_progress", return_value=60.0))
            self.env["crm.customer.metric.plan"].with_context(cron_id=self.first.id)._run_worker(
                self.company_ids, self.partner_ids
            )
        return Trigger.search(crons) - before

    def test_a_refresh_of_several_batches_wakes_the_second_worker(self):
        self.second.active = True
        self.assertEqual(self._run_as_first_worker(2).cron_id, self.second)

    def test_a_refresh_of_one_batch_wakes_nobody(self):
        self.second.active = True
        self.assertFalse(self._run_as_first_worker(5000))

    def test_an_inactive_second_worker_is_not_woken(self):
        self.second.active = False
        self.assertFalse(self._run_as_first_worker(2))


@tagged("post_install", "-at_install")
class TestCronWorkerPlanAccess(TransactionCase):
    """The plan is the cron's work list: no user but the system administrator reads it."""

    def test_a_crm_manager_cannot_read_the_plan(self):
        manager = new_test_user(
            self.env,
            login="plan_crm_manager",
            groups="base.group_user,crm_relationship.group_manager",
        )
        with self.assertRaises(AccessError):
            self.env["crm.customer.metric.plan"].with_user(manager).search([])

    def test_the_system_administrator_can_read_the_plan(self):
        # its access rule exists (Odoo warns about a model without one)
        admin = new_test_user(self.env, login="plan_admin", groups="base.group_system")
        self.env["crm.customer.metric.plan"].with_user(admin).search([])
