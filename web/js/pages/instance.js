// A workflow instance: its template's state diagram with the current state and the path
// taken highlighted, its parties and parameters, and its full history.

import { api, stateOrNull } from "../api.js";
import { legend, stateDiagram } from "../ui/diagram.js";
import { fields, h, section } from "../ui/dom.js";
import { fmtTime } from "../ui/format.js";
import { accountLink, blockLink, href, link } from "../ui/links.js";
import { note } from "../ui/status.js";
import { table } from "../ui/table.js";
import { recordLink, renderValue } from "../ui/value.js";

/** A typed parameter value (`{type, value}`) with a link when it names a record. */
export function paramValue(p) {
  if (!p || typeof p !== "object") return String(p ?? "—");
  const kinds = { account: "account", asset: "asset", document: "document", token: "token", instance: "instance" };
  if (kinds[p.type]) return recordLink(kinds[p.type], p.value);
  if (p.type === "timestamp") return `${fmtTime(p.value)} (${p.value})`;
  if (p.type === "bool") return p.value ? "true" : "false";
  return String(p.value);
}

function change(c) {
  if (c.change === "granted") return h("span", null, `${c.role} granted to `, accountLink(c.account));
  if (c.change === "revoked") return h("span", null, `${c.role} revoked from `, accountLink(c.account));
  if (c.change === "set") return h("span", null, `${c.param} = `, paramValue(c.value));
  return renderValue(c);
}

function who(step) {
  if (step.cause?.kind === "breach") {
    const c = step.cause;
    return h("span", null, "the ledger, on a breach of ", link(href.feed(c.feed), c.feed), ` (${c.threshold}, value ${c.value}, block ${c.height})`);
  }
  if (step.automatic) return h("span", null, "the ledger (automatic, after ", accountLink(step.by), ")");
  return accountLink(step.by);
}

export async function render(ctx) {
  const { id } = ctx.params;
  ctx.setTitle(`Instance ${id}`);
  const inst = (await api.state(`instance/${id}`)).value;
  if (!ctx.alive()) return;
  ctx.view.append(h("h1", null, "Workflow instance ", h("span", { class: "mono" }, id)));
  if (!inst) {
    ctx.view.append(note(`There is no workflow instance ${id}.`));
    return;
  }
  const record = await stateOrNull(`template/${inst.template}/${inst.version}`).catch(() => null);
  if (!ctx.alive()) return;
  const template = record?.template;
  const current = template?.states?.find((s) => s.name === inst.state);
  ctx.view.append(
    section(
      "Instance",
      fields([
        ["Template", link(href.template(inst.template, inst.version), `${template?.title ?? inst.template} (${inst.template} v${inst.version})`)],
        ["Current state", h("span", null, h("strong", null, inst.state), current?.final ? " (final)" : "", current?.description ? ` — ${current.description}` : "")],
        ["Created by", accountLink(inst.created_by)],
        ["Created", h("span", null, blockLink(inst.created_at), ` — ${fmtTime(inst.created_at_ms)}`)],
        ["Steps taken", String((inst.history ?? []).length)],
      ]),
    ),
    section(
      "State diagram",
      template
        ? [stateDiagram(template, inst), legend(true)]
        : note("The template record is not visible to you, so its diagram cannot be drawn."),
    ),
    section(
      "History",
      table({
        caption: `History of ${id}`,
        columns: [
          { label: "Step", cell: (_, i) => String(i + 1), class: "num" },
          { label: "Transition", cell: (s) => h("strong", null, s.transition) },
          { label: "From → to", cell: (s) => `${s.from} → ${s.to}` },
          { label: "Taken by", cell: who },
          { label: "Approvals", cell: (s) => (s.approvals?.length ? h("span", { class: "list" }, s.approvals.map((a, i) => [i ? ", " : "", accountLink(a)])) : "—") },
          { label: "Inputs", cell: (s) => (Object.keys(s.args ?? {}).length ? h("dl", { class: "fields nested" }, Object.entries(s.args).map(([k, v]) => [h("dt", null, k), h("dd", null, paramValue(v))])) : "—") },
          { label: "Changes", cell: (s) => (s.changes?.length ? h("ul", { class: "plain" }, s.changes.map((c) => h("li", null, change(c)))) : "—") },
          { label: "Block", cell: (s) => blockLink(s.height) },
          { label: "Time", cell: (s) => fmtTime(s.timestamp_ms) },
        ],
        rows: inst.history ?? [],
        empty: "No transition taken yet: the instance is in its initial state.",
      }),
    ),
    section(
      "Parties",
      table({
        caption: "Parties by role",
        columns: [
          { label: "Role", cell: (r) => r[0] },
          { label: "Accounts", cell: (r) => (r[1].length ? h("ul", { class: "plain" }, r[1].map((a) => h("li", null, accountLink(a)))) : h("span", { class: "muted" }, "nobody yet")) },
        ],
        rows: Object.entries(inst.parties ?? {}),
      }),
    ),
    section(
      "Parameters",
      table({
        caption: "Parameters",
        columns: [
          { label: "Parameter", cell: (r) => r[0] },
          { label: "Type", cell: (r) => r[1]?.type ?? "—" },
          { label: "Value", cell: (r) => paramValue(r[1]) },
        ],
        rows: Object.entries(inst.params ?? {}),
        empty: "No parameters.",
      }),
    ),
  );
}
