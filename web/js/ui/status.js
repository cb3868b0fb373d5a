// Loading and refusal messages. A refused read is an answer, not a crash: it says what the
// viewer can do about it (sign in, ask for access) without showing any of the record.

import { ApiError, session } from "../api.js";
import { h } from "./dom.js";
import { shortHex } from "./format.js";

export function loading(what = "Loading") {
  return h("p", { class: "loading", role: "status" }, `${what}…`);
}

/** Title and explanation for an error, by its code and who is signed in. */
export function explain(err) {
  const me = session();
  if (!(err instanceof ApiError)) {
    return { title: "Something went wrong in the explorer", detail: String(err?.message ?? err) };
  }
  switch (err.code) {
    case "unauthenticated":
      return me
        ? {
            title: "The node did not accept your signature",
            detail: `${err.message}. Check this computer's clock (signatures are valid for 5 minutes) or sign in again.`,
          }
        : {
            title: "Not visible without signing in",
            detail: `Only members may read this. Sign in with a member key that may see it. (${err.message})`,
          };
    case "unknown_account":
      return {
        title: "Your key is not a member of this chain",
        detail: `The account ${shortHex(me?.account ?? "")} is not registered here, so the node treats it as unknown. ${err.message}`,
      };
    case "forbidden":
      return {
        title: "Not visible to your account",
        detail: `The read policy does not let ${shortHex(me?.account ?? "this account")} see this record. ${err.message}`,
      };
    case "not_found":
      if (/no such route/.test(err.message)) {
        return {
          title: "This node lacks an API the explorer needs",
          detail: `The request reached no route (${err.message}); the node may be older than the explorer.`,
        };
      }
      return { title: "Not found", detail: err.message };
    case "network":
      return { title: "The node did not answer", detail: err.message };
    case "purged":
      return { title: "Purged", detail: err.message };
    default:
      return { title: `Refused: ${err.code}`, detail: err.message };
  }
}

/** The refusal box (`data-testid="error"`, announced to screen readers). */
export function errorBox(err, context) {
  const { title, detail } = explain(err);
  // Signing in is what helps an anonymous viewer; take them to the key field.
  const signIn = document.getElementById("signin-secret");
  const offer =
    err instanceof ApiError && err.code === "unauthenticated" && !session() && signIn
      ? h("p", null, h("button", { type: "button", class: "secondary", onclick: () => signIn.focus() }, "Sign in"))
      : null;
  return h(
    "div",
    { class: "error", role: "alert", testid: "error", "data-code": err?.code ?? "client" },
    h("p", { class: "error-title" }, context ? `${context}: ${title}` : title),
    h("p", null, detail),
    offer,
  );
}

/** Whether an error only means "this viewer may not see it". */
export function isRefusal(err) {
  return (
    err instanceof ApiError &&
    ["unauthenticated", "forbidden", "unknown_account"].includes(err.code)
  );
}

/** A neutral note (empty lists, partial data). */
export function note(...text) {
  return h("p", { class: "note" }, ...text);
}

/** Runs `load` and puts its result, or the refusal, into a fresh container. */
export function async(load, context) {
  const box = h("div", { class: "async", "aria-busy": "true" }, loading());
  Promise.resolve()
    .then(load)
    .then(
      (content) => box.replaceChildren(...[content].flat().filter(Boolean)),
      (err) => box.replaceChildren(errorBox(err, context)),
    )
    .finally(() => box.removeAttribute("aria-busy"));
  return box;
}
