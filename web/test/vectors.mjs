// Runs the vectors shared with Rust (fixtures/web-vectors.json, made by
// crates/weft-crypto/tests/web_vectors.rs) through the browser modules verify.js and sign.js.
//
//   node web/test/vectors.mjs fixtures/web-vectors.json
//
// Exits non-zero on any disagreement. `runVectors` is exported so the same checks can run in a
// browser page (the lead's Chromium test) given the parsed file.

import { bytesToHex, hexToBytes } from "../js/encoding.js";
import { importSeed, signRequest } from "../js/sign.js";
import {
  ERROR_CODES,
  STEPS,
  encodeErrorCode,
  finalizeMessage,
  isSmallOrder,
  verifyBundle,
} from "../js/verify.js";

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Checks every vector; returns {passed, failures: [string]}. */
export async function runVectors(file) {
  const failures = [];
  let passed = 0;
  const expectThat = (ok, what) => {
    if (ok) passed++;
    else failures.push(what);
  };

  expectThat(same(file.steps, [...STEPS]), `step names: file ${JSON.stringify(file.steps)}, verify.js ${JSON.stringify(STEPS)}`);

  for (const r of file.requests) {
    const label = `request ${r.method} ${r.path}?${r.query ?? ""} at ${r.created}`;
    try {
      const key = await importSeed(r.seed);
      expectThat(key.publicKeyHex === r.account, `${label}: account ${key.publicKeyHex}, expected ${r.account}`);
      // The seed as bytes imports to the same key.
      const again = await importSeed(hexToBytes(r.seed));
      expectThat(again.publicKeyHex === r.account, `${label}: seed bytes give another key`);
      const got = await signRequest(key, r.method, r.path, r.query, r.created);
      expectThat(got.signatureInput === r.signature_input, `${label}: Signature-Input ${got.signatureInput}, expected ${r.signature_input}`);
      expectThat(got.signature === r.signature, `${label}: Signature ${got.signature}, expected ${r.signature}`);
    } catch (e) {
      failures.push(`${label}: threw ${e && e.stack}`);
    }
  }

  const messages = file.finalize_messages ?? [];
  expectThat(messages.length > 0, "the file has no finalize_messages");
  for (const m of messages) {
    const label = `finalize message ${m.chain_id} epoch ${m.epoch} view ${m.view} parent ${m.parent_view}`;
    try {
      const got = bytesToHex(
        finalizeMessage(m.chain_id, BigInt(m.epoch), BigInt(m.view), BigInt(m.parent_view), hexToBytes(m.block_hash)),
      );
      expectThat(got === m.message, `${label}: verify.js builds ${got}, Rust ${m.message}`);
    } catch (e) {
      failures.push(`${label}: threw ${e && e.stack}`);
    }
  }

  let acrossChanges = 0;
  let handoffReasons = 0;
  for (const v of file.bundles) {
    const handoffs = v.bundle && Array.isArray(v.bundle.handoffs) ? v.bundle.handoffs.length : 0;
    if (v.expect.ok && handoffs > 0) acrossChanges++;
    if (v.expect.reason !== undefined) handoffReasons++;
    let got;
    try {
      got = await verifyBundle(v.bundle, v.anchor);
    } catch (e) {
      failures.push(`bundle "${v.name}": verifyBundle threw ${e && e.stack}`);
      continue;
    }
    const e = v.expect;
    const failed = got.steps.find((s) => !s.ok);
    let agrees;
    if (e.ok) {
      agrees =
        got.ok === true &&
        got.height === e.height &&
        got.blockHash === e.block_hash &&
        same(got.steps.map((s) => s.name), [...STEPS]) &&
        got.steps.every((s) => s.ok);
    } else if (e.malformed) {
      agrees = got.ok === false && typeof got.error === "string" && got.steps.length === 0;
    } else {
      // Every step before the failing one passed, in order, and the failing one is the last.
      const names = got.steps.map((s) => s.name);
      agrees =
        got.ok === false &&
        typeof got.error === "string" &&
        failed !== undefined &&
        failed.name === e.step &&
        failed === got.steps[got.steps.length - 1] &&
        same(names, STEPS.slice(0, names.length)) &&
        // Which check of the step failed, where the vector pins it (validator-set changes).
        (e.reason === undefined || failed.reason === e.reason);
    }
    expectThat(
      agrees,
      `bundle "${v.name}": expected ${JSON.stringify(e)}, got ${JSON.stringify({ ok: got.ok, error: got.error, height: got.height, blockHash: got.blockHash, steps: got.steps })}`,
    );
  }
  expectThat(
    acrossChanges >= 2 && handoffReasons >= 10,
    `the file has ${acrossChanges} valid bundles across validator-set changes and ${handoffReasons} failing ones with a reason`,
  );
  // A valid bundle across changes, stripped of its handoffs, fails at the validator set; and
  // the "validator set" step of a valid one says how the set was reached.
  const across = file.bundles.find((v) => v.expect.ok && (v.bundle.handoffs ?? []).length > 0);
  if (across) {
    const stripped = { ...across.bundle };
    delete stripped.handoffs;
    const got = await verifyBundle(stripped, across.anchor);
    const failed = got.steps.find((s) => !s.ok);
    expectThat(
      got.ok === false && failed?.name === "validator set" && failed?.reason === "header",
      `bundle "${across.name}" without its handoffs: ${JSON.stringify(got)}`,
    );
    const ok = await verifyBundle(across.bundle, across.anchor);
    const detail = ok.steps.find((s) => s.name === "validator set")?.detail ?? "";
    expectThat(
      ok.ok && detail.includes(`through ${across.bundle.handoffs.length} validator-set change`),
      `bundle "${across.name}": validator set step says ${JSON.stringify(detail)}`,
    );
  }

  expectThat(
    file.error_codes.length === ERROR_CODES.size,
    `error codes: the file has ${file.error_codes.length}, verify.js ${ERROR_CODES.size}`,
  );
  for (const c of file.error_codes) {
    let bytes;
    try {
      bytes = bytesToHex(encodeErrorCode(c.name));
    } catch (e) {
      bytes = `(${e.message})`;
    }
    expectThat(ERROR_CODES.get(c.name) === c.number && bytes === c.borsh, `error code ${c.name}: verify.js encodes ${bytes}, Rust ${c.borsh}`);
  }
  for (const k of file.small_order_keys) {
    expectThat(isSmallOrder(hexToBytes(k)), `small-order key ${k} not recognised`);
  }
  for (const k of file.valid_keys) {
    expectThat(!isSmallOrder(hexToBytes(k)), `valid key ${k} taken for small-order`);
  }
  return { passed, failures };
}

async function main(path) {
  const { readFile } = await import("node:fs/promises");
  const file = JSON.parse(await readFile(path, "utf8"));
  const { passed, failures } = await runVectors(file);
  for (const f of failures) console.error(`FAIL ${f}`);
  console.log(
    `${passed} checks passed, ${failures.length} failed ` +
      `(${file.requests.length} request signatures, ${(file.finalize_messages ?? []).length} finalize messages, ` +
      `${file.bundles.length} bundles)`,
  );
  return failures.length === 0 && passed > 0;
}

const isMain = typeof process !== "undefined" && process.argv[1] && import.meta.url === (await import("node:url")).pathToFileURL(process.argv[1]).href;
if (isMain) {
  const path = process.argv[2];
  if (!path) {
    console.error("usage: node web/test/vectors.mjs fixtures/web-vectors.json");
    process.exit(2);
  }
  main(path).then(
    (ok) => process.exit(ok ? 0 : 1),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
