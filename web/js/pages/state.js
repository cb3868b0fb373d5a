// Any state record by its key: the value the node decoded, its bytes, and a link to prove
// it. Used for records without a page of their own (holds, markets, EPCIS events, …).

import { api } from "../api.js";
import { fields, h, section } from "../ui/dom.js";
import { blockLink, href, link } from "../ui/links.js";
import { note } from "../ui/status.js";
import { renderValue } from "../ui/value.js";
import { pageOfKey } from "./search.js";

export async function render(ctx) {
  const { key } = ctx.params;
  const hq = Number(ctx.query.get("height"));
  const height = Number.isSafeInteger(hq) && hq > 0 ? hq : undefined;
  ctx.setTitle(key);
  const r = await api.state(key, { height });
  if (!ctx.alive()) return;
  const status = await api.status().catch(() => null);
  const own = pageOfKey(key);
  const reference = status ? `weft://${status.chain_id}/${r.height}/state/${key}` : null;
  ctx.view.append(
    h("h1", null, "State record ", h("code", { class: "hex" }, key)),
    section(
      "Record",
      fields([
        ["Key", h("code", { class: "hex" }, key)],
        ["As of block", blockLink(r.height)],
        ["Page", own !== href.state(key) ? link(own, "its own page") : null],
        ["Reference", reference ? h("span", null, h("code", { class: "hex" }, reference), " ", link(href.verify(reference), "verify its proof")) : null],
      ]),
    ),
    section(
      "Value",
      r.value_hex === null
        ? note("No value: the key is absent at this height (a proof can show that too).")
        : [r.value !== null && r.value !== undefined ? renderValue(r.value, key.split("/")[0]) : note("The node does not decode this kind of value."), h("details", null, h("summary", null, "Bytes (hex)"), h("pre", null, r.value_hex))],
    ),
  );
}
