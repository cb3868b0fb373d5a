// Renders the JSON of operations, events and records as readable fields, turning the values
// that name other records (accounts, assets, tokens, instances, documents…) into links.
// Which field names which kind of record is decided here, once, for every page.

import { h } from "./dom.js";
import { isNever } from "./format.js";
import { href, link } from "./links.js";

const HEX64 = /^[0-9a-f]{64}$/i;

// Fields that hold an account wherever they appear.
const ACCOUNT_FIELDS = new Set([
  "to", "from", "account", "owner", "beneficiary", "arbiter", "grantee", "subject", "buyer",
  "seller", "fee_account", "signer", "issuer", "holder", "recorder", "requester", "quoter",
  "creator", "created_by", "by", "deployer", "proposer", "validator", "controller_account",
]);
// Fields that hold a list of accounts.
const ACCOUNT_LIST_FIELDS = new Set([
  "parties", "approvals", "accounts", "signers", "endorsers", "validators", "admins",
]);
const TOKEN_FIELDS = new Set([
  "symbol", "want_symbol", "pay_symbol", "base", "quote", "token", "escrow_symbol", "refund_symbol",
]);
const ASSET_FIELDS = new Set(["asset", "parent_id"]);
const ASSET_LIST_FIELDS = new Set(["epc_list", "child_epcs", "input_epc_list", "output_epc_list"]);

// What the `id` (or `name`) field of each operation names.
const OP_ID_KIND = {
  register_organization: "organization",
  register_asset: "asset",
  transfer_asset: "asset",
  split_asset: "asset",
  set_asset_attributes: "asset",
  retire_asset: "asset",
  anchor_document: "document",
  amend_document: "document",
  sign_document: "document",
  register_feed: "feed",
  create_private_record: "private",
  grant_private_access: "private",
  revoke_private_access: "private",
  set_private_consent: "private",
  access_private_record: "private",
  purge_private_record: "private",
  bind_name: "registry",
  endorse_binding: "registry",
  rotate_binding: "registry",
  revoke_binding: "registry",
  hold: "hold",
  release_hold: "hold",
  cancel_hold: "hold",
  open_market: "market",
  request_quote: "rfq",
  publish_commitment: "commitment",
  withdraw_commitment: "commitment",
};
const ASSET_OPS = new Set(["split_asset", "merge_assets", "transform_assets"]);

/** A link for a value of `kind`, or null when the kind has no page. */
export function recordLink(kind, value, ctx = {}) {
  const v = String(value);
  switch (kind) {
    case "account":
      return link(href.account(v), v);
    case "asset":
      return link(href.asset(v), v);
    case "token":
      return link(href.token(v), v);
    case "document":
      return link(href.document(v), v);
    case "instance":
      return link(href.instance(v), v);
    case "feed":
      return link(href.feed(v), v);
    case "organization":
      return link(href.organization(v), v);
    case "private":
      return link(href.privateRecord(v), v);
    case "registry":
      return link(href.registry(v), v);
    case "hold":
    case "market":
    case "rfq":
    case "commitment":
      return link(href.state(`${kind}/${v}`), v);
    case "epcis":
      return link(href.state(`epcis/event/${v}`), v);
    case "status-list":
      return ctx.signer ? link(href.statusList(ctx.signer, v), v) : null;
    default:
      return null;
  }
}

/** The kind of record a scalar at `field` names, given the operation type. */
function kindOf(field, value, ctx) {
  if (typeof value !== "string") return null;
  if (ACCOUNT_FIELDS.has(field) && HEX64.test(value)) return "account";
  if (ctx.inAccountList && HEX64.test(value)) return "account";
  if (TOKEN_FIELDS.has(field)) return "token";
  if (ASSET_FIELDS.has(field) || ctx.inAssetList) return "asset";
  if (field === "instance") return "instance";
  if (field === "document") return "document";
  if (field === "feed") return "feed";
  if (field === "organization") return "organization";
  if (field === "event_id" || field === "event") return "epcis";
  if (field === "market") return "market";
  if (field === "rfq") return "rfq";
  if (field === "hold") return "hold";
  if ((field === "list" || field === "name") && ctx.op?.endsWith("status_list")) return "status-list";
  if (field === "list" && ctx.op === "set_credential_status") return "status-list";
  if ((field === "id" || field === "name") && OP_ID_KIND[ctx.op]) return OP_ID_KIND[ctx.op];
  if (field === "id" && ctx.inNewAsset) return "asset";
  if (field === "inputs" && ASSET_OPS.has(ctx.op)) return "asset";
  return null;
}

function scalar(field, value, ctx) {
  if (value === null || value === undefined) return h("span", { class: "muted" }, "none");
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "number") {
    if (isNever(value)) return h("span", { class: "muted" }, "never");
    return String(value);
  }
  const text = String(value);
  if (text.startsWith("did:weft:")) return link(href.did(text), text, { class: "mono" });
  if (text.startsWith("weft://")) return link(href.verify(text), text, { class: "mono" });
  const kind = kindOf(field, text, ctx);
  const a = kind ? recordLink(kind, text, ctx) : null;
  if (a) return a;
  if (HEX64.test(text) || /^[0-9a-f]{96,}$/i.test(text)) return h("code", { class: "hex" }, text);
  if (text.length > 240 || text.includes("\n")) {
    return h(
      "details",
      { class: "long-text" },
      h("summary", null, `${text.length} characters`),
      h("pre", null, text),
    );
  }
  return text;
}

function isPairList(value) {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === "string")
  );
}

/**
 * Renders any JSON value. `field` is the key it sits under; `ctx.op` the operation type
 * (for what `id` names) and `ctx.signer` the transaction's signer (status lists are theirs).
 */
export function renderValue(value, field = "", ctx = {}, depth = 0) {
  if (depth > 8) return h("span", { class: "muted" }, "…");
  if (Array.isArray(value)) {
    if (value.length === 0) return h("span", { class: "muted" }, "none");
    const inner = {
      ...ctx,
      inAccountList: ctx.inAccountList || ACCOUNT_LIST_FIELDS.has(field),
      inAssetList:
        ctx.inAssetList || ASSET_LIST_FIELDS.has(field) || (field === "inputs" && ASSET_OPS.has(ctx.op)),
      inNewAsset: ASSET_OPS.has(ctx.op) && (field === "parts" || field === "outputs"),
    };
    if (isPairList(value)) {
      // `[name, value]` pairs (attributes, params, parties): a small table of their own.
      const version = value.find(([k]) => k === "version")?.[1];
      const dl = h("dl", { class: "fields nested" });
      for (const [k, v] of value) {
        const pairField = field === "parties" ? "account" : k;
        const shown =
          k === "template" && /^\d+$/.test(String(version ?? ""))
            ? link(href.template(v, version), v)
            : renderValue(v, pairField, inner, depth + 1);
        dl.append(h("dt", null, k), h("dd", null, shown));
      }
      return dl;
    }
    if (value.every((v) => v === null || typeof v !== "object")) {
      const span = h("span", { class: "list" });
      value.forEach((v, i) => {
        if (i > 0) span.append(", ");
        span.append(scalar(field, v, inner));
      });
      return span;
    }
    return h(
      "ol",
      { class: "values" },
      value.map((v) => h("li", null, renderValue(v, field, inner, depth + 1))),
    );
  }
  if (value && typeof value === "object") {
    const inner = { ...ctx, inNewAsset: ctx.inNewAsset || (ASSET_OPS.has(ctx.op) && field === "output") };
    const dl = h("dl", { class: depth > 0 ? "fields nested" : "fields" });
    for (const [k, v] of Object.entries(value)) {
      // A template is named by id and version together.
      const shown =
        k === "template" && typeof v === "string" && Number.isInteger(value.version)
          ? link(href.template(v, value.version), v)
          : renderValue(v, k, inner, depth + 1);
      dl.append(h("dt", null, k.replace(/_/g, " ")), h("dd", null, shown));
    }
    return dl;
  }
  return scalar(field, value, ctx);
}

/** An operation as a card: its type as a heading, then its fields. */
export function renderOperation(op, index, ctx = {}) {
  const { type, ...rest } = op ?? {};
  return h(
    "article",
    { class: "op", testid: "tx-op" },
    h("h3", null, h("span", { class: "op-index" }, `${index + 1}.`), " ", String(type ?? "operation").replace(/_/g, " ")),
    renderValue(rest, "", { ...ctx, op: type }),
  );
}

/** An event's topic, accounts and attributes in one line-oriented block. */
export function renderEvent(event) {
  return h(
    "div",
    { class: "event" },
    h("code", { class: "topic" }, event.topic),
    h("div", { class: "event-accounts" }, renderValue(event.accounts ?? [], "accounts")),
    renderValue(event.attributes ?? [], "attributes"),
  );
}
