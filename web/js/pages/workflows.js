// Workflows: the deployed templates and their instances.

import { h, section } from "../ui/dom.js";
import { blockLink, href, link } from "../ui/links.js";
import { recordTable } from "../ui/records.js";

export async function render(ctx) {
  ctx.setTitle("Workflows");
  ctx.view.append(
    h("h1", null, "Workflows"),
    section(
      "Instances",
      h("p", { class: "note" }, "An instance is visible to the accounts bound to the roles its template's visibility names, to its creator, and to auditors; some templates are public."),
      recordTable({
        prefix: "instance/",
        caption: "Workflow instances",
        columns: [
          { label: "Instance", cell: (r) => link(href.instance(r.id), r.id) },
          { label: "Template", cell: (r) => link(href.template(r.value.template, r.value.version), `${r.value.template} v${r.value.version}`) },
          { label: "State", cell: (r) => h("strong", null, r.value.state) },
          { label: "Steps", cell: (r) => String((r.value.history ?? []).length), class: "num" },
          { label: "Created at", cell: (r) => blockLink(r.value.created_at) },
        ],
        sort: (a, b) => b.value.created_at - a.value.created_at,
      }),
    ),
    section(
      "Templates",
      recordTable({
        prefix: "template/",
        caption: "Deployed templates",
        columns: [
          { label: "Template", cell: (r) => link(href.template(r.value.template.id, r.value.template.version), `${r.value.template.id} v${r.value.template.version}`) },
          { label: "Title", cell: (r) => r.value.template.title },
          { label: "States", cell: (r) => String(r.value.template.states.length), class: "num" },
          { label: "Transitions", cell: (r) => String(r.value.template.transitions.length), class: "num" },
          { label: "Deployed at", cell: (r) => blockLink(r.value.deployed_at) },
        ],
      }),
    ),
  );
}
