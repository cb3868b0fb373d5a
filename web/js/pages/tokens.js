// Tokens: definitions, supply and policies.

import { h } from "../ui/dom.js";
import { fmtAmount } from "../ui/format.js";
import { accountLink, href, link } from "../ui/links.js";
import { recordTable } from "../ui/records.js";

export async function render(ctx) {
  ctx.setTitle("Tokens");
  ctx.view.append(
    h("h1", null, "Tokens"),
    recordTable({
      prefix: "token/",
      caption: "Tokens",
      // `token/<symbol>/meters` marks a meter-backed token; it is not a token of its own.
      filter: (r) => !r.id.includes("/"),
      columns: [
        { label: "Symbol", cell: (r) => link(href.token(r.id), r.id) },
        { label: "Name", cell: (r) => r.value?.display_name ?? "—" },
        { label: "Supply", cell: (r) => fmtAmount(r.value?.supply ?? 0, r.value?.decimals), class: "num" },
        { label: "Max supply", cell: (r) => (r.value?.max_supply ? fmtAmount(r.value.max_supply, r.value.decimals) : "unlimited"), class: "num" },
        { label: "Issuer", cell: (r) => (r.value?.issuer ? accountLink(r.value.issuer) : "—") },
        { label: "Moved by", cell: (r) => (r.value?.controller ? `template ${r.value.controller}` : "token operations") },
        { label: "Holders must be", cell: (r) => r.value?.holder_role ?? "anyone" },
      ],
    }),
  );
}
