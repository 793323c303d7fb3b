import { _t } from "@web/core/l10n/translation";
import { rpc, RPCError } from "@web/core/network/rpc";
import { patch } from "@web/core/utils/patch";

import { PaymentForm } from "@payment/interactions/payment_form";

/**
 * On the shop's payment step, tell the server which payment method the customer picks: the
 * promotions that require a payment method join or leave the cart, and the totals shown and the
 * amount the form sends follow, before the customer pays.
 */
patch(PaymentForm.prototype, {
    async willStart() {
        // the server forgot the method when it rendered the page: give it the preselected one
        const checkedRadio = this.el.querySelector('input[name="o_payment_radio"]:checked');
        if (this._crmCartId() && checkedRadio) {
            await this.waitFor(this._crmSyncPaymentMethod(checkedRadio));
        }
        return super.willStart(...arguments);
    },

    async selectPaymentOption(ev) {
        if (this._crmCartId()) {
            this._disableButton();
            await this.waitFor(this._crmSyncPaymentMethod(ev.target));
        }
        return super.selectPaymentOption(...arguments);
    },

    /**
     * The id of the shop's cart this form pays, read from its transaction route; null on any
     * other payment form (portal invoices and quotations, payment links).
     *
     * @private
     * @return {number|null}
     */
    _crmCartId() {
        const match = /^\/shop\/payment\/transaction\/(\d+)/.exec(
            this.paymentContext.transactionRoute || ""
        );
        return match ? Number(match[1]) : null;
    },

    /**
     * Send the picked payment option to the server and show the cart's new amounts.
     *
     * @private
     * @param {HTMLInputElement|null} radio - The radio of the picked payment option, if any.
     * @return {void}
     */
    async _crmSyncPaymentMethod(radio) {
        const params = { order_id: this._crmCartId() };
        if (radio) {
            const optionId = this._getPaymentOptionId(radio);
            if (this._getPaymentOptionType(radio) === "token") {
                params.token_id = optionId;
            } else {
                params.payment_method_id = optionId;
            }
        }
        let result;
        try {
            result = await rpc("/shop/crm_loyalty/payment_method", params);
        } catch (error) {
            if (error instanceof RPCError) {
                this._displayErrorDialog(_t("Payment method"), error.data.message);
                return;
            }
            throw error;
        }
        this._crmShowAmounts(result);
    },

    /**
     * @private
     * @param {Object} result - The values returned by /shop/crm_loyalty/payment_method.
     * @return {void}
     */
    _crmShowAmounts(result) {
        this.paymentContext.amount = result.amount_total;
        this.el.dataset.amount = result.amount_total;
        const set = (selector, html) =>
            document.querySelectorAll(selector).forEach((el) => (el.innerHTML = html));
        set('tr[name="o_order_total_untaxed"] .monetary_field', result.amount_untaxed);
        set('tr[name="o_order_total_taxes"] .monetary_field', result.amount_tax);
        set(
            'tr[name="o_order_total"] .monetary_field, #amount_total_summary.monetary_field',
            result.amount_total_html
        );
        const fresh = new DOMParser()
            .parseFromString(result.lines_html, "text/html")
            .querySelector("table.o_cart_products_table tbody");
        if (fresh) {
            document
                .querySelectorAll("table.o_cart_products_table tbody")
                .forEach((tbody) => (tbody.innerHTML = fresh.innerHTML));
        }
    },
});
