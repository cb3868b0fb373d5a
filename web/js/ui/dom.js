// Building DOM nodes from code. Everything the ledger returns is untrusted text, so the
// explorer never parses HTML: content goes in as text nodes and attributes only.

const SVG_NS = "http://www.w3.org/2000/svg";

function apply(el, attrs) {
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      el.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    } else if (name === "testid") {
      el.setAttribute("data-testid", value);
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/**
 * An HTML element: `h("a", {href, class, testid, onclick}, "text", child, [more])`.
 * Attributes set to null/undefined/false are left out; strings and numbers become text.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

/** An SVG element, like `h`. */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

/** Replaces everything inside `el` with `children`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A definition list from `[label, value]` pairs; pairs whose value is null are skipped. */
export function fields(pairs, attrs) {
  const dl = h("dl", { class: "fields", ...attrs });
  for (const [label, value] of pairs) {
    if (value === null || value === undefined) continue;
    dl.append(h("dt", null, label), h("dd", null, value));
  }
  return dl;
}

/** A titled section of a page. */
export function section(title, ...children) {
  return h("section", { class: "panel" }, h("h2", null, title), ...children);
}
