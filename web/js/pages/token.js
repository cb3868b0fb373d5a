// One token: its policies and supply, and the holders the viewer may see.

import { api, listAll, stateOrNull } from "../api.js";
import { fields, h, section } from "../ui/dom.js";
import { fmtAmount } from "../ui/format.js";
import { accountLink, href, link } from "../ui/links.js";
import { async, note } from "../ui/status.js";
import { table } from "../ui/table.js";

export async function render(ctx) {
  const { symbol } = ctx.params;
  ctx.setTitle(`Token ${symbol}`);
  const t = (await api.state(`token/${symbol}`)).value;
  if (!ctx.alive()) return;
  ctx.view.append(h("h1", null, t?.display_name ?? symbol, " ", h("span", { class: "muted mono" }, symbol)));
  if (!t) {
    ctx.view.append(note(`There is no token ${symbol}.`));
    return;
  }
  const meters = await stateOrNull(`token/${symbol}/meters`).catch(() => null);
  const amount = (v) => fmtAmount(v, t.decimals);
  ctx.view.append(
    section(
      "Definition",
      fields([
        ["Symbol", symbol],
        ["Decimals", String(t.decimals)],
        ["Issuer", accountLink(t.issuer)],
        ["Supply", amount(t.supply)],
        ["Maximum supply", t.max_supply ? amount(t.max_supply) : "unlimited"],
        ["Moved by", t.controller ? h("span", null, "instances of the workflow template ", h("strong", null, t.controller), " only") : "the token operations (mint, transfer, burn, hold)"],
        ["Holders must hold role", t.holder_role ?? "anyone may hold it"],
        ["Issued by meters", meters ? `yes: ${meters} signed meter feed${meters === 1 ? "" : "s"} issue it; direct mints are refused` : null],
      ]),
      note("The supply always equals the sum of all balances plus what is held in escrow."),
    ),
    section(
      "Holders",
      async(async () => {
        const { entries, truncated } = await listAll(`balance/${symbol}/`, { max: 1000 });
        const rows = entries
          .map((e) => ({ account: e.key.split("/")[2], amount: e.value }))
          .sort((a, b) => (BigInt(b.amount) > BigInt(a.amount) ? 1 : BigInt(b.amount) < BigInt(a.amount) ? -1 : 0));
        const visible = rows.reduce((s, r) => s + BigInt(r.amount), 0n);
        return [
          table({
            caption: `Holders of ${symbol}`,
            columns: [
              { label: "Account", cell: (r) => accountLink(r.account) },
              { label: "Balance", cell: (r) => amount(r.amount), class: "num" },
            ],
            rows,
            empty: "No balances are visible to you (a balance is visible to its account, its organization and auditors).",
          }),
          rows.length ? note(`${amount(visible.toString())} of ${amount(t.supply)} is in the balances you may see.`) : null,
          truncated ? note("Showing the first 1000 holders.") : null,
          h("p", null, link(href.state(`token/${symbol}`), "Raw record and proof")),
        ];
      }),
    ),
  );
}
