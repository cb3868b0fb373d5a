// A deployed workflow template version: its diagram, roles, states and transitions.

import { api } from "../api.js";
import { legend, stateDiagram } from "../ui/diagram.js";
import { fields, h, section } from "../ui/dom.js";
import { accountLink, blockLink, fullHex } from "../ui/links.js";
import { note } from "../ui/status.js";
import { table } from "../ui/table.js";
import { renderValue } from "../ui/value.js";

function approvals(a) {
  if (!a) return "—";
  if (a.k !== undefined) return `${a.k} of ${(a.of ?? []).join(", ")}`;
  if (a.operator) return `two hands: ${a.operator} initiates, ${a.controller} confirms`;
  return renderValue(a);
}

export async function render(ctx) {
  const { id, version } = ctx.params;
  ctx.setTitle(`Template ${id} v${version}`);
  const record = (await api.state(`template/${id}/${version}`)).value;
  if (!ctx.alive()) return;
  ctx.view.append(h("h1", null, "Template ", h("span", { class: "mono" }, `${id} v${version}`)));
  if (!record) {
    ctx.view.append(note(`There is no template ${id} version ${version}.`));
    return;
  }
  const t = record.template;
  const roles = Object.entries(t.roles ?? {}).map(([name, spec]) => ({
    name,
    ...(typeof spec === "string" ? { description: spec } : spec),
  }));
  ctx.view.append(
    section(
      t.title ?? id,
      t.description ? h("p", null, t.description) : null,
      fields([
        ["Deployed by", accountLink(record.deployer)],
        ["Deployed at", blockLink(record.deployed_at)],
        ["Source hash (SHA-256)", fullHex(record.source_hash)],
        ["Visible to", t.visibility?.public ? "everyone (public)" : `the roles ${(t.visibility?.roles ?? []).join(", ") || "—"} and the creator`],
      ]),
    ),
    section("State diagram", stateDiagram(t), legend(false)),
    section(
      "Roles",
      table({
        caption: "Roles",
        columns: [
          { label: "Role", cell: (r) => h("strong", null, r.name) },
          { label: "Held by", cell: (r) => (r.open_to ? `any account with ledger role ${r.open_to}` : r.optional ? "bound per instance (optional)" : "bound per instance") },
          { label: "Description", cell: (r) => r.description ?? "" },
        ],
        rows: roles,
      }),
    ),
    section(
      "Parameters",
      table({
        caption: "Parameters",
        columns: [
          { label: "Parameter", cell: (r) => r[0] },
          { label: "Type", cell: (r) => renderValue(r[1]) },
        ],
        rows: Object.entries(t.parameters ?? {}),
        empty: "No parameters.",
      }),
    ),
    section(
      "Transitions",
      table({
        caption: "Transitions",
        columns: [
          { label: "Transition", cell: (x) => h("strong", null, x.name) },
          { label: "From → to", cell: (x) => `${(x.from ?? []).join(", ")} → ${x.to}` },
          { label: "Taken by", cell: (x) => (x.auto ? "the ledger (automatic)" : x.on_breach ? `the ledger on a breach of ${x.on_breach.feed} (${x.on_breach.threshold})${x.by?.length ? `, or ${x.by.join(", ")}` : ""}` : (x.by ?? []).join(", ")) },
          { label: "Approvals", cell: (x) => approvals(x.approvals) },
          { label: "Guard", cell: (x) => (x.guard ? h("code", null, x.guard) : "—") },
          { label: "Deadline", cell: (x) => (x.deadline ? `until ${x.deadline.param}, then ${x.deadline.on_expiry}` : "—") },
          { label: "Effects", cell: (x) => (x.effects?.length ? renderValue(x.effects, "effects") : "—") },
        ],
        rows: t.transitions ?? [],
      }),
    ),
  );
}
