// Proof bundles, verified in the browser: the same checks, in the same order, as
// `verify_bundle` in crates/weft-crypto/src/bundle.rs, with WebCrypto's Ed25519 and SHA-256.
// Given only the chain id and the validator set one trusts (from the genesis file), a bundle
// shows that a state value (or its absence) or a transaction and its receipt are in a block
// that more than two thirds of those validators finalized -- or, after the set changed by
// governance, more than two thirds of the set in force then, reached from the trusted one
// through the bundle's handoffs: each a block finalized by the set before it whose state
// (`meta/validators`) names the next set. Walking them is part of the "validator set" step.
//
// The byte formats rebuilt here (block header, validator set, receipt, the consensus engine's
// finalize message, Merkle and Jellyfish proofs) are pinned by fixtures/web-vectors.json, which
// Rust and this file both check.

import {
  BorshReader,
  BorshWriter,
  EncodingError,
  bytesEqual,
  bytesToHex,
  concatBytes,
  hexToBytes,
  idFromHex,
  sha256,
  utf8,
} from "./encoding.js";

/** The checks, in the order they run; `steps[].name` is one of these. */
export const STEPS = Object.freeze([
  "chain",
  "validator set",
  "height",
  "block hash",
  "finalization quorum",
  "record proof",
]);

/**
 * Error codes as numbered in weft-types (error.rs): a failed receipt's JSON names its code,
 * its hashed bytes carry the number. A code missing here fails closed (the bundle does not
 * verify); the shared vectors list every code so the two lists cannot drift apart unnoticed.
 */
export const ERROR_CODES = new Map([
  ["malformed", 1],
  ["oversized", 2],
  ["unknown_operation", 3],
  ["wrong_chain_id", 4],
  ["missing_signature", 5],
  ["bad_signature", 6],
  ["replayed_nonce", 7],
  ["nonce_gap", 8],
  ["expired", 9],
  ["duplicate", 10],
  ["mempool_full", 11],
  ["account_queue_full", 12],
  ["read_only", 13],
  ["unknown_account", 20],
  ["unauthorized", 21],
  ["already_exists", 22],
  ["not_found", 23],
  ["invalid_argument", 24],
  ["unauthenticated", 25],
  ["forbidden", 26],
  ["unknown_token", 30],
  ["insufficient_balance", 31],
  ["supply_exceeded", 32],
  ["overflow", 33],
  ["frozen", 34],
  ["purged", 35],
  ["payload_unavailable", 36],
  ["access_used", 37],
  ["internal", 40],
]);

/** borsh writes a unit-only enum as a one-byte tag; ErrorCode's tag is its number. */
export function encodeErrorCode(name) {
  const number = ERROR_CODES.get(name);
  if (number === undefined) throw new EncodingError(`unknown error code ${JSON.stringify(name)}`);
  return Uint8Array.of(number);
}

// weft_types::limits::MAX_BLOCK_TXS; weft-crypto's MerkleProof::verify refuses larger trees.
const MAX_BLOCK_TXS = 20_000;
// weft_types::limits::MAX_VALIDATORS: a handoff naming a larger set is refused.
const MAX_VALIDATORS = 128;
/** The state key holding the set in force after a block (weft-crypto's VALIDATORS_STATE_KEY). */
export const VALIDATORS_STATE_KEY = "meta/validators";
// StateProof::from_bytes: 256 levels of 32-byte siblings plus the leaf is the largest honest proof.
const MAX_STATE_PROOF_BYTES = 257 * 33 + 128;
const FINALIZE_SUFFIX = utf8("_FINALIZE");
// jmt's hashing (jmt 0.12, types/proof.rs and lib.rs).
const JMT_LEAF_DOMAIN = utf8("JMT::LeafNode");
const JMT_INTERNAL_DOMAIN = utf8("JMT::IntrnalNode");
const JMT_PLACEHOLDER = utf8("SPARSE_MERKLE_PLACEHOLDER_HASH__");
const NAME = /^[a-z0-9._-]{1,64}$/;

class Malformed extends Error {}

/**
 * A failed step: carries the step's detail to the result, and for the "validator set" step
 * which of its checks failed (`reason`: "header", or e.g. "proof at 4" for a handoff; the
 * shared vectors pin it as Rust's BundleError variant).
 */
class StepFailure extends Error {
  constructor(message, reason) {
    super(message);
    this.reason = reason;
  }
}

// ---- parsing: what serde accepts in Rust, as plain values with bytes decoded -------------

function object(v, what) {
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new Malformed(`${what} must be an object`);
  }
  return v;
}

function array(v, what) {
  if (!Array.isArray(v)) throw new Malformed(`${what} must be an array`);
  return v;
}

function string(v, what) {
  if (typeof v !== "string") throw new Malformed(`${what} must be a string`);
  return v;
}

function u64(v, what) {
  if (typeof v === "bigint" && v >= 0n && v < 1n << 64n) return v;
  // JSON numbers above 2^53 have already lost digits in JSON.parse: refuse rather than guess.
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  throw new Malformed(`${what} must be a non-negative integer below 2^53`);
}

/**
 * A u64 the bundle only shows (the transaction's nonce and expiry, whose hashed bytes are
 * checked instead). Scenarios use u64::MAX for "no expiry", which JSON.parse can only hold
 * rounded: such a value is kept as that rounded Number and compared as one.
 */
function shownU64(v, what) {
  if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 2 ** 64) {
    return Number.isSafeInteger(v) ? BigInt(v) : v;
  }
  return u64(v, what);
}

function sameU64(exact, shown) {
  return typeof shown === "bigint" ? exact === shown : Number(exact) === shown;
}

function u32(v, what) {
  if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) return v;
  throw new Malformed(`${what} must be a 32-bit unsigned integer`);
}

function id(v, len, what) {
  try {
    return idFromHex(v, len);
  } catch {
    throw new Malformed(`${what} must be ${len * 2} hex characters`);
  }
}

function name(v, what) {
  if (typeof v !== "string" || !NAME.test(v)) {
    throw new Malformed(`${what} must be a name of 1-64 characters a-z, 0-9, '.', '_', '-'`);
  }
  return v;
}

function text(v, what) {
  string(v, what);
  try {
    utf8(v);
  } catch {
    throw new Malformed(`${what} is not valid Unicode`);
  }
  return v;
}

function parseHeader(h, at = "header") {
  object(h, at);
  return {
    chainId: name(h.chain_id, `${at}.chain_id`),
    height: u64(h.height, `${at}.height`),
    parent: id(h.parent, 32, `${at}.parent`),
    timestampMs: u64(h.timestamp_ms, `${at}.timestamp_ms`),
    proposer: id(h.proposer, 32, `${at}.proposer`),
    txCount: u32(h.tx_count, `${at}.tx_count`),
    txRoot: id(h.tx_root, 32, `${at}.tx_root`),
    stateRoot: id(h.state_root, 32, `${at}.state_root`),
    receiptsRoot: id(h.receipts_root, 32, `${at}.receipts_root`),
    validatorSetHash: id(h.validator_set_hash, 32, `${at}.validator_set_hash`),
  };
}

function parseFinalization(f, at = "finalization") {
  object(f, at);
  return {
    height: u64(f.height, `${at}.height`),
    blockHash: id(f.block_hash, 32, `${at}.block_hash`),
    epoch: u64(f.epoch, `${at}.epoch`),
    view: u64(f.view, `${at}.view`),
    parentView: u64(f.parent_view, `${at}.parent_view`),
    signatures: array(f.signatures, `${at}.signatures`).map((s, i) => {
      object(s, `${at}.signatures[${i}]`);
      return {
        validator: id(s.validator, 32, `${at}.signatures[${i}].validator`),
        signature: id(s.signature, 64, `${at}.signatures[${i}].signature`),
      };
    }),
  };
}

/** A SetHandoff: a finalized block whose state names the next validator set. */
function parseHandoff(h, i) {
  const at = `handoffs[${i}]`;
  object(h, at);
  return {
    header: parseHeader(h.header, `${at}.header`),
    finalization: parseFinalization(h.finalization, `${at}.finalization`),
    validators: array(h.validators, `${at}.validators`).map((v, j) =>
      id(v, 32, `${at}.validators[${j}]`),
    ),
    proof: string(h.proof, `${at}.proof`),
  };
}

function parseMerkleProof(p, what) {
  object(p, what);
  return {
    index: u32(p.index, `${what}.index`),
    total: u32(p.total, `${what}.total`),
    siblings: array(p.siblings, `${what}.siblings`).map((s, i) =>
      id(s, 32, `${what}.siblings[${i}]`),
    ),
  };
}

function optional(v) {
  return v === null || v === undefined ? null : v;
}

function parseReceipt(r) {
  object(r, "receipt");
  const receipt = {
    txHash: id(r.tx_hash, 32, "receipt.tx_hash"),
    status: r.status,
    events: array(r.events, "receipt.events").map((e, i) => {
      const at = `receipt.events[${i}]`;
      object(e, at);
      return {
        topic: text(e.topic, `${at}.topic`),
        accounts: array(e.accounts, `${at}.accounts`).map((a, j) =>
          id(a, 32, `${at}.accounts[${j}]`),
        ),
        attributes: array(e.attributes, `${at}.attributes`).map((kv, j) => {
          if (!Array.isArray(kv) || kv.length !== 2) {
            throw new Malformed(`${at}.attributes[${j}] must be a [key, value] pair`);
          }
          return [text(kv[0], `${at}.attributes[${j}]`), text(kv[1], `${at}.attributes[${j}]`)];
        }),
      };
    }),
    writes: u32(r.writes, "receipt.writes"),
  };
  if (r.status === "failed") {
    const code = string(r.code, "receipt.code");
    if (!ERROR_CODES.has(code)) throw new Malformed(`receipt.code ${JSON.stringify(code)} is unknown`);
    receipt.code = code;
    const op = optional(r.operation);
    receipt.operation = op === null ? null : u32(op, "receipt.operation");
    receipt.message = text(r.message, "receipt.message");
  } else if (r.status !== "success") {
    throw new Malformed('receipt.status must be "success" or "failed"');
  }
  return receipt;
}

function parseTransaction(stx) {
  object(stx, "transaction");
  const tx = object(stx.tx, "transaction.tx");
  // The operations stay as JSON: their hash is checked through `tx_bytes`, not rebuilt here.
  array(tx.operations, "transaction.tx.operations");
  text(tx.memo, "transaction.tx.memo");
  array(stx.signatures, "transaction.signatures").forEach((s, i) => {
    object(s, `transaction.signatures[${i}]`);
    id(s.account, 32, `transaction.signatures[${i}].account`);
    id(s.signature, 64, `transaction.signatures[${i}].signature`);
  });
  return {
    chainId: name(tx.chain_id, "transaction.tx.chain_id"),
    signer: id(tx.signer, 32, "transaction.tx.signer"),
    nonce: shownU64(tx.nonce, "transaction.tx.nonce"),
    expiryHeight: shownU64(tx.expiry_height, "transaction.tx.expiry_height"),
  };
}

function parseRecord(p) {
  object(p, "proof");
  if (p.kind === "state") {
    const value = optional(p.value);
    return {
      kind: "state",
      key: text(p.key, "proof.key"),
      value: value === null ? null : string(value, "proof.value"),
      proof: string(p.proof, "proof.proof"),
    };
  }
  if (p.kind === "transaction") {
    const txBytes = optional(p.tx_bytes);
    return {
      kind: "transaction",
      txIndex: u32(p.tx_index, "proof.tx_index"),
      transaction: parseTransaction(p.transaction),
      receipt: parseReceipt(p.receipt),
      receiptJson: p.receipt,
      txProof: parseMerkleProof(p.tx_proof, "proof.tx_proof"),
      receiptProof: parseMerkleProof(p.receipt_proof, "proof.receipt_proof"),
      txBytes: txBytes === null ? null : string(txBytes, "proof.tx_bytes"),
    };
  }
  throw new Malformed('proof.kind must be "state" or "transaction"');
}

function parseBundle(input) {
  object(input, "bundle");
  // Accept the API's answer too: the bundle is its `proof` field.
  const b = input.header === undefined && input.proof && input.proof.header ? input.proof : input;
  return {
    reference: string(b.reference, "reference"),
    header: parseHeader(b.header),
    finalization: parseFinalization(b.finalization),
    record: parseRecord(b.proof),
    // Absent from bundles made before the set could change (serde's default); null is not a list.
    handoffs: b.handoffs === undefined ? [] : array(b.handoffs, "handoffs").map(parseHandoff),
  };
}

function parseAnchor(a) {
  object(a, "anchor");
  return {
    chainId: name(a.chainId, "anchor.chainId"),
    validators: array(a.validators, "anchor.validators").map((v, i) =>
      id(v, 32, `anchor.validators[${i}]`),
    ),
  };
}

// ---- hashing ------------------------------------------------------------------------------

function encodeHeader(h) {
  return new BorshWriter()
    .string(h.chainId)
    .u64(h.height)
    .fixed(h.parent)
    .u64(h.timestampMs)
    .fixed(h.proposer)
    .u32(h.txCount)
    .fixed(h.txRoot)
    .fixed(h.stateRoot)
    .fixed(h.receiptsRoot)
    .fixed(h.validatorSetHash)
    .bytes();
}

/** The set's keys sorted and deduplicated (as hex, whose order is the bytes' order). */
function validatorSet(validators) {
  return [...new Set(validators.map(bytesToHex))].sort();
}

/** `validator_set_hash`: SHA-256 of the borsh of the sorted, deduplicated set. */
export async function validatorSetHash(validators) {
  const set = validatorSet(validators).map(hexToBytes);
  return sha256(new BorshWriter().vec(set, (w, v) => w.fixed(v)).bytes());
}

/** The borsh encoding of a receipt, from its JSON (as the API and bundles carry it). */
export function encodeReceipt(json) {
  const r = parseReceipt(json);
  const w = new BorshWriter().fixed(r.txHash);
  if (r.status === "success") {
    w.u8(0);
  } else {
    w.u8(1).fixed(encodeErrorCode(r.code));
    w.option(r.operation, (w, op) => w.u32(op));
    w.string(r.message);
  }
  w.vec(r.events, (w, e) => {
    w.string(e.topic);
    w.vec(e.accounts, (w, a) => w.fixed(a));
    w.vec(e.attributes, (w, [k, v]) => w.string(k).string(v));
  });
  return w.u32(r.writes).bytes();
}

// ---- signatures ---------------------------------------------------------------------------

const P = (1n << 255n) - 19n;
// y coordinates (mod p) of the eight points of small order on edwards25519: the identity
// (1), order 2 (p-1), order 4 (0) and order 8 (±y8). ed25519-dalek's `verify_strict` refuses
// keys and signature R values among them (a small-order key "verifies" forged signatures);
// WebCrypto does not, so they are refused here first.
const Y8 = 2707385501144840649318225287225658788936804267575313519463743609750303402022n;
const SMALL_ORDER_Y = new Set([0n, 1n, P - 1n, Y8, P - Y8]);

/** Whether a 32-byte point encoding is one of the small-order points (any encoding of it). */
export function isSmallOrder(encoding) {
  let y = 0n;
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(i === 31 ? encoding[i] & 0x7f : encoding[i]);
  return SMALL_ORDER_Y.has(y % P);
}

async function verifyEd25519(publicKey, message, signature) {
  if (isSmallOrder(publicKey) || isSmallOrder(signature.subarray(0, 32))) return false;
  try {
    const subtle = globalThis.crypto.subtle;
    const key = await subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    return await subtle.verify("Ed25519", key, signature, message);
  } catch {
    // Not a point on the curve: no signature by it counts.
    return false;
  }
}

/** An unsigned LEB128 varint (commonware-codec's `UInt`) of a u64 given as a BigInt. */
function varint(value) {
  if (typeof value !== "bigint" || value < 0n || value >= 1n << 64n) {
    throw new EncodingError("varint: not a u64");
  }
  const out = [];
  while (value >= 0x80n) {
    out.push(Number(value & 0x7fn) | 0x80);
    value >>= 7n;
  }
  out.push(Number(value));
  return Uint8Array.from(out);
}

/** The namespace the consensus engine signs under (Rust `consensus_namespace`): "weft/" || chain id. */
export function consensusNamespace(chainId) {
  return utf8(`weft/${chainId}`);
}

/**
 * The bytes each validator signs to finalize a block (Rust `finalize_message`): the simplex
 * engine's finalize subject as its ed25519 scheme frames it,
 *   varint(len(ns_f)) || ns_f || varint(epoch) || varint(view) || varint(parentView) || blockHash
 * with ns_f = consensusNamespace(chainId) || "_FINALIZE". The numbers are BigInts.
 */
export function finalizeMessage(chainId, epoch, view, parentView, blockHash) {
  const namespace = concatBytes(consensusNamespace(chainId), FINALIZE_SUFFIX);
  return concatBytes(
    varint(BigInt(namespace.length)),
    namespace,
    varint(epoch),
    varint(view),
    varint(parentView),
    blockHash,
  );
}

/** Smallest number of signatures that is more than two thirds of `n` (Rust `quorum`). */
export function quorum(n) {
  return n - Math.floor(Math.max(n - 1, 0) / 3);
}

/**
 * Counts the distinct members of `validators` whose finalize vote for `blockHash` (at the
 * round `finalization` names, on `chainId`) verifies, as Rust `verify_finalization` does.
 * Unknown, repeated or invalid signatures do not count.
 */
async function countFinalizeVotes(finalization, chainId, blockHash, validators) {
  const set = new Set(validatorSet(validators));
  const needed = quorum(set.size);
  const message = finalizeMessage(
    chainId,
    finalization.epoch,
    finalization.view,
    finalization.parentView,
    blockHash,
  );
  const counted = new Set();
  for (const sig of finalization.signatures) {
    const v = bytesToHex(sig.validator);
    if (set.has(v) && !counted.has(v) && (await verifyEd25519(sig.validator, message, sig.signature))) {
      counted.add(v);
    }
  }
  return { counted: counted.size, needed, size: set.size, ok: needed > 0 && counted.size >= needed };
}

// ---- Merkle proofs ------------------------------------------------------------------------

/**
 * weft-crypto's MerkleProof::verify: RFC 6962 leaf/node hashing in rs_merkle's layout, where
 * the last node of an odd layer is promoted unchanged. Siblings are consumed bottom-up;
 * extra siblings are ignored as rs_merkle ignores them.
 */
async function merkleVerify(proof, root, item) {
  const { index, total, siblings } = proof;
  if (index >= total || total > MAX_BLOCK_TXS || siblings.length > 64) return false;
  const ONE = Uint8Array.of(1);
  let hash = await sha256(Uint8Array.of(0), item);
  let pos = index;
  let count = total;
  let next = 0;
  // rs_merkle walks bit-length(total) layers; the layers above the root only promote it.
  for (let layers = 32 - Math.clz32(total); layers > 0; layers--) {
    if (pos % 2 === 1 || pos + 1 < count) {
      if (next >= siblings.length) return false;
      const sibling = siblings[next++];
      hash = pos % 2 === 1 ? await sha256(ONE, sibling, hash) : await sha256(ONE, hash, sibling);
    }
    pos = Math.floor(pos / 2);
    count = Math.ceil(count / 2);
  }
  return bytesEqual(hash, root);
}

// ---- Jellyfish Merkle state proofs --------------------------------------------------------

/** borsh of jmt's SparseMerkleProof: Option<leaf>, then Vec of tagged sibling nodes. */
function decodeStateProof(bytes) {
  if (bytes.length > MAX_STATE_PROOF_BYTES) throw new EncodingError("state proof too large");
  const r = new BorshReader(bytes);
  const leafOf = (r) => ({ keyHash: r.fixed(32), valueHash: r.fixed(32) });
  const leaf = r.option(leafOf);
  const count = r.u32();
  const siblings = [];
  for (let i = 0; i < count; i++) {
    const tag = r.u8();
    if (tag === 0) siblings.push({ kind: "null" });
    else if (tag === 1) siblings.push({ kind: "internal", left: r.fixed(32), right: r.fixed(32) });
    else if (tag === 2) siblings.push({ kind: "leaf", ...leafOf(r) });
    else throw new EncodingError(`invalid sparse Merkle node tag ${tag}`);
  }
  if (!r.done()) throw new EncodingError("trailing bytes after the state proof");
  return { leaf, siblings };
}

function jmtNodeHash(node) {
  switch (node.kind) {
    case "null":
      return Promise.resolve(JMT_PLACEHOLDER);
    case "internal":
      return sha256(JMT_INTERNAL_DOMAIN, node.left, node.right);
    default:
      return sha256(JMT_LEAF_DOMAIN, node.keyHash, node.valueHash);
  }
}

function bit(hash, i) {
  return (hash[i >> 3] >> (7 - (i & 7))) & 1;
}

function commonPrefixBits(a, b) {
  let n = 0;
  while (n < 256 && bit(a, n) === bit(b, n)) n++;
  return n;
}

/** jmt's SparseMerkleProof::verify for `key` → `value` (null: absent) under `root`. */
async function verifyStateProof(proof, root, key, value) {
  const { leaf, siblings } = proof;
  if (siblings.length > 256) throw new StepFailure("the state proof has more than 256 siblings");
  const keyHash = await sha256(utf8(key));
  if (value !== null) {
    if (leaf === null) throw new StepFailure("a value is claimed but the proof shows absence");
    if (!bytesEqual(leaf.keyHash, keyHash)) throw new StepFailure("the proof is for another key");
    if (!bytesEqual(leaf.valueHash, await sha256(value))) {
      throw new StepFailure("the value does not match the proven value hash");
    }
  } else if (leaf !== null) {
    if (bytesEqual(leaf.keyHash, keyHash)) {
      throw new StepFailure("absence is claimed but the proof shows the key present");
    }
    // The leaf found must be the only key where this key would sit.
    if (commonPrefixBits(keyHash, leaf.keyHash) < siblings.length) {
      throw new StepFailure("the proof's leaf is not where this key would be");
    }
  }
  let hash = leaf === null ? JMT_PLACEHOLDER : await jmtNodeHash({ kind: "leaf", ...leaf });
  // Siblings run from the leaf up; sibling i sits beside the key's bit (depth - 1 - i).
  for (let i = 0; i < siblings.length; i++) {
    const sibling = await jmtNodeHash(siblings[i]);
    hash = bit(keyHash, siblings.length - 1 - i)
      ? await sha256(JMT_INTERNAL_DOMAIN, sibling, hash)
      : await sha256(JMT_INTERNAL_DOMAIN, hash, sibling);
  }
  if (!bytesEqual(hash, root)) {
    throw new StepFailure("the state proof does not match the header's state root");
  }
}

// ---- the record proof ---------------------------------------------------------------------

function decodeHex(text, what) {
  try {
    return hexToBytes(text);
  } catch {
    throw new StepFailure(`${what} is not valid hex`);
  }
}

async function checkStateRecord(record, header) {
  const proofBytes = decodeHex(record.proof, "the proof");
  let proof;
  try {
    proof = decodeStateProof(proofBytes);
  } catch (e) {
    throw new StepFailure(`the proof bytes are not a valid encoding: ${e.message}`);
  }
  const value = record.value === null ? null : decodeHex(record.value, "the value");
  await verifyStateProof(proof, header.stateRoot, record.key, value);
  return {
    detail: value === null ? `${record.key} is absent` : `${record.key} holds the value`,
    summary: { kind: "state", key: record.key, value: value === null ? null : bytesToHex(value) },
  };
}

/**
 * The canonical transaction bytes must be the transaction shown. Its leading fields are
 * checked against the JSON; the operations are not re-encoded here (the bytes, not the JSON,
 * are what the block commits to; the Rust verifier compares them in full).
 */
function checkTxBytes(bytes, tx) {
  const r = new BorshReader(bytes);
  let chainId, signer, nonce, expiry;
  try {
    chainId = r.string();
    signer = r.fixed(32);
    nonce = r.u64();
    expiry = r.u64();
  } catch (e) {
    throw new StepFailure(`the transaction bytes are not a valid encoding: ${e.message}`);
  }
  if (
    chainId !== tx.chainId ||
    !bytesEqual(signer, tx.signer) ||
    !sameU64(nonce, tx.nonce) ||
    !sameU64(expiry, tx.expiryHeight)
  ) {
    throw new StepFailure("the transaction bytes are not the transaction shown");
  }
  return { chainId, signer: bytesToHex(signer), nonce: nonce.toString(), expiryHeight: expiry.toString() };
}

async function checkTransactionRecord(record, header) {
  if (record.txBytes === null) {
    throw new StepFailure("the bundle carries no transaction bytes (made by an older node)");
  }
  const txBytes = decodeHex(record.txBytes, "tx_bytes");
  const shown = checkTxBytes(txBytes, record.transaction);
  const txHash = await sha256(txBytes);
  if (record.txProof.index !== record.txIndex || !(await merkleVerify(record.txProof, header.txRoot, txHash))) {
    throw new StepFailure("the transaction proof does not match the header's tx root");
  }
  if (!bytesEqual(record.receipt.txHash, txHash)) {
    throw new StepFailure("the receipt is for another transaction");
  }
  let receiptBytes;
  try {
    receiptBytes = encodeReceipt(record.receiptJson);
  } catch (e) {
    throw new StepFailure(`the receipt cannot be encoded: ${e.message}`);
  }
  const receiptHash = await sha256(receiptBytes);
  if (
    record.receiptProof.index !== record.txIndex ||
    !(await merkleVerify(record.receiptProof, header.receiptsRoot, receiptHash))
  ) {
    throw new StepFailure("the receipt proof does not match the header's receipts root");
  }
  const status = record.receipt.status === "success" ? "success" : `failed: ${record.receipt.code}`;
  return {
    detail: `transaction ${bytesToHex(txHash)} at index ${record.txIndex} (${status})`,
    summary: {
      kind: "transaction",
      txIndex: record.txIndex,
      txHash: bytesToHex(txHash),
      status: record.receipt.status,
      // Exact, from the hashed bytes (JSON numbers above 2^53 are rounded).
      signer: shown.signer,
      nonce: shown.nonce,
      expiryHeight: shown.expiryHeight,
    },
  };
}

// ---- validator-set changes ----------------------------------------------------------------

function compareBytes(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

/**
 * Rust `follow_handoffs`: from the trusted set, each handoff (oldest first) must be above the
 * previous one and below the bundle's block, on the trusted chain, name the set in force and
 * be finalized by it, and prove (under its state root) the well-formed set that comes next.
 * Returns the set in force at the bundle's block.
 */
async function followHandoffs(handoffs, height, trusted) {
  let current = trusted.validators;
  let previous = null;
  for (const h of handoffs) {
    const at = h.header.height;
    const where = `the validator-set change at height ${at}`;
    if ((previous !== null && at <= previous) || at >= height) {
      throw new StepFailure(`${where} is not above the previous one and below the bundle's block`, `order at ${at}`);
    }
    previous = at;
    if (h.header.chainId !== trusted.chainId) {
      throw new StepFailure(`${where} is for chain ${h.header.chainId}`, `chain at ${at}`);
    }
    if (!bytesEqual(h.header.validatorSetHash, await validatorSetHash(current))) {
      throw new StepFailure(`${where} names a validator set other than the one in force`, `set at ${at}`);
    }
    if (h.finalization.height !== at) {
      throw new StepFailure(`${where} has a finalization for height ${h.finalization.height}`, `height at ${at}`);
    }
    const blockHash = await sha256(encodeHeader(h.header));
    if (!bytesEqual(h.finalization.blockHash, blockHash)) {
      throw new StepFailure(
        `${where}: the finalization is for block ${bytesToHex(h.finalization.blockHash)}, the header hashes to ${bytesToHex(blockHash)}`,
        `block hash at ${at}`,
      );
    }
    const votes = await countFinalizeVotes(h.finalization, h.header.chainId, blockHash, current);
    if (!votes.ok) {
      throw new StepFailure(
        `${where}: finalization has ${votes.counted} valid signatures of the set in force, needs ${votes.needed}`,
        `quorum at ${at}`,
      );
    }
    const next = h.validators;
    if (
      next.length === 0 ||
      next.length > MAX_VALIDATORS ||
      !next.every((v, i) => i === 0 || compareBytes(next[i - 1], v) < 0)
    ) {
      throw new StepFailure(
        `${where} names a set that is empty, unsorted, repeats a validator or is too large`,
        `next set at ${at}`,
      );
    }
    const failed = `${where}: the state proof does not show its validator set under the header's state root`;
    let proof;
    try {
      proof = decodeStateProof(hexToBytes(h.proof));
    } catch {
      throw new StepFailure(failed, `proof at ${at}`);
    }
    const value = new BorshWriter().vec(next, (w, v) => w.fixed(v)).bytes();
    try {
      await verifyStateProof(proof, h.header.stateRoot, VALIDATORS_STATE_KEY, value);
    } catch (e) {
      throw new StepFailure(e instanceof StepFailure ? `${failed} (${e.message})` : failed, `proof at ${at}`);
    }
    current = next;
  }
  return current;
}

// ---- the bundle ---------------------------------------------------------------------------

/**
 * Verifies a proof bundle (or an API answer whose `proof` is one) against a trust anchor.
 * Never throws: a malformed bundle or anchor gives `{ok: false, error}`.
 *
 * @param {object} bundle the ProofBundle JSON
 * @param {{chainId: string, validators: string[]}} anchor the trusted chain id and validators
 * @returns {Promise<{ok: boolean, height?: number, blockHash?: string, timestampMs?: number,
 *   reference?: string, record?: object, error?: string,
 *   steps: {name: string, ok: boolean, detail?: string, reason?: string}[]}>}
 */
export async function verifyBundle(bundle, anchor) {
  const steps = [];
  let b, trusted;
  try {
    b = parseBundle(bundle);
  } catch (e) {
    return { ok: false, error: `malformed bundle: ${e.message}`, steps };
  }
  try {
    trusted = parseAnchor(anchor);
  } catch (e) {
    return { ok: false, error: `malformed trust anchor: ${e.message}`, steps };
  }
  const { header, finalization, record, handoffs } = b;
  let result;
  const step = async (stepName, check) => {
    try {
      const detail = await check();
      steps.push(detail === undefined ? { name: stepName, ok: true } : { name: stepName, ok: true, detail });
      return true;
    } catch (e) {
      const detail = e instanceof StepFailure ? e.message : `unexpected failure: ${e && e.message}`;
      const failed = { name: stepName, ok: false, detail };
      if (e instanceof StepFailure && e.reason !== undefined) failed.reason = e.reason;
      steps.push(failed);
      result = { ok: false, error: `${stepName}: ${detail}`, steps };
      return false;
    }
  };
  let blockHash;
  let recordSummary;
  let validators;
  const passed =
    (await step("chain", () => {
      if (header.chainId !== trusted.chainId) {
        throw new StepFailure(`bundle is for chain ${header.chainId}, expected ${trusted.chainId}`);
      }
      return header.chainId;
    })) &&
    (await step("validator set", async () => {
      validators = await followHandoffs(handoffs, header.height, trusted);
      if (!bytesEqual(header.validatorSetHash, await validatorSetHash(validators))) {
        throw new StepFailure(
          handoffs.length === 0
            ? "the header names a validator set other than the trusted one"
            : "the header names a validator set other than the one its validator-set changes reach",
          "header",
        );
      }
      const size = validatorSet(validators).length;
      if (handoffs.length === 0) return `${size} trusted validators`;
      const heights = handoffs.map((h) => h.header.height).join(", ");
      return (
        `${size} validators, reached from the ${validatorSet(trusted.validators).length} trusted ones ` +
        `through ${handoffs.length} validator-set change${handoffs.length === 1 ? "" : "s"} (after block${handoffs.length === 1 ? "" : "s"} ${heights})`
      );
    })) &&
    (await step("height", () => {
      if (finalization.height !== header.height) {
        throw new StepFailure(`finalization is for height ${finalization.height}, header is ${header.height}`);
      }
      return `height ${header.height}`;
    })) &&
    (await step("block hash", async () => {
      blockHash = await sha256(encodeHeader(header));
      if (!bytesEqual(finalization.blockHash, blockHash)) {
        throw new StepFailure(
          `finalization is for block ${bytesToHex(finalization.blockHash)}, the header hashes to ${bytesToHex(blockHash)}`,
        );
      }
      return bytesToHex(blockHash);
    })) &&
    (await step("finalization quorum", async () => {
      // The header's chain id is the trusted one (the "chain" step checked it), and
      // `validators` the set in force at its height (the "validator set" step).
      const votes = await countFinalizeVotes(finalization, header.chainId, blockHash, validators);
      if (!votes.ok) {
        throw new StepFailure(`finalization has ${votes.counted} valid validator signatures, needs ${votes.needed}`);
      }
      return (
        `${votes.counted} of ${votes.size} validators signed (needs ${votes.needed}), ` +
        `epoch ${finalization.epoch} view ${finalization.view} (parent view ${finalization.parentView})`
      );
    })) &&
    (await step("record proof", async () => {
      const checked =
        record.kind === "state"
          ? await checkStateRecord(record, header)
          : await checkTransactionRecord(record, header);
      recordSummary = checked.summary;
      return checked.detail;
    }));
  if (!passed) return result;
  return {
    ok: true,
    height: Number(header.height),
    blockHash: bytesToHex(blockHash),
    timestampMs: Number(header.timestampMs),
    reference: b.reference,
    record: recordSummary,
    steps,
  };
}
