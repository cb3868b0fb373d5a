// One asset and its provenance: its record and lineage, then a timeline of the EPCIS events
// that name it (and those of the containers it travelled in, while it was packed in them),
// the ledger facts about it (registration, transfers, updates, retirement), the sensor
// readings of the feeds that watch it and the steps of the workflows that govern it.

import { api, listAll, mapLimit, stateOrNull } from "../api.js";
import { fields, h, section } from "../ui/dom.js";
import { accountLink, assetLink, blockLink, href, instanceLink, link } from "../ui/links.js";
import { async, note } from "../ui/status.js";
import { table } from "../ui/table.js";
import { epcisItem, factItem, readingItem, timeline } from "../ui/timeline.js";
import { renderValue } from "../ui/value.js";
import { breachOf, feedPanel, readingsOf } from "./feed.js";

const MAX_DEPTH = 3;
const ASSET_TOPICS = ["asset.registered", "asset.transferred", "asset.updated", "asset.retired", "asset.split", "asset.merged", "asset.transformed"];

/** The EPCIS events of an asset's trail, oldest first: `[{id, record}]`. */
async function trailOf(assetId) {
  const ids = (await stateOrNull(`epcis/trail/${assetId}`)) ?? [];
  const records = await mapLimit(ids, 6, (id) => stateOrNull(`epcis/event/${id}`).catch(() => null));
  return ids.map((id, i) => ({ id, record: records[i] })).filter((e) => e.record);
}

/**
 * When `child` was packed in which parent: aggregation ADD opens a stay, DELETE closes it.
 * `[{parent, from, to}]` in recorded heights (`to` null while still packed).
 */
export function staysOf(child, trail) {
  const stays = [];
  for (const { record } of trail) {
    const k = record.event?.kind;
    if (k?.type !== "AggregationEvent" || !(k.child_epcs ?? []).includes(child)) continue;
    if (k.action === "ADD") stays.push({ parent: k.parent_id, from: record.recorded_at, to: null });
    if (k.action === "DELETE") {
      const open = stays.findLast((s) => s.parent === k.parent_id && s.to === null);
      if (open) open.to = record.recorded_at;
    }
  }
  return stays;
}

/** Own events plus, recursively, the containers' events during each stay. */
async function provenance(assetId) {
  const seen = new Set();
  const items = [];
  const containers = new Set();
  const walk = async (id, window, via, depth) => {
    const trail = await trailOf(id);
    for (const e of trail) {
      const at = e.record.recorded_at;
      if (seen.has(e.id)) continue;
      if (window && (at < window.from || (window.to !== null && at > window.to))) continue;
      seen.add(e.id);
      items.push(epcisItem(e.id, e.record, via));
    }
    if (depth >= MAX_DEPTH) return;
    for (const stay of staysOf(id, trail)) {
      containers.add(stay.parent);
      // A stay inside a window is bounded by both.
      const from = Math.max(stay.from, window?.from ?? 0);
      const to = window?.to ?? null;
      await walk(stay.parent, { from, to: stay.to === null ? to : to === null ? stay.to : Math.min(to, stay.to) }, stay.parent, depth + 1);
    }
  };
  await walk(assetId, null, null, 0);
  return { items, containers: [...containers] };
}

const attr = (event, name) => event.attributes.find(([k]) => k === name)?.[1];

/** Ledger facts about the asset from the asset module's events the viewer may see. */
async function factsOf(assetId, from) {
  const lists = await Promise.all(
    ASSET_TOPICS.map((topic) => api.events({ topic, from_height: from, limit: 1000 }).then((r) => r.events, () => [])),
  );
  const facts = [];
  for (const e of lists.flat()) {
    const ev = e.event;
    const names = [attr(ev, "asset"), ...(attr(ev, "inputs") ?? "").split(","), ...(attr(ev, "outputs") ?? "").split(",")];
    if (!names.includes(assetId)) continue;
    const verb = ev.topic.replace("asset.", "");
    facts.push(
      factItem({
        height: e.height,
        badge: "Ledger",
        title: verb,
        body: h("div", null, renderValue(ev.attributes, "attributes"), h("p", { class: "note" }, "in ", link(href.tx(e.tx_hash), "its transaction"))),
      }),
    );
  }
  return facts;
}

/** Every `feed` a template names, resolved against an instance's parameters. */
export function feedsOfTemplate(template, params) {
  const out = new Set();
  const visit = (v) => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        if (k === "feed" && typeof x === "string") {
          const ref = x.startsWith("$") ? params?.[x.slice(1)]?.value : x;
          if (typeof ref === "string") out.add(ref);
        } else visit(x);
      }
    }
  };
  visit(template?.transitions ?? []);
  return [...out];
}

/** The workflow instances with an asset parameter naming one of `ids`, and their feeds. */
async function relatedInstances(ids) {
  let entries = [];
  try {
    entries = (await listAll("instance/", { max: 2000 })).entries;
  } catch {
    return [];
  }
  const hits = entries.filter((e) =>
    Object.values(e.value?.params ?? {}).some((p) => p?.type === "asset" && ids.includes(p.value)),
  );
  const templates = new Map();
  const out = [];
  for (const e of hits) {
    const inst = e.value;
    const tkey = `template/${inst.template}/${inst.version}`;
    if (!templates.has(tkey)) templates.set(tkey, stateOrNull(tkey).catch(() => null));
    const record = await templates.get(tkey);
    out.push({ id: e.key.slice("instance/".length), instance: inst, feeds: feedsOfTemplate(record?.template, inst.params) });
  }
  return out;
}

function stepItem(instanceId, step) {
  const cause = step.cause?.kind === "breach" ? ` on a breach of ${step.cause.feed} (${step.cause.threshold})` : "";
  return factItem({
    height: step.height,
    time: step.timestamp_ms,
    badge: "Workflow",
    title: `${step.transition}: ${step.from} → ${step.to}`,
    body: fields([
      ["Instance", instanceLink(instanceId)],
      ["By", step.automatic ? `the ledger${cause}` : accountLink(step.by)],
      ["Approved by", step.approvals?.length ? h("span", { class: "list" }, step.approvals.map((a, i) => [i ? ", " : "", accountLink(a)])) : null],
    ]),
  });
}

function statusBadge(asset) {
  if (asset.status?.state === "retired") return h("span", { class: "badge bad" }, `retired at block ${asset.status.at_height}`);
  return h("span", { class: "badge ok" }, "active");
}

export async function render(ctx) {
  const { id } = ctx.params;
  ctx.setTitle(`Asset ${id}`);
  const asset = (await api.state(`asset/${id}`)).value;
  if (!ctx.alive()) return;
  ctx.view.append(h("h1", null, "Asset ", h("span", { class: "mono" }, id), " ", asset ? statusBadge(asset) : null));
  if (!asset) {
    ctx.view.append(note(`There is no asset ${id}.`));
    return;
  }
  const packedIn = await stateOrNull(`epcis/contained-in/${id}`).catch(() => null);
  if (!ctx.alive()) return;
  const attributes = Object.entries(asset.attributes ?? {});
  ctx.view.append(
    section(
      "Asset",
      fields([
        ["Class", asset.class],
        ["Owner", accountLink(asset.owner)],
        ["Status", asset.status?.state === "retired" ? `retired at block ${asset.status.at_height}: ${asset.status.reason}` : "active"],
        ["Registered at", blockLink(asset.registered_at)],
        ["Last changed at", blockLink(asset.updated_at)],
        ["Packed in", packedIn ? assetLink(packedIn) : null],
      ]),
      table({
        caption: "Attributes",
        columns: [
          { label: "Attribute", cell: (r) => r[0] },
          { label: "Value", cell: (r) => r[1] },
        ],
        rows: attributes,
        empty: "No attributes.",
      }),
    ),
    section(
      "Lineage",
      fields([
        ["Made from", asset.parents?.length ? h("span", { class: "list" }, asset.parents.map((p, i) => [i ? ", " : "", assetLink(p)])) : "— (an original)"],
        ["Made into", asset.children?.length ? h("span", { class: "list" }, asset.children.map((c, i) => [i ? ", " : "", assetLink(c)])) : "—"],
      ]),
      note("Split, merge and transform keep the link both ways: parents name their children and children their parents."),
    ),
  );

  // The EPCIS trail decides the containers, and the containers which workflows (and so
  // which sensor feeds) concern this asset.
  const gathered = provenance(id);
  const related = gathered.then(({ containers }) => relatedInstances([id, ...containers]));
  // Each feed is read once for both the timeline and its chart.
  const feeds = new Map();
  const feedData = (f) => {
    if (!feeds.has(f)) {
      feeds.set(
        f,
        stateOrNull(`feed/${f}`)
          .catch(() => null)
          .then(async (feed) => (feed ? { feed, history: await readingsOf(f, feed) } : null)),
      );
    }
    return feeds.get(f);
  };

  ctx.view.append(
    section(
      "Provenance timeline",
      note("EPCIS events (what, when, where, why) naming this asset or a container it was packed in at the time, sensor readings of the feeds that watch it, and ledger facts, in the order the ledger recorded them."),
      async(async () => {
        const [{ items }, instances, facts] = await Promise.all([gathered, related, factsOf(id, asset.registered_at)]);
        const readings = [];
        const feeds = [...new Set(instances.flatMap((i) => i.feeds))];
        const end = asset.status?.state === "retired" ? asset.status.at_height : Infinity;
        for (const f of feeds) {
          const data = await feedData(f);
          if (!data) continue;
          const { feed } = data;
          for (const r of data.history.readings) {
            if (r.height < asset.registered_at || r.height > end) continue;
            readings.push(readingItem(f, feed, r, breachOf(feed, r.value)));
          }
        }
        const steps = instances.flatMap((i) =>
          (i.instance.history ?? []).filter((s) => s.height >= asset.registered_at && s.height <= end).map((s) => stepItem(i.id, s)),
        );
        const all = [...items, ...facts, ...readings, ...steps];
        if (all.length === 0) return note("No provenance events are visible to you.");
        return timeline(all, `Provenance of ${id}`);
      }, "Provenance"),
    ),
    section(
      "Sensors and workflows",
      async(async () => {
        const instances = await related;
        if (instances.length === 0) return note("No workflow instance names this asset or its containers.");
        const parts = [
          table({
            caption: "Workflow instances governing this asset",
            columns: [
              { label: "Instance", cell: (i) => instanceLink(i.id) },
              { label: "Template", cell: (i) => link(href.template(i.instance.template, i.instance.version), `${i.instance.template} v${i.instance.version}`) },
              { label: "State", cell: (i) => h("strong", null, i.instance.state) },
              { label: "Watches feeds", cell: (i) => (i.feeds.length ? h("span", { class: "list" }, i.feeds.map((f, n) => [n ? ", " : "", link(href.feed(f), f)])) : "—") },
            ],
            rows: instances,
          }),
        ];
        for (const f of [...new Set(instances.flatMap((i) => i.feeds))]) {
          const data = await feedData(f);
          if (data) parts.push(h("h3", null, `Feed ${f}`), await feedPanel(f, data.feed, data.history));
        }
        return parts;
      }, "Sensors"),
    ),
  );
}
