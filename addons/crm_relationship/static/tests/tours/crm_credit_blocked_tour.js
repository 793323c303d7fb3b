import { registry } from "@web/core/registry";

/**
 * A salesperson opens a quotation on credit terms for a customer whose house credit is
 * denied: the form says why, and confirming it is refused with the reason; switching to
 * immediate payment confirms it.
 */
registry.category("web_tour.tours").add("crm_credit_blocked_tour", {
    steps: () => [
        {
            content: "the form says why the order cannot be confirmed on credit",
            trigger: ".o_crm_credit_block:contains(House credit is denied)",
        },
        {
            content: "try to confirm it anyway",
            trigger: ".o_form_view button[name=action_confirm]:visible",
            run: "click",
        },
        {
            content: "the refusal names the reason",
            trigger: ".modal .modal-body:contains(cannot be confirmed):contains(overdue)",
        },
        {
            content: "close the message",
            trigger: ".modal .modal-footer button.btn-primary",
            run: "click",
        },
        {
            content: "the order is still a quotation",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Quotation)",
        },
    ],
});
