// Text forms of ledger values: hashes, times, token amounts.

/** `abcdef12…9a8b7c` for a long hex string; short strings unchanged. */
export function shortHex(hex, head = 8, tail = 6) {
  if (typeof hex !== "string") return String(hex ?? "");
  return hex.length > head + tail + 1 ? `${hex.slice(0, head)}…${hex.slice(-tail)}` : hex;
}

/** A Unix-milliseconds time as `2026-11-25 14:03:07.123 UTC`. */
export function fmtTime(ms) {
  const n = Number(ms);
  if (!Number.isFinite(n)) return "—";
  const d = new Date(n);
  if (Number.isNaN(d.getTime())) return "—";
  return d.toISOString().replace("T", " ").replace("Z", " UTC");
}

/** `3 s ago`, `5 min ago`… relative to now. */
export function fmtAgo(ms) {
  const diff = Date.now() - Number(ms);
  if (!Number.isFinite(diff)) return "";
  if (diff < 0) return "in the future";
  const s = Math.round(diff / 1000);
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** A duration in milliseconds as `850 ms` or `2.4 s`. */
export function fmtDuration(ms) {
  const n = Number(ms);
  if (!Number.isFinite(n)) return "—";
  if (Math.abs(n) < 1000) return `${Math.round(n)} ms`;
  if (Math.abs(n) < 60000) return `${(n / 1000).toFixed(1)} s`;
  return `${(n / 60000).toFixed(1)} min`;
}

/**
 * A token amount in smallest units (a decimal string, possibly beyond 2^53) shown with the
 * token's decimals: `fmtAmount("123456", 2)` is `1,234.56`. Exact: BigInt, no floats.
 */
export function fmtAmount(amount, decimals = 0) {
  let units;
  try {
    units = BigInt(String(amount));
  } catch {
    return String(amount);
  }
  const negative = units < 0n;
  if (negative) units = -units;
  const scale = 10n ** BigInt(Math.max(0, Math.min(38, Number(decimals) || 0)));
  const whole = (units / scale).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  let out = whole;
  if (scale > 1n) {
    const frac = (units % scale).toString().padStart(String(scale).length - 1, "0");
    out = `${whole}.${frac}`;
  }
  return negative ? `-${out}` : out;
}

/** A fixed-point reading `value × 10^-scale`, exact. */
export function fmtFixed(value, scale) {
  return fmtAmount(value, scale).replace(/,/g, "");
}

/** `1 block`, `3 blocks`. */
export function plural(n, word, words = `${word}s`) {
  return `${n} ${Number(n) === 1 ? word : words}`;
}

/** u64::MAX (and anything past 2^53 that JSON rounded) means "never". */
export function isNever(n) {
  return typeof n === "number" && n >= Number.MAX_SAFE_INTEGER;
}
