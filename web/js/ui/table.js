// Data tables that scroll sideways inside their own box on narrow screens, so the page
// itself never becomes wider than the viewport.

import { h } from "./dom.js";
import { note } from "./status.js";

/**
 * `columns`: `[{label, cell: (row, i) => node|string, class?}]`. `rowAttrs(row)` may give
 * attributes for each `<tr>`. `empty` is shown instead of an empty table.
 */
export function table({ caption, columns, rows, empty = "Nothing to show.", rowAttrs }) {
  if (!rows || rows.length === 0) return note(empty);
  const head = h("tr", null, columns.map((c) => h("th", { scope: "col", class: c.class }, c.label)));
  const body = rows.map((row, i) =>
    h(
      "tr",
      rowAttrs ? rowAttrs(row, i) : null,
      columns.map((c) => h("td", { class: c.class }, c.cell(row, i) ?? "—")),
    ),
  );
  // The wrapper is focusable so keyboard users can scroll a wide table.
  return h(
    "div",
    { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption ?? "table" },
    h("table", null, caption ? h("caption", null, caption) : null, h("thead", null, head), h("tbody", null, body)),
  );
}
