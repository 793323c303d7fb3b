import { registry } from "@web/core/registry";
import { FloatField, floatField } from "@web/views/fields/float/float_field";
import { formatFloat, formatMonetary } from "@web/views/fields/formatters";

/**
 * Points: shown with the decimals they have and no more ("1.250" for whole points, "12,5" for
 * a program that earns fractions), in the field, in list totals and group sums (which read the
 * column's formatter, not its options), in pivot cells and in graph tooltips and axes (which
 * read the measure's widget).
 */
export function formatPoints(value, options = {}) {
    return formatFloat(value, { ...options, trailingZeros: false });
}
formatPoints.extractOptions = (fieldInfo) => ({
    ...formatFloat.extractOptions(fieldInfo),
    trailingZeros: false,
});

registry.category("formatters").add("crm_points", formatPoints);
export const pointsField = {
    ...floatField,
    extractProps: (fieldInfo, dynamicInfo) => ({
        ...floatField.extractProps(fieldInfo, dynamicInfo),
        trailingZeros: false,
    }),
};
registry.category("fields").add("crm_points", pointsField);

/**
 * A tier's threshold or a card's qualifying value: an amount in the program's currency where
 * its tiers qualify on the amount spent ("$ 1.000.000"), points otherwise ("5.000"). Edited
 * as a plain number.
 */
export class TierValueField extends FloatField {
    get formattedValue() {
        const data = this.props.record.data;
        if (this.props.readonly && data.tier_basis === "amount") {
            return formatMonetary(this.value, { currencyId: data.currency_id?.id });
        }
        return super.formattedValue;
    }
}

registry.category("fields").add("crm_tier_value", {
    ...pointsField,
    component: TierValueField,
    fieldDependencies: [
        { name: "tier_basis", type: "selection" },
        { name: "currency_id", type: "many2one" },
    ],
});
