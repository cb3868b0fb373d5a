// Lists of records under a state-key prefix, as the viewer may read them (the node leaves
// out what the viewer may not see, so the list itself is permissioned).

import { listAll, session } from "../api.js";
import { h } from "./dom.js";
import { async, note } from "./status.js";
import { table } from "./table.js";

/** The last segment(s) of a key after its prefix: `asset/vial-1` → `vial-1`. */
export const idOf = (key, prefix) => key.slice(prefix.length);

/**
 * A table of the records under `prefix`. `columns` cells receive `{key, id, value}`;
 * `filter` keeps some of them. Says when the list was cut short and that it only holds what
 * the viewer may read.
 */
export function recordTable({ prefix, caption, columns, filter, empty, max = 1000, sort }) {
  return async(async () => {
    const { entries, truncated } = await listAll(prefix, { max });
    let rows = entries.map((e) => ({ key: e.key, id: idOf(e.key, prefix), value: e.value }));
    if (filter) rows = rows.filter(filter);
    if (sort) rows.sort(sort);
    const who = session() ? "your account" : "anonymous viewers";
    return [
      table({
        caption,
        columns,
        rows,
        empty: empty ?? `No records visible to ${who}.${session() ? "" : " Sign in to see what concerns you."}`,
      }),
      truncated ? note(`Showing the first ${max}; search by id to find others.`) : null,
      rows.length ? h("p", { class: "note" }, `${rows.length} shown — the records ${who} may read.`) : null,
    ];
  }, caption);
}
