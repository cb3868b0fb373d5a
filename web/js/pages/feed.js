// A sensor (oracle) feed: its device, thresholds and breaches, and its readings over time.

import { api } from "../api.js";
import { chart } from "../ui/chart.js";
import { fields, h, section } from "../ui/dom.js";
import { fmtFixed, fmtTime, plural } from "../ui/format.js";
import { accountLink, blockLink, href, link, tokenLink } from "../ui/links.js";
import { note } from "../ui/status.js";
import { table } from "../ui/table.js";

const attr = (event, name) => event.attributes.find(([k]) => k === name)?.[1];

/**
 * The feed's accepted readings, oldest first: the whole history from its `oracle.reading`
 * events when the viewer may read them, else the feed record's recent window.
 */
export async function readingsOf(id, feed) {
  try {
    const out = [];
    let from = feed.registered_at ?? 0;
    // Pages of events by topic cover everyone's feeds; keep this one's.
    for (let page = 0; page < 20; page++) {
      const { events } = await api.events({ topic: "oracle.reading", from_height: from, limit: 1000 });
      for (const e of events) {
        if (attr(e.event, "feed") !== id) continue;
        out.push({ value: Number(attr(e.event, "value")), observed_at_ms: Number(attr(e.event, "observed_at_ms")), height: e.height });
      }
      if (events.length < 1000) break;
      from = events.at(-1).height + 1;
    }
    if (out.length >= (feed.window ?? []).length) return { readings: out, complete: true };
  } catch {
    // Fall back to the window kept in the record.
  }
  return { readings: feed.window ?? [], complete: (feed.count ?? 0) <= (feed.window ?? []).length };
}

/** The name of the first threshold `value` falls outside, or null. */
export function breachOf(feed, value) {
  for (const [name, t] of Object.entries(feed.thresholds ?? {})) {
    if ((t.min !== null && t.min !== undefined && value < t.min) || (t.max !== null && t.max !== undefined && value > t.max)) {
      return `${name} (${t.min !== null && t.min !== undefined ? fmtFixed(t.min, feed.scale) : "−∞"} to ${t.max !== null && t.max !== undefined ? fmtFixed(t.max, feed.scale) : "∞"} ${feed.unit})`;
    }
  }
  return null;
}

/** Feed details, thresholds and the readings chart (`history` from `readingsOf`, if read). */
export async function feedPanel(id, feed, history) {
  const { readings, complete } = history ?? (await readingsOf(id, feed));
  const unit = feed.unit ?? "";
  const scaled = (v) => Number(v) / 10 ** (feed.scale ?? 0);
  const refs = [];
  for (const [name, t] of Object.entries(feed.thresholds ?? {})) {
    if (t.min !== null && t.min !== undefined) refs.push({ y: scaled(t.min), label: `${name} min` });
    if (t.max !== null && t.max !== undefined) refs.push({ y: scaled(t.max), label: `${name} max` });
  }
  const marks = readings.map((r, i) => (breachOf(feed, r.value) ? i : -1)).filter((i) => i >= 0);
  return h(
    "div",
    { class: "feed" },
    fields([
      ["Feed", link(href.feed(id), id)],
      ["Measures", `${feed.kind} in ${unit}`],
      ["Owner", accountLink(feed.owner)],
      ["Device key (signs every reading)", accountLink(feed.device)],
      ["Readings accepted", String(feed.count ?? 0)],
      ["Latest", feed.last ? `${fmtFixed(feed.last.value, feed.scale)} ${unit} at ${fmtTime(feed.last.observed_at_ms)} (block ${feed.last.height})` : "none yet"],
      ["Issues", feed.issues ? h("span", null, tokenLink(feed.issues.token), " to ", accountLink(feed.issues.to), `, ${feed.issues.issued} so far`) : null],
    ]),
    table({
      caption: "Thresholds",
      columns: [
        { label: "Threshold", cell: (t) => t.name },
        { label: "Range", cell: (t) => `${t.min !== null && t.min !== undefined ? fmtFixed(t.min, feed.scale) : "−∞"} … ${t.max !== null && t.max !== undefined ? fmtFixed(t.max, feed.scale) : "∞"} ${unit}` },
        { label: "Set at", cell: (t) => blockLink(t.set_at) },
        {
          label: "Breach",
          cell: (t) =>
            t.breach
              ? h("span", { class: "badge breach" }, `breached at block ${t.breach.first_height}: ${fmtFixed(t.breach.last_value, feed.scale)} ${unit}, ${plural(t.breach.count, "reading")} outside`)
              : h("span", { class: "badge ok" }, "never breached"),
        },
      ],
      rows: Object.entries(feed.thresholds ?? {}).map(([name, t]) => ({ name, ...t })),
      empty: "No thresholds.",
    }),
    chart({
      title: `Readings of ${id} (${unit})`,
      desc: `${readings.length} readings${complete ? "" : " (the latest the record keeps)"}; dashed lines are thresholds, red points lie outside one.`,
      kind: "line",
      points: readings.map((r) => ({
        x: new Date(Number(r.observed_at_ms)).toISOString().slice(11, 19),
        y: scaled(r.value),
        title: `${fmtFixed(r.value, feed.scale)} ${unit} at ${fmtTime(r.observed_at_ms)}, block ${r.height}`,
      })),
      format: (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1)),
      refs,
      marks,
      testid: "feed-chart",
    }),
    complete ? null : note("Only the latest readings are shown: the record keeps a window, and the full history's events are not visible to you."),
  );
}

export async function render(ctx) {
  const { id } = ctx.params;
  ctx.setTitle(`Feed ${id}`);
  const feed = (await api.state(`feed/${id}`)).value;
  if (!ctx.alive()) return;
  ctx.view.append(h("h1", null, "Sensor feed ", h("span", { class: "mono" }, id)));
  if (!feed) {
    ctx.view.append(note(`There is no feed ${id}.`));
    return;
  }
  const panel = await feedPanel(id, feed);
  if (!ctx.alive()) return;
  ctx.view.append(section("Feed", panel));
}
