// The node's REST API as the explorer uses it, and who is signed in.
//
// Reads are permissioned: when a member is signed in, every GET is signed with its account
// key (HTTP Message Signatures, via sign.js) so the node shows what that member may see.
// The secret seed lives in sessionStorage only, so it is gone when the tab closes; the
// imported CryptoKey is not extractable.

const SESSION_KEY = "weft.explorer.secret";
const TIMEOUT_MS = 20000;

/** A refusal or failure from the node: `{code, number, message}` and the HTTP status. */
export class ApiError extends Error {
  constructor(status, code, message, number) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.number = number ?? null;
  }
}

let signModule = null;

/** sign.js, loaded when first needed so the explorer still runs (unsigned) without it. */
async function loadSign() {
  if (!signModule) {
    try {
      signModule = await import("./sign.js");
    } catch (e) {
      throw new ApiError(0, "client", `the browser signing module (js/sign.js) did not load: ${e.message}`);
    }
  }
  return signModule;
}

// ---- session ----

let current = null; // {key, account}
const listeners = new Set();

/** The signed-in member (`{account}`), or null for an anonymous viewer. */
export function session() {
  return current ? { account: current.account } : null;
}

/** Calls `fn(session())` whenever someone signs in or out. */
export function onSession(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function announce() {
  for (const fn of listeners) fn(session());
}

function readStorage() {
  try {
    return sessionStorage.getItem(SESSION_KEY);
  } catch {
    return null;
  }
}

/**
 * Signs in with a 64-hex secret seed (or the JSON of a key file `{"account","secret"}`).
 * Returns the account. Throws a plain Error with a readable message on bad input.
 */
export async function signIn(input) {
  const secret = parseSecret(input);
  const { importSeed } = await loadSign();
  const key = await importSeed(secret);
  current = { key, account: key.publicKeyHex };
  try {
    sessionStorage.setItem(SESSION_KEY, secret);
  } catch {
    // Private modes may refuse storage: the session then lasts until reload.
  }
  announce();
  return current.account;
}

export function signOut() {
  current = null;
  try {
    sessionStorage.removeItem(SESSION_KEY);
  } catch {
    // Nothing stored.
  }
  announce();
}

/** Re-imports the key kept in this tab's sessionStorage, if any. */
export async function restoreSession() {
  const secret = readStorage();
  if (!secret) return null;
  try {
    return await signIn(secret);
  } catch {
    signOut();
    return null;
  }
}

/** The seed from a pasted hex secret or key-file JSON; throws Error with why not. */
export function parseSecret(input) {
  let text = String(input ?? "").trim();
  if (text.startsWith("{")) {
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error("the key file is not valid JSON");
    }
    if (!parsed || typeof parsed.secret !== "string") {
      throw new Error('the key file has no "secret" field');
    }
    text = parsed.secret.trim();
  }
  if (text.startsWith("0x")) text = text.slice(2);
  if (!/^[0-9a-fA-F]{64}$/.test(text)) {
    throw new Error("a secret is 64 hex characters (32 bytes)");
  }
  return text.toLowerCase();
}

// ---- requests ----

function queryString(query) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === null || v === undefined || v === false || v === "") continue;
    params.set(k, String(v));
  }
  return params.toString();
}

async function send(path, query, { signed = true, accept = "application/json" } = {}) {
  const qs = queryString(query);
  // Sign exactly the path the browser will send (it normalises dot segments).
  const url = new URL(path, location.origin);
  const headers = { Accept: accept };
  if (signed && current) {
    const { signRequest } = await loadSign();
    const created = Math.floor(Date.now() / 1000);
    const sig = await signRequest(current.key, "GET", url.pathname, qs || null, created);
    headers["Signature-Input"] = sig.signatureInput;
    headers.Signature = sig.signature;
  }
  let res;
  try {
    res = await fetch(url.pathname + (qs ? `?${qs}` : ""), {
      headers,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (e) {
    throw new ApiError(0, "network", `the node did not answer (${e.message})`);
  }
  return res;
}

async function errorFrom(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    // Not JSON: a proxy or a crash page.
  }
  if (body && typeof body.code === "string") {
    return new ApiError(res.status, body.code, String(body.message ?? ""), body.number);
  }
  return new ApiError(res.status, "http", `HTTP ${res.status} ${res.statusText}`);
}

/** GET `path` (already URL-safe) with `query`; the JSON answer, or throws ApiError. */
export async function get(path, query, options) {
  const res = await send(path, query, options);
  if (!res.ok) throw await errorFrom(res);
  try {
    return await res.json();
  } catch {
    throw new ApiError(res.status, "malformed", "the node's answer is not JSON");
  }
}

/** GET as text (Prometheus metrics). */
export async function getText(path) {
  const res = await send(path, null, { signed: false, accept: "text/plain" });
  if (!res.ok) throw await errorFrom(res);
  return res.text();
}

const seg = (s) => encodeURIComponent(String(s));
const keyPath = (key) => String(key).split("/").map(seg).join("/");

export const api = {
  status: () => get("/v1/status"),
  block: (id) => get(`/v1/blocks/${seg(id)}`),
  /** A block read anonymously: headers are public and every body is just its hash, so
   * this stays small for charts and lists however large the block. */
  blockHeader: (id) => get(`/v1/blocks/${seg(id)}`, null, { signed: false }),
  /** Headers `{hash, header}` of heights `from`..=`to` (at most 200), oldest first. */
  blockHeaders: (from, to) => get("/v1/blocks", { from, to }, { signed: false }).then((r) => r.blocks),
  tx: (hash, prove = false) => get(`/v1/transactions/${seg(hash)}`, { prove }),
  account: (account) => get(`/v1/accounts/${seg(account)}`),
  /** `{key, height, value, value_hex, proof?}`. */
  state: (key, { height, prove } = {}) => get(`/v1/state/${keyPath(key)}`, { height, prove }),
  /** One page of records under `prefix` the viewer may read: `{entries, next}`. */
  list: (prefix, { after, limit } = {}) => get("/v1/state", { prefix, after, limit }),
  events: (query) => get("/v1/events", query),
  did: (did) => get(`/v1/dids/${seg(did)}`),
  statusList: (issuer, name) => get(`/v1/status-lists/${seg(issuer)}/${seg(name)}`),
  registry: (name) => get(`/v1/registry/${seg(name)}`),
  registryHead: () => get("/v1/registry/log/sth"),
  privateRecord: (id) => get(`/v1/private/${seg(id)}`),
  metrics: () => getText("/metrics"),
};

/**
 * Every record under `prefix` the viewer may read, following `next` up to `max` entries.
 * `truncated` says whether more were left.
 */
export async function listAll(prefix, { max = 1000 } = {}) {
  const entries = [];
  let after = null;
  for (;;) {
    const page = await api.list(prefix, { after, limit: 200 });
    for (const e of page.entries ?? []) {
      if (entries.length >= max) return { entries, truncated: true };
      entries.push(e);
    }
    if (!page.next || page.next === after) return { entries, truncated: false };
    after = page.next;
  }
}

/** Value of a state key, or null when it does not exist (other errors are thrown). */
export async function stateOrNull(key, options) {
  try {
    const r = await api.state(key, options);
    return r.value_hex === null ? null : r.value;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

/** `fn` over `items` with at most `limit` calls in flight; results in input order. */
export async function mapLimit(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
