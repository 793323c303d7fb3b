import { patch } from "@web/core/utils/patch";
import { user } from "@web/core/user";
import { useService } from "@web/core/utils/hooks";
import { formPhoneField } from "@web/views/fields/phone/phone_field";

/**
 * Calling a customer from the phone number on its form also opens the small form that logs
 * the call as an interaction (channel phone, outbound), for salespeople: the call is placed
 * by the phone link as before, and the interaction is one Save away.
 */
patch(formPhoneField.component.prototype, {
    setup() {
        super.setup(...arguments);
        this.crmAction = useService("action");
        this.crmOrm = useService("orm");
    },

    async onCrmPhoneClick() {
        const record = this.props.record;
        if (record.resModel !== "res.partner" || !record.resId) {
            return;
        }
        if (!(await user.hasGroup("sales_team.group_sale_salesman"))) {
            return;
        }
        const action = await this.crmOrm.call("res.partner", "action_crm_log_interaction", [
            [record.resId],
        ]);
        await this.crmAction.doAction(action, {
            onClose: () => record.load(),
        });
    },
});
