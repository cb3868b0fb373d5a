// Signed reads from the browser: the member's account key signs each API request in the shape
// of HTTP Message Signatures (RFC 9421), exactly as crates/weft-crypto/src/request_auth.rs
// (`sign_request`) does, so the node can rebuild the signature base from the request alone.
//
// Ed25519 goes through WebCrypto only. The secret seed is imported once; the CryptoKey handed
// back is not extractable, so page code can sign with it but not read the seed back.

import { bytesToBase64, bytesToHex, concatBytes, EncodingError, idFromHex } from "./encoding.js";

// RFC 8410 PKCS#8 wrapping of a 32-byte Ed25519 seed: the fixed DER prefix, then the seed.
const PKCS8_ED25519_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

const LABEL = "sig1";
const COMPONENTS = '("@method" "@path" "@query")';

function seedBytes(seed) {
  if (seed instanceof Uint8Array) {
    if (seed.length !== 32) throw new EncodingError("an Ed25519 seed is 32 bytes");
    return seed;
  }
  if (typeof seed === "string") return idFromHex(seed.trim(), 32);
  throw new EncodingError("the seed must be 32 bytes or 64 hex characters");
}

function base64UrlToBytes(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/**
 * Imports an account key from its 32-byte secret seed (the Rust `Keypair::from_seed`; the
 * CLI's key files hold it as 64 hex characters).
 * @returns {Promise<{privateKey: CryptoKey, publicKeyHex: string}>}
 */
export async function importSeed(seed) {
  const pkcs8 = concatBytes(PKCS8_ED25519_PREFIX, seedBytes(seed));
  const subtle = globalThis.crypto.subtle;
  // WebCrypto derives the public key but only shows it through an export, so import once
  // extractable to read it, then keep a non-extractable copy for signing.
  const readable = await subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, true, ["sign"]);
  const jwk = await subtle.exportKey("jwk", readable);
  const publicKey = base64UrlToBytes(jwk.x);
  if (publicKey.length !== 32) throw new EncodingError("unexpected Ed25519 public key size");
  const privateKey = await subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
  return { privateKey, publicKeyHex: bytesToHex(publicKey) };
}

// Rust's `to_ascii_uppercase`: String.prototype.toUpperCase would also change non-ASCII
// letters and so sign a different base than the node rebuilds.
function asciiUpper(text) {
  return text.replace(/[a-z]/g, (c) => c.toUpperCase());
}

function createdText(created) {
  if (typeof created === "bigint" && created >= 0n && created < 1n << 64n) return created.toString();
  if (typeof created === "number" && Number.isSafeInteger(created) && created >= 0) {
    return String(created);
  }
  throw new EncodingError("created must be Unix seconds (a non-negative integer)");
}

/**
 * The `Signature-Input` and `Signature` header values authenticating a request to
 * `path?query` at `createdSecs`. `query` is the raw query string without `?`, or null.
 * @returns {Promise<{signatureInput: string, signature: string}>}
 */
export async function signRequest(key, method, path, query, createdSecs) {
  if (!key || !key.privateKey || typeof key.publicKeyHex !== "string") {
    throw new EncodingError("sign with a key from importSeed");
  }
  if (typeof method !== "string" || typeof path !== "string") {
    throw new EncodingError("method and path must be strings");
  }
  if (query !== null && query !== undefined && typeof query !== "string") {
    throw new EncodingError("query must be a string or null");
  }
  const params = `${COMPONENTS};created=${createdText(createdSecs)};keyid="${key.publicKeyHex}";alg="ed25519"`;
  // RFC 9421 §2.5: one line per component, then @signature-params; a request without a
  // query has the @query "?".
  const base =
    `"@method": ${asciiUpper(method)}\n` +
    `"@path": ${path}\n` +
    `"@query": ?${query ?? ""}\n` +
    `"@signature-params": ${params}`;
  const signature = await globalThis.crypto.subtle.sign(
    "Ed25519",
    key.privateKey,
    new TextEncoder().encode(base),
  );
  return {
    signatureInput: `${LABEL}=${params}`,
    signature: `${LABEL}=:${bytesToBase64(new Uint8Array(signature))}:`,
  };
}
