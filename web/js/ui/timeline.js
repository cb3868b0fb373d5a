// The provenance timeline of an asset: EPCIS events (what, when, where, why), sensor
// readings and ledger facts, oldest first, as an ordered list.

import { fields, h } from "./dom.js";
import { fmtFixed, fmtTime } from "./format.js";
import { accountLink, assetLink, blockLink, href, link } from "./links.js";

/** GS1 CBV URNs (`urn:epcglobal:cbv:bizstep:shipping`) read better as their last word. */
function cbv(text) {
  if (!text) return null;
  const m = /^urn:epcglobal:cbv:[a-z]+:(.+)$/.exec(text);
  return (m ? m[1] : text).replace(/_/g, " ");
}

function assets(list) {
  const span = h("span", { class: "list" });
  (list ?? []).forEach((id, i) => {
    if (i > 0) span.append(", ");
    span.append(assetLink(id));
  });
  return span;
}

/** What an EPCIS event says happened to which objects. */
function what(kind) {
  switch (kind?.type) {
    case "ObjectEvent":
      return h("span", null, `${kind.action ?? ""} `, assets(kind.epc_list));
    case "AggregationEvent":
      return h(
        "span",
        null,
        kind.action === "DELETE" ? "unpacked " : kind.action === "ADD" ? "packed " : "observed ",
        assets(kind.child_epcs),
        kind.action === "DELETE" ? " from " : " in ",
        assetLink(kind.parent_id),
      );
    case "TransformationEvent":
      return h("span", null, assets(kind.input_epc_list), " → ", assets(kind.output_epc_list));
    default:
      return h("span", null, "unknown event kind");
  }
}

/** A timeline item for an EPCIS event record (`epcis/event/<id>`). */
export function epcisItem(id, record, via) {
  const ev = record.event ?? {};
  const kindName = (ev.kind?.type ?? "Event").replace(/Event$/, "");
  const sensors = (ev.sensor_reports ?? []).map(
    (s) => `${s.kind}: ${fmtFixed(s.value, s.scale)} ${s.uom}`,
  );
  return {
    sortTime: Number(ev.event_time_ms),
    height: record.recorded_at,
    badge: `EPCIS ${kindName}`,
    kind: "epcis",
    title: cbv(ev.biz_step) ?? "event",
    via,
    body: fields([
      ["What", what(ev.kind)],
      ["When", `${fmtTime(ev.event_time_ms)} (local offset ${ev.event_time_zone_offset || "—"})`],
      ["Where", ev.read_point || ev.biz_location ? h("span", null, ev.read_point || "—", ev.biz_location && ev.biz_location !== ev.read_point ? ` at ${ev.biz_location}` : "") : null],
      ["Why", [cbv(ev.biz_step), cbv(ev.disposition)].filter(Boolean).join(" · ") || null],
      ["Business documents", (ev.biz_transactions ?? []).length ? (ev.biz_transactions ?? []).map(([t, v]) => `${cbv(t)} ${v}`).join("; ") : null],
      ["Sensor", sensors.length ? sensors.join("; ") : null],
      ["Recorded by", record.recorder ? accountLink(record.recorder) : null],
      ["Event", link(href.state(`epcis/event/${id}`), id)],
    ]),
  };
}

/** A timeline item for one sensor reading of a feed. */
export function readingItem(feedId, feed, reading, breachedBy) {
  const value = `${fmtFixed(reading.value, feed.scale)} ${feed.unit}`;
  return {
    sortTime: Number(reading.observed_at_ms),
    height: reading.height,
    badge: breachedBy ? "Breach" : "Reading",
    kind: breachedBy ? "breach" : "reading",
    title: `${feed.kind ?? "reading"} ${value}`,
    body: fields([
      ["Feed", link(href.feed(feedId), feedId)],
      ["Observed", fmtTime(reading.observed_at_ms)],
      ["Outside", breachedBy ?? null],
    ]),
  };
}

/** A timeline item for a ledger fact (registration, retirement, a workflow step). */
export function factItem({ time, height, badge, title, body }) {
  return { sortTime: Number(time), height, badge, kind: "fact", title, body };
}

/** Orders items by ledger height, then by their own time, and renders the list. */
export function timeline(items, label = "Provenance timeline") {
  const sorted = [...items].sort(
    (a, b) => (a.height ?? 0) - (b.height ?? 0) || (a.sortTime || 0) - (b.sortTime || 0),
  );
  return h(
    "ol",
    { class: "timeline", testid: "asset-timeline", "aria-label": label },
    sorted.map((it) =>
      h(
        "li",
        { class: `timeline-item ${it.kind}`, testid: "timeline-event" },
        h(
          "div",
          { class: "timeline-head" },
          h("span", { class: `badge ${it.kind}` }, it.badge),
          h("strong", null, it.title),
          it.height !== undefined && it.height !== null ? h("span", { class: "muted" }, " block ", blockLink(it.height)) : null,
          it.via ? h("span", { class: "via" }, " via ", assetLink(it.via)) : null,
        ),
        it.body,
      ),
    ),
  );
}
