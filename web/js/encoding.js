// Byte helpers for the explorer's cryptography: strict hex, base64, UTF-8, SHA-256 and the
// subset of borsh (Weft's canonical encoding) that verify.js needs to rebuild hashed bytes.
//
// Every decoder here treats its input as hostile: it throws EncodingError on anything the
// Rust side would refuse, and callers turn that into a failed check, never a crash.

export class EncodingError extends Error {}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** Bytes of an even-length hex string (either case, no prefix); throws on anything else. */
export function hexToBytes(text) {
  if (typeof text !== "string" || !HEX.test(text)) {
    throw new EncodingError("not a hex string");
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}

/** Lower-case hex of `bytes`. */
export function bytesToHex(bytes) {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/**
 * A fixed-size id (hash, account, signature) from its textual form. Like the Rust `FromStr`
 * of weft-types ids: an optional `0x` prefix, then exactly `len` bytes of hex.
 */
export function idFromHex(text, len) {
  if (typeof text !== "string") throw new EncodingError(`expected ${len * 2} hex characters`);
  const body = text.startsWith("0x") ? text.slice(2) : text;
  if (body.length !== len * 2) throw new EncodingError(`expected ${len * 2} hex characters`);
  return hexToBytes(body);
}

/** Standard base64 with padding (RFC 4648 §4), as the Rust `base64::STANDARD` engine. */
export function bytesToBase64(bytes) {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/** UTF-8 of a string; a lone surrogate (which serde_json refuses) throws instead of becoming U+FFFD. */
export function utf8(text) {
  if (typeof text !== "string") throw new EncodingError("expected a string");
  const wellFormed =
    typeof text.isWellFormed === "function"
      ? text.isWellFormed()
      : !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
  if (!wellFormed) throw new EncodingError("string is not valid Unicode");
  return utf8Encoder.encode(text);
}

export function concatBytes(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** SHA-256 through WebCrypto. */
export async function sha256(...parts) {
  const data = parts.length === 1 ? parts[0] : concatBytes(...parts);
  return new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", data));
}

const U64_MAX = (1n << 64n) - 1n;
const U128_MAX = (1n << 128n) - 1n;

function toBigInt(value, max, what) {
  let v;
  if (typeof value === "bigint") v = value;
  else if (typeof value === "number" && Number.isSafeInteger(value)) v = BigInt(value);
  else throw new EncodingError(`${what} must be an exact integer`);
  if (v < 0n || v > max) throw new EncodingError(`${what} is out of range`);
  return v;
}

/** Accumulates borsh bytes: little-endian integers, u32-length-prefixed strings and vectors. */
export class BorshWriter {
  constructor() {
    this.parts = [];
  }
  u8(v) {
    if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new EncodingError("u8 out of range");
    this.parts.push(Uint8Array.of(v));
    return this;
  }
  u32(v) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      throw new EncodingError("u32 out of range");
    }
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    this.parts.push(b);
    return this;
  }
  /** u64 from a safe-integer Number or a BigInt. */
  u64(v) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, toBigInt(v, U64_MAX, "u64"), true);
    this.parts.push(b);
    return this;
  }
  u128(v) {
    const x = toBigInt(v, U128_MAX, "u128");
    const b = new Uint8Array(16);
    const view = new DataView(b.buffer);
    view.setBigUint64(0, x & U64_MAX, true);
    view.setBigUint64(8, x >> 64n, true);
    this.parts.push(b);
    return this;
  }
  /** Raw bytes with no length prefix (fixed-size arrays such as hashes). */
  fixed(bytes) {
    this.parts.push(bytes);
    return this;
  }
  string(text) {
    const b = utf8(text);
    this.u32(b.length);
    this.parts.push(b);
    return this;
  }
  /** A vector: u32 count, then each item written by `each(writer, item)`. */
  vec(items, each) {
    if (!Array.isArray(items)) throw new EncodingError("expected an array");
    this.u32(items.length);
    for (const item of items) each(this, item);
    return this;
  }
  option(value, each) {
    if (value === null || value === undefined) return this.u8(0);
    this.u8(1);
    each(this, value);
    return this;
  }
  bytes() {
    return concatBytes(...this.parts);
  }
}

/** Reads borsh from untrusted bytes; every read past the end throws. */
export class BorshReader {
  constructor(bytes) {
    this.buf = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.at = 0;
  }
  need(n) {
    if (this.at + n > this.buf.length) throw new EncodingError("unexpected end of bytes");
  }
  u8() {
    this.need(1);
    return this.buf[this.at++];
  }
  u32() {
    this.need(4);
    const v = this.view.getUint32(this.at, true);
    this.at += 4;
    return v;
  }
  /** u64 as a BigInt. */
  u64() {
    this.need(8);
    const v = this.view.getBigUint64(this.at, true);
    this.at += 8;
    return v;
  }
  fixed(n) {
    this.need(n);
    const out = this.buf.slice(this.at, this.at + n);
    this.at += n;
    return out;
  }
  string() {
    const n = this.u32();
    try {
      return utf8Decoder.decode(this.fixed(n));
    } catch (e) {
      if (e instanceof EncodingError) throw e;
      throw new EncodingError("string is not valid UTF-8");
    }
  }
  /** borsh 1.x refuses any Option tag other than 0 and 1. */
  option(each) {
    const tag = this.u8();
    if (tag === 0) return null;
    if (tag === 1) return each(this);
    throw new EncodingError(`invalid Option tag ${tag}`);
  }
  /** Whether every byte was consumed (`borsh::from_slice` refuses trailing bytes). */
  done() {
    return this.at === this.buf.length;
  }
}
