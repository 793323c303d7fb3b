import { registry } from "@web/core/registry";
import { formatFloat } from "@web/views/fields/formatters";

/**
 * A rate in percent (0 to 100) as the graphs' axes and tooltips show it: one decimal at most
 * and no trailing zeros ("100", "96,4"), where a float reads "100,00". A graph or pivot
 * measure uses it with widget="crm_rate".
 */
export function formatRate(value, options = {}) {
    return formatFloat(value, { ...options, digits: [16, 1], trailingZeros: false });
}

registry.category("formatters").add("crm_rate", formatRate);
