// Where each kind of record lives in the explorer (hash routes), and links to it.

import { h } from "./dom.js";
import { shortHex } from "./format.js";

const seg = (s) => encodeURIComponent(String(s));

export const href = {
  overview: () => "#/",
  blocks: (before) => (before ? `#/blocks?before=${seg(before)}` : "#/blocks"),
  block: (id) => `#/block/${seg(id)}`,
  tx: (hash) => `#/tx/${seg(hash)}`,
  account: (a) => `#/account/${seg(a)}`,
  organization: (id) => `#/organization/${seg(id)}`,
  token: (symbol) => `#/token/${seg(symbol)}`,
  asset: (id) => `#/asset/${seg(id)}`,
  feed: (id) => `#/feed/${seg(id)}`,
  document: (id) => `#/document/${seg(id)}`,
  instance: (id) => `#/instance/${seg(id)}`,
  template: (id, version) => `#/template/${seg(id)}/${seg(version)}`,
  did: (did) => `#/did/${seg(did)}`,
  registry: (name) => `#/registry/${seg(name)}`,
  statusList: (issuer, name) => `#/status-list/${seg(issuer)}/${seg(name)}`,
  privateRecord: (id) => `#/private/${seg(id)}`,
  state: (key) => `#/state/${String(key).split("/").map(seg).join("/")}`,
  verify: (ref) => (ref ? `#/verify?ref=${seg(ref)}` : "#/verify"),
  search: (q) => `#/search?q=${seg(q)}`,
};

/** A link with text; long hex text is shortened, with the full value in its title. */
export function link(to, text, attrs) {
  const label = String(text);
  const long = /^[0-9a-f]{40,}$/i.test(label);
  return h(
    "a",
    { href: to, class: long ? "mono" : null, title: long ? label : null, ...attrs },
    long ? shortHex(label) : label,
  );
}

export const accountLink = (a) => link(href.account(a), a);
export const blockLink = (height) => link(href.block(height), `#${height}`);
export const txLink = (hash, attrs) => link(href.tx(hash), hash, { testid: "tx-link", ...attrs });
export const tokenLink = (symbol) => link(href.token(symbol), symbol);
export const assetLink = (id) => link(href.asset(id), id);
export const feedLink = (id) => link(href.feed(id), id);
export const documentLink = (id) => link(href.document(id), id);
export const instanceLink = (id) => link(href.instance(id), id);
export const organizationLink = (id) => link(href.organization(id), id);
export const privateLink = (id) => link(href.privateRecord(id), id);
export const registryLink = (name) => link(href.registry(name), name);
export const didLink = (did) => link(href.did(did), did, { class: "mono" });
export const templateLink = (id, version) =>
  link(href.template(id, version), `${id} v${version}`);

/** A hash or other long hex value that links nowhere: shortened, full text on hover/copy. */
export function hexText(hex) {
  return h("span", { class: "mono", title: hex }, shortHex(hex));
}

/** A full-length hex value that wraps (for detail views where the whole value matters). */
export function fullHex(hex) {
  return h("code", { class: "hex" }, String(hex ?? ""));
}
