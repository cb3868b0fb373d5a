// One account: its organization, roles, DID, balances and the events that name it.

import { api, stateOrNull } from "../api.js";
import { fields, h, section } from "../ui/dom.js";
import { fmtAmount, plural } from "../ui/format.js";
import { blockLink, didLink, fullHex, href, link, tokenLink, txLink } from "../ui/links.js";
import { async, note } from "../ui/status.js";
import { table } from "../ui/table.js";
import { renderValue } from "../ui/value.js";

const EVENTS = 200;

export async function render(ctx) {
  const account = ctx.params.account.toLowerCase();
  ctx.setTitle(`Account ${account.slice(0, 8)}`);
  const a = await api.account(account);
  if (!ctx.alive()) return;
  ctx.view.append(h("h1", null, "Account ", h("span", { class: "mono" }, `${account.slice(0, 8)}…`)));
  if (!a.registered) {
    ctx.view.append(h("div", { class: "warn-box", role: "note" }, "This key is not registered on this chain (it may be a device key, a validator of another chain, or a typo)."));
  }
  ctx.view.append(
    section(
      "Account",
      fields([
        ["Account (public key)", fullHex(account)],
        ["DID", didLink(a.did)],
        ["Organization", a.organization ? link(href.organization(a.organization), a.organization) : null],
        ["Roles", a.roles ? (a.roles.length ? a.roles.join(", ") : "none") : null],
        ["Registered at", a.registered_at !== null && a.registered_at !== undefined ? blockLink(a.registered_at) : null],
        ["Transactions sent", String(a.next_nonce ?? 0)],
      ]),
    ),
    section(
      "Balances",
      async(async () => {
        const symbols = Object.keys(a.balances ?? {});
        const tokens = await Promise.all(symbols.map((s) => stateOrNull(`token/${s}`).catch(() => null)));
        return table({
          caption: "Balances",
          columns: [
            { label: "Token", cell: (r) => tokenLink(r.symbol) },
            { label: "Name", cell: (r) => r.token?.display_name ?? "—" },
            { label: "Balance", cell: (r) => fmtAmount(r.amount, r.token?.decimals ?? 0), class: "num" },
          ],
          rows: symbols.map((symbol, i) => ({ symbol, amount: a.balances[symbol], token: tokens[i] })),
          empty: "No balances.",
        });
      }),
    ),
    section(
      "Activity",
      async(async () => {
        const { events } = await api.events({ account, limit: EVENTS });
        const rows = [...events].reverse();
        return [
          table({
            caption: "Events naming this account, newest first",
            columns: [
              { label: "Block", cell: (e) => blockLink(e.height) },
              { label: "Transaction", cell: (e) => txLink(e.tx_hash) },
              { label: "Event", cell: (e) => h("code", null, e.event.topic) },
              { label: "Details", cell: (e) => renderValue(e.event.attributes, "attributes") },
            ],
            rows,
            empty: "No events name this account.",
          }),
          events.length >= EVENTS ? note(`The first ${plural(EVENTS, "event")} since genesis.`) : null,
        ];
      }),
    ),
  );
}
