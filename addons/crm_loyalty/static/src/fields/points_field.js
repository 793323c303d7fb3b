import { registry } from "@web/core/registry";
import { floatField } from "@web/views/fields/float/float_field";
import { formatFloat } from "@web/views/fields/formatters";

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
registry.category("fields").add("crm_points", {
    ...floatField,
    extractProps: (fieldInfo, dynamicInfo) => ({
        ...floatField.extractProps(fieldInfo, dynamicInfo),
        trailingZeros: false,
    }),
});
