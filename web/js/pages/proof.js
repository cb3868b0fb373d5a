// Verify a proof in the browser: fetch the bundle for a weft:// reference, a transaction
// hash or a state key (or take a pasted bundle), then check it here with WebCrypto against
// a trust anchor — the chain id and validator set — that the user may replace with the one
// from their own genesis file, so the node is not trusted to vouch for itself.

import { ApiError, api } from "../api.js";
import { fields, h, section } from "../ui/dom.js";
import { fmtTime } from "../ui/format.js";
import { blockLink, fullHex, link } from "../ui/links.js";
import { errorBox, note } from "../ui/status.js";
import { renderOperation, renderValue } from "../ui/value.js";
import { statusBadge } from "./block.js";
import { parseReference, pageOfKey } from "./search.js";

const HASH = /^(?:0x)?([0-9a-fA-F]{64})$/;

/**
 * The trust anchor's validators from what the user pasted: a genesis file (its
 * `validators[].account`), a JSON array, or hex accounts separated by spaces, commas or
 * lines. Returns `{validators, chainId?}`; throws Error on anything else.
 */
export function parseAnchor(text) {
  const t = String(text ?? "").trim();
  if (!t) throw new Error("give at least one validator account");
  let list;
  let chainId;
  if (t.startsWith("{") || t.startsWith("[")) {
    let parsed;
    try {
      parsed = JSON.parse(t);
    } catch {
      throw new Error("the validator list is not valid JSON");
    }
    if (Array.isArray(parsed)) list = parsed;
    else {
      list = parsed.validators;
      chainId = typeof parsed.chain_id === "string" ? parsed.chain_id : undefined;
    }
    if (!Array.isArray(list)) throw new Error("no validators list in that JSON");
    list = list.map((v) => (typeof v === "string" ? v : v?.account));
  } else {
    list = t.split(/[\s,]+/).filter(Boolean);
  }
  const validators = list.map((v) => {
    const m = HASH.exec(String(v ?? ""));
    if (!m) throw new Error(`not a validator account (64 hex): ${String(v).slice(0, 80)}`);
    return m[1].toLowerCase();
  });
  if (validators.length === 0) throw new Error("give at least one validator account");
  return { validators, chainId };
}

/** Fetches the bundle (and the API's reading of the record) for what the user typed. */
async function fetchBundle(input, nodeChain) {
  const text = input.trim();
  if (text.startsWith("weft://")) {
    const ref = parseReference(text);
    if (!ref) throw new Error("that weft:// reference is neither a transaction (weft://<chain>/<height>/<index>) nor a state record (weft://<chain>/<height>/state/<key>)");
    if (ref.chain !== nodeChain) throw new Error(`this node serves chain ${nodeChain}; the reference names chain ${ref.chain}`);
    if (ref.index !== undefined) {
      const block = await api.block(ref.height);
      const hash = block.transactions?.[ref.index]?.tx_hash;
      if (!hash) throw new Error(`block ${ref.height} has no transaction ${ref.index}`);
      const r = await api.tx(hash, true);
      return { bundle: r.proof, from: { kind: "tx", hash } };
    }
    const r = await api.state(ref.key, { height: ref.issuer ? undefined : ref.height, prove: true });
    return { bundle: r.proof, from: { kind: "state", key: ref.key, value: r.value } };
  }
  const hash = HASH.exec(text);
  if (hash) {
    const r = await api.tx(hash[1].toLowerCase(), true);
    if (!r.proof) throw new Error("the transaction is not committed yet, so it has no proof");
    return { bundle: r.proof, from: { kind: "tx", hash: hash[1].toLowerCase() } };
  }
  if (text.includes("/")) {
    const r = await api.state(text, { prove: true });
    return { bundle: r.proof, from: { kind: "state", key: text, value: r.value } };
  }
  throw new Error("give a weft:// reference, a transaction hash or a state key (such as balance/usd/<account>)");
}

/** What the bundle proves, for people. */
function provenRecord(bundle, from) {
  const p = bundle?.proof ?? {};
  if (p.kind === "state") {
    return fields([
      ["State key", from?.kind === "state" ? link(pageOfKey(p.key), p.key) : h("code", null, String(p.key))],
      ["Value", p.value === null || p.value === undefined ? "absent (the proof shows the key has no value)" : from?.value !== undefined && from?.value !== null ? renderValue(from.value) : null],
      ["Value bytes (hex)", p.value ? h("code", { class: "hex" }, p.value) : null],
    ]);
  }
  if (p.kind === "transaction") {
    const tx = p.transaction?.tx;
    return h(
      "div",
      null,
      fields([
        ["Position", `transaction ${p.tx_index} of block ${bundle.header?.height}`],
        ["Result", statusBadge(p.receipt)],
        ["Signer", tx?.signer ? renderValue(tx.signer, "signer") : null],
      ]),
      (tx?.operations ?? []).map((op, i) => renderOperation(op, i, { signer: tx.signer })),
    );
  }
  return note("The bundle names a record of an unknown kind.");
}

/** The consensus round a certificate names, e.g. "epoch 0, view 300 (parent at view 298)". */
function finalizedIn(fin) {
  const shown = (n) => typeof n === "number" || typeof n === "bigint";
  if (!fin || !shown(fin.epoch) || !shown(fin.view) || !shown(fin.parent_view)) return null;
  return `epoch ${fin.epoch}, view ${fin.view} (parent at view ${fin.parent_view})`;
}

// What each of the verifier's checks establishes, in words.
const STEP_TEXT = {
  chain: "The bundle is for the trusted chain",
  "validator set":
    "The header names the trusted validator set: the genesis set, or the set it handed over to through each change the bundle carries (every change finalized by the set before it, with a proof of the new set in that block's state)",
  height: "The certificate is for this block's height",
  "block hash": "The header hashes to the block the certificate signs",
  "finalization quorum": "More than two thirds of the validators signed the consensus engine's finalize vote for the block (Ed25519)",
  "record proof": "The record's Merkle proof leads to a root in the header",
};

/**
 * The verifier's steps, then the checks it did not reach (it stops at the first failure),
 * so the list always shows the whole procedure. `order` is verify.js's list of step names.
 */
function stepList(steps, order = []) {
  const done = new Set((steps ?? []).map((s) => s.name));
  const rows = (steps ?? []).map((s) =>
    h(
      "li",
      { testid: "verify-step", "data-ok": String(Boolean(s.ok)), "data-step": s.name },
      h("span", { class: "mark", "aria-hidden": "true" }, s.ok ? "✓" : "✗"),
      h("span", { class: "sr-only" }, s.ok ? "passed: " : "failed: "),
      STEP_TEXT[s.name] ?? s.name,
      s.detail ? h("span", { class: "detail" }, s.detail) : null,
    ),
  );
  for (const name of order) {
    if (done.has(name)) continue;
    rows.push(
      h(
        "li",
        { testid: "verify-step", "data-skipped": "true", "data-step": name, class: "skipped" },
        h("span", { class: "mark", "aria-hidden": "true" }, "–"),
        h("span", { class: "sr-only" }, "not checked: "),
        STEP_TEXT[name] ?? name,
        h("span", { class: "detail" }, "not checked: an earlier check failed"),
      ),
    );
  }
  return h("ol", { class: "steps" }, rows);
}

async function loadVerifier() {
  try {
    return await import("../verify.js");
  } catch (e) {
    throw new Error(`the browser verifier (js/verify.js) did not load: ${e.message}`);
  }
}

export async function render(ctx) {
  ctx.setTitle("Verify a proof");
  let status = null;
  try {
    status = await api.status();
  } catch {
    // The anchor can still be pasted by hand.
  }
  if (!ctx.alive()) return;

  const refInput = h("input", {
    id: "verify-ref",
    type: "text",
    testid: "verify-input",
    spellcheck: "false",
    autocomplete: "off",
    placeholder: "weft://chain/height/index, weft://chain/height/state/key, a transaction hash or a state key",
  });
  const bundleInput = h("textarea", { id: "verify-bundle", testid: "verify-bundle", spellcheck: "false", rows: "6", placeholder: '{"reference": "weft://…", "header": {…}, "finalization": {…}, "proof": {…}}' });
  const chainInput = h("input", { id: "anchor-chain", type: "text", spellcheck: "false", value: status?.chain_id ?? "" });
  const validatorsInput = h("textarea", { id: "anchor-validators", spellcheck: "false", rows: "3" }, (status?.validators ?? []).join("\n"));
  const button = h("button", { type: "submit", testid: "verify-button" }, "Verify");
  const result = h("div", { testid: "verify-result", class: "verify-result", "aria-live": "polite" });

  // The field edited last decides what is verified: a reference to fetch or a pasted bundle.
  let mode = "reference";
  const modeNote = h("span", { class: "note" }, "Fetches and verifies the reference above.");
  const setMode = (m) => {
    mode = m;
    modeNote.textContent = m === "bundle" ? "Verifies the pasted bundle as it is." : "Fetches and verifies the reference above.";
  };
  refInput.addEventListener("input", () => setMode("reference"));
  bundleInput.addEventListener("input", () => setMode(bundleInput.value.trim() ? "bundle" : "reference"));

  const form = h(
    "form",
    { class: "verify-form" },
    h("label", { for: "verify-ref" }, "Reference, transaction hash or state key"),
    h("div", { class: "row" }, refInput),
    h("label", { for: "verify-bundle" }, "…or paste a proof bundle (JSON) to check it as it is"),
    bundleInput,
    h(
      "details",
      { class: "anchor" },
      h("summary", null, "Trust anchor: chain ", h("code", null, status?.chain_id ?? "?"), ` and ${status?.validators?.length ?? 0} validator(s)`),
      h("p", { class: "note" }, "Filled in from this node's status. To check the node rather than trust it, paste the validators from your genesis file (the whole genesis.json works too)."),
      h("label", { for: "anchor-chain" }, "Chain id"),
      chainInput,
      h("label", { for: "anchor-validators" }, "Validator accounts"),
      validatorsInput,
    ),
    h("div", { class: "actions" }, button, modeNote),
  );

  const show = (ok, ...content) => {
    result.replaceChildren(...content);
    result.setAttribute("data-ok", String(ok));
  };

  const run = async () => {
    let anchor;
    try {
      const parsed = parseAnchor(validatorsInput.value);
      const chainId = chainInput.value.trim() || parsed.chainId;
      if (!chainId) throw new Error("give the chain id");
      anchor = { chainId, validators: parsed.validators };
    } catch (e) {
      show(false, h("p", { class: "verdict bad" }, "✗ Not verified"), stepList([{ name: "Read the trust anchor", ok: false, detail: e.message }]));
      return;
    }
    let bundle;
    let from = null;
    if (mode === "bundle") {
      try {
        bundle = JSON.parse(bundleInput.value);
      } catch (e) {
        show(false, h("p", { class: "verdict bad" }, "✗ Not verified"), stepList([{ name: "Read the bundle", ok: false, detail: `not valid JSON: ${e.message}` }]));
        return;
      }
    } else {
      try {
        ({ bundle, from } = await fetchBundle(refInput.value, status?.chain_id ?? anchor.chainId));
      } catch (e) {
        const refused = e instanceof ApiError;
        show(false, h("p", { class: "verdict bad" }, "✗ No proof to verify"), refused ? errorBox(e, "Fetching the proof") : stepList([{ name: "Fetch the proof bundle", ok: false, detail: e.message }]));
        return;
      }
    }
    let outcome;
    let order = [];
    try {
      const verifier = await loadVerifier();
      order = verifier.STEPS ?? [];
      outcome = await verifier.verifyBundle(bundle, anchor);
    } catch (e) {
      outcome = { ok: false, error: e.message, steps: [{ name: "Run the verifier", ok: false, detail: e.message }] };
    }
    const ok = Boolean(outcome?.ok);
    const steps = [...(outcome?.steps ?? [])];
    // A bundle refused before any check (malformed) still shows which step failed.
    if (!ok && !steps.some((s) => !s.ok)) {
      steps.unshift({ name: "Read the bundle", ok: false, detail: outcome?.error ?? "the verifier refused it" });
    }
    show(
      ok,
      h(
        "p",
        { class: `verdict ${ok ? "ok" : "bad"}` },
        ok
          ? `✓ Verified: final at height ${outcome.height} of chain ${anchor.chainId}`
          : `✗ Not verified${outcome?.error ? `: ${outcome.error}` : ""}`,
      ),
      stepList(steps, order),
      section(
        ok ? "What this proves" : "What the bundle claims",
        fields([
          ["Reference", bundle?.reference ? h("code", { class: "hex" }, String(bundle.reference)) : null],
          ["Block", Number.isSafeInteger(bundle?.header?.height) ? blockLink(bundle.header.height) : null],
          ["Block time", bundle?.header?.timestamp_ms ? fmtTime(bundle.header.timestamp_ms) : null],
          ["Block hash", outcome?.blockHash ? fullHex(outcome.blockHash) : null],
          ["Finalized in", finalizedIn(bundle?.finalization)],
        ]),
        provenRecord(bundle, from),
      ),
      h("details", null, h("summary", null, "The bundle (JSON)"), h("pre", null, JSON.stringify(bundle, null, 2))),
    );
  };

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    // Clear the old verdict at once, so nobody reads it as the new one.
    result.removeAttribute("data-ok");
    result.replaceChildren(h("p", { class: "loading" }, "Verifying…"));
    button.disabled = true;
    run().finally(() => {
      button.disabled = false;
    });
  });

  ctx.view.append(
    h("h1", null, "Verify a proof"),
    h(
      "p",
      null,
      "A proof bundle holds a block header, the validators' finality certificate and a Merkle proof from the record to a root in that header. This page checks it in your browser with WebCrypto (Ed25519 and SHA-256): the chain id, that the header names the trusted validator set, that more than two thirds of it signed the block, and the Merkle proof.",
    ),
    form,
    result,
  );

  const ref = ctx.query.get("ref");
  if (ref) {
    refInput.value = ref;
    form.requestSubmit();
  }
}
