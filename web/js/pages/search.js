// Search: a block height or hash, a transaction hash, an account, a did:weft DID, a state
// key or a weft:// reference goes straight to its page; any other text is tried as the id
// of each kind of named record.

import { ApiError, api } from "../api.js";
import { h } from "../ui/dom.js";
import { href, link } from "../ui/links.js";
import { isRefusal, note } from "../ui/status.js";
import { table } from "../ui/table.js";

const HASH = /^(?:0x)?([0-9a-fA-F]{64})$/;

/**
 * What a `weft://` reference names: `{chain, height, index}` for a transaction (an optional
 * event index after it is ignored), `{chain, height, key}` for a state record,
 * `{chain, issuer, name}` for a status list; null if it is none of those.
 */
export function parseReference(text) {
  const m = /^weft:\/\/([^/]+)\/(.+)$/.exec(String(text).trim());
  if (!m) return null;
  const [, chain, rest] = m;
  const parts = rest.split("/");
  if (parts[0] === "status-lists" && parts.length === 3) {
    return { chain, issuer: parts[1], name: parts[2], key: `status-list/${parts[1]}/${parts[2]}` };
  }
  if (!/^\d+$/.test(parts[0])) return null;
  const height = Number(parts[0]);
  if (!Number.isSafeInteger(height)) return null;
  if (parts[1] === "state" && parts.length > 2) return { chain, height, key: parts.slice(2).join("/") };
  if (parts.length >= 2 && parts.length <= 3 && parts.every((p) => /^\d+$/.test(p))) {
    return { chain, height, index: Number(parts[1]) };
  }
  return null;
}

// State-key prefixes that have a page of their own.
const KEY_PAGES = [
  [/^asset\/([^/]+)$/, (m) => href.asset(m[1])],
  [/^instance\/([^/]+)$/, (m) => href.instance(m[1])],
  [/^document\/([^/]+)$/, (m) => href.document(m[1])],
  [/^token\/([^/]+)$/, (m) => href.token(m[1])],
  [/^organization\/([^/]+)$/, (m) => href.organization(m[1])],
  [/^account\/([0-9a-f]{64})$/, (m) => href.account(m[1])],
  [/^feed\/([^/]+)$/, (m) => href.feed(m[1])],
  [/^template\/([^/]+)\/(\d+)$/, (m) => href.template(m[1], m[2])],
  [/^private\/record\/([^/]+)$/, (m) => href.privateRecord(m[1])],
  [/^registry\/name\/([^/]+)$/, (m) => href.registry(m[1])],
  [/^status-list\/([0-9a-f]{64})\/([^/]+)$/, (m) => href.statusList(m[1], m[2])],
];

const KEY_KINDS = /^(meta|organization|role|account|nonce|token|balance|holdings|asset|hold|frozen|document|rfq|market|feed|feed-watchers|epcis|template|instance|did|issuer|status-list|commitment|registry|private)\//;

/** The page of a state key: its own page when it has one, else the generic state view. */
export function pageOfKey(key, height) {
  if (height === undefined) {
    for (const [re, to] of KEY_PAGES) {
      const m = re.exec(key);
      if (m) return to(m);
    }
  }
  return href.state(key) + (height !== undefined ? `?height=${height}` : "");
}

/** The transaction hash at `height`/`index`, read from the block. */
async function txAt(height, index) {
  const block = await api.block(height);
  return block.transactions?.[index]?.tx_hash ?? null;
}

/** Where `q` leads without asking the user, or null when it needs a search page. */
export async function resolveQuery(q) {
  const text = q.trim();
  if (/^\d+$/.test(text)) return href.block(text);
  if (text.startsWith("did:")) return href.did(text);
  if (text.startsWith("weft://")) {
    const ref = parseReference(text);
    if (!ref) return href.verify(text);
    if (ref.index !== undefined) {
      try {
        const hash = await txAt(ref.height, ref.index);
        if (hash) return href.tx(hash);
      } catch {
        // Fall through to the verify page, which explains the failure.
      }
      return href.verify(text);
    }
    if (ref.issuer) return href.statusList(ref.issuer, ref.name);
    return pageOfKey(ref.key, ref.height);
  }
  const hash = HASH.exec(text);
  if (hash) {
    const hex = hash[1].toLowerCase();
    // A 32-byte hex string is a transaction hash, a block hash or an account.
    try {
      await api.tx(hex);
      return href.tx(hex);
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 404) return href.tx(hex);
    }
    try {
      await api.block(hex);
      return href.block(hex);
    } catch {
      // Not a block either.
    }
    return href.account(hex);
  }
  if (KEY_KINDS.test(text)) return pageOfKey(text);
  return null;
}

// Kinds of named records, probed for a free-text search.
const PROBES = [
  ["asset", (q) => `asset/${q}`, href.asset],
  ["workflow instance", (q) => `instance/${q}`, href.instance],
  ["document", (q) => `document/${q}`, href.document],
  ["token", (q) => `token/${q}`, href.token],
  ["organization", (q) => `organization/${q}`, href.organization],
  ["sensor feed", (q) => `feed/${q}`, href.feed],
  ["private record", (q) => `private/record/${q}`, href.privateRecord],
  ["template (version 1)", (q) => `template/${q}/1`, (q) => href.template(q, 1)],
  ["registry name", (q) => `registry/name/${q}`, href.registry],
  ["EPCIS event", (q) => `epcis/event/${q}`, (q) => href.state(`epcis/event/${q}`)],
];

export async function render(ctx) {
  const q = (ctx.query.get("q") ?? "").trim();
  ctx.setTitle(`Search ${q}`);
  ctx.view.append(h("h1", null, "Search"), h("p", null, "Looking for ", h("code", null, q), " as the id of each kind of record."));
  if (!/^[a-z0-9._-]{1,64}$/.test(q.toLowerCase())) {
    ctx.view.append(
      note(
        "Ids are lower-case letters, digits, dots, dashes and underscores. Search also takes a block height, a 64-hex hash or account, a did:weft DID, a state key (asset/<id>) or a weft:// reference.",
      ),
    );
    return;
  }
  const id = q.toLowerCase();
  // Registry names are DNS names: only a dotted query can be one.
  const probes = PROBES.filter(([kind]) => kind !== "registry name" || id.includes("."));
  const results = await Promise.all(
    probes.map(async ([kind, key, to]) => {
      try {
        const r = await api.state(key(id));
        return { kind, found: r.value_hex !== null, to: to(id) };
      } catch (e) {
        return { kind, found: false, refused: isRefusal(e), error: e };
      }
    }),
  );
  if (!ctx.alive()) return;
  const found = results.filter((r) => r.found || r.refused);
  ctx.view.append(
    table({
      caption: `Records named ${id}`,
      columns: [
        { label: "Kind", cell: (r) => r.kind },
        { label: "Record", cell: (r) => (r.found ? link(r.to, id) : id) },
        { label: "Status", cell: (r) => (r.found ? "found" : "may exist, but is not visible to you") },
      ],
      rows: found,
      empty: `No record is named ${id}.`,
    }),
  );
}
