// Runs inside the explorer's page (WebDriver execute_async): the shared vectors through the
// same modules the explorer uses. arguments[0] = fixtures/web-vectors.json, last = callback.
const vectors = arguments[0];
const done = arguments[arguments.length - 1];
import("/test/vectors.mjs")
  .then((m) => m.runVectors(vectors))
  .then((r) => done({ checked: r.passed, failures: r.failures }))
  .catch((e) => done({ checked: 0, failures: [String(e && e.stack)] }));
