// One document: its commitment (hash) per version, parties and signatures. The content is
// never on the ledger; a holder of the file can check it here against the commitment, in
// the browser, without sending it anywhere.

import { api } from "../api.js";
import { fields, h, section } from "../ui/dom.js";
import { accountLink, blockLink, fullHex } from "../ui/links.js";
import { note } from "../ui/status.js";
import { table } from "../ui/table.js";

async function sha256Hex(buffer) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", buffer));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

function fileCheck(versions) {
  const result = h("div", { "aria-live": "polite", class: "file-check-result" });
  const input = h("input", { type: "file", id: "doc-file" });
  input.addEventListener("change", async () => {
    const f = input.files?.[0];
    if (!f) return;
    result.replaceChildren(h("p", { class: "loading" }, "Hashing…"));
    const hex = await sha256Hex(await f.arrayBuffer());
    const match = versions.findIndex((v) => v.hash === hex);
    result.replaceChildren(
      match >= 0
        ? h("p", { class: "verdict ok" }, `✓ ${f.name} is version ${match + 1} of this document.`)
        : h("p", { class: "verdict bad" }, `✗ ${f.name} matches no version of this document.`),
      h("p", { class: "note" }, "Its SHA-256: ", h("code", { class: "hex" }, hex)),
    );
  });
  return h(
    "div",
    null,
    h("label", { for: "doc-file" }, "Check a file you hold against the commitments"),
    h("p", { class: "note" }, "The file is hashed (SHA-256) in this browser; nothing is uploaded."),
    input,
    result,
  );
}

export async function render(ctx) {
  const { id } = ctx.params;
  ctx.setTitle(`Document ${id}`);
  const d = (await api.state(`document/${id}`)).value;
  if (!ctx.alive()) return;
  ctx.view.append(h("h1", null, "Document ", h("span", { class: "mono" }, id)));
  if (!d) {
    ctx.view.append(note(`There is no document ${id}.`));
    return;
  }
  const versions = d.versions ?? [];
  ctx.view.append(
    section(
      "Document",
      fields([
        ["Media type", d.media_type],
        ["Owner", accountLink(d.owner)],
        ["Parties", h("ul", { class: "plain" }, (d.parties ?? []).map((p) => h("li", null, accountLink(p))))],
        ["Signatures required per version", String(d.required_signatures)],
        ["Current commitment (SHA-256)", versions.length ? fullHex(versions.at(-1).hash) : null],
      ]),
      note("The content is not on the ledger; only its hash is. The explorer never shows a payload, only the commitment."),
    ),
    section(
      "Versions",
      table({
        caption: "Versions",
        columns: [
          { label: "Version", cell: (_, i) => String(i + 1), class: "num" },
          { label: "Commitment (SHA-256)", cell: (v) => fullHex(v.hash) },
          { label: "Location (as declared)", cell: (v) => h("code", null, v.uri) },
          { label: "Anchored at", cell: (v) => blockLink(v.anchored_at) },
          {
            label: "Signed by",
            cell: (v) =>
              v.signatures?.length
                ? h("ul", { class: "plain" }, v.signatures.map(([a, hgt]) => h("li", null, accountLink(a), " at ", blockLink(hgt))))
                : h("span", { class: "muted" }, "nobody yet"),
          },
        ],
        rows: versions,
      }),
    ),
    section("Check a file", fileCheck(versions)),
  );
}
