// A credential status list (W3C Bitstring Status List): which entries are set (revoked or
// suspended). The bits are decoded here from the credential's encodedList.

import { api } from "../api.js";
import { fields, h, section } from "../ui/dom.js";
import { accountLink, blockLink, didLink, href, link } from "../ui/links.js";
import { note } from "../ui/status.js";

const SHOWN = 500;

/** Indexes of the set bits of an `encodedList` (`u` + base64url of the GZIP of the bits). */
export async function setIndexes(encoded, limit = SHOWN) {
  if (typeof encoded !== "string" || !encoded.startsWith("u")) throw new Error("encodedList must start with u (multibase base64url)");
  const b64 = encoded.slice(1).replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const gz = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  const stream = new Blob([gz]).stream().pipeThrough(new DecompressionStream("gzip"));
  const bits = new Uint8Array(await new Response(stream).arrayBuffer());
  const out = [];
  // Bit 0 is the most significant bit of the first byte.
  for (let i = 0; i < bits.length && out.length < limit; i++) {
    if (bits[i] === 0) continue;
    for (let b = 0; b < 8; b++) if (bits[i] & (0x80 >> b)) out.push(i * 8 + b);
  }
  return out;
}

export async function render(ctx) {
  const { issuer, name } = ctx.params;
  ctx.setTitle(`Status list ${name}`);
  const vc = await api.statusList(issuer, name);
  if (!ctx.alive()) return;
  const subject = vc.credentialSubject ?? {};
  let indexes = null;
  let decodeError = null;
  try {
    indexes = await setIndexes(subject.encodedList);
  } catch (e) {
    decodeError = e.message;
  }
  if (!ctx.alive()) return;
  ctx.view.append(
    h("h1", null, "Status list ", h("span", { class: "mono" }, name)),
    section(
      "List",
      fields([
        ["Issuer", didLink(vc.issuer)],
        ["Issuer account", accountLink(issuer)],
        ["Purpose", subject.statusPurpose],
        ["Entries", String(subject.entries ?? "")],
        ["Reference", link(href.verify(vc.id), vc.id)],
        ["Created at", blockLink(vc.weft?.created_height ?? 0)],
        ["Last changed at", blockLink(vc.weft?.updated_height ?? 0)],
        ["Valid from", vc.validFrom],
      ]),
      note("A credential whose status entry is set here no longer verifies. Verify the bits themselves with the reference's proof."),
    ),
    section(
      `Set entries (${subject.statusPurpose ?? "status"})`,
      decodeError
        ? note(`The list could not be decoded: ${decodeError}`)
        : indexes.length
          ? [h("p", null, h("span", { class: "list" }, indexes.map((i, n) => [n ? ", " : "", h("code", null, String(i))]))), indexes.length >= SHOWN ? note(`The first ${SHOWN}.`) : null]
          : note("No entry is set: every credential pointing here is in good standing."),
    ),
  );
}
