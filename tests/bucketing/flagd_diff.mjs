// flagd's reference evaluator for the import differential
// (tests/testsuite/import_flagd.rs): `@openfeature/flagd-core` 4.0.1, as
// pinned in package.json, evaluates every flag of the given flagd
// documents for every context.
//
// Input (stdin): {"documents": [{"text": FLAGD JSON, "v1": BOOL}], "contexts": [CONTEXT…]}
// Output (stdout): one line per context, a JSON object
//   {FLAG: [VARIANT or null, REASON, ERROR CODE or null, VALUE or null], …}
// where VALUE is null when flagd-core answered the caller's default (a
// DISABLED flag, no `defaultVariant`: the code default), which flagd's
// variants, never null, cannot be.
//
// flagd-core's `fractional` is v2 only. For the documents marked `v1`,
// their flags' `fractional` runs flagd's legacy v1 mapping instead, as
// ported line by line in modes.mjs (`distributeV1`), with flagd-core's
// own argument handling and hash; json-logic-engine is patched so that
// the engine flagd-core builds gets that `fractional` for those flags.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { LogicEngine } from 'json-logic-engine';
import MurmurHash3 from 'imurmurhash';
import { FlagdCore } from '@openfeature/flagd-core';

const require = createRequire(import.meta.url);
const V1_FLAGS = new Set();

/** flagd-core's `fractional` argument handling, with v1's mapping. */
function fractionalV1(data, context) {
  if (!Array.isArray(data) || data.length < 1) return null;
  const flagd = context.$flagd;
  if (!flagd) return null;
  let bucketBy;
  let buckets;
  if (typeof data[0] === 'string') {
    bucketBy = data[0];
    buckets = data.slice(1);
  } else {
    const targetingKey = context.targetingKey;
    if (!targetingKey) return null;
    bucketBy = `${flagd.flagKey}${targetingKey}`;
    buckets = data;
  }
  const weights = [];
  for (const entry of buckets) {
    if (!Array.isArray(entry) || entry.length === 0 || entry.length > 2) return null;
    const variant = entry[0];
    let weight = 1;
    if (entry.length >= 2) {
      if (typeof entry[1] !== 'number' || !Number.isInteger(entry[1])) return null;
      weight = Math.max(0, entry[1]);
    }
    weights.push([variant, weight]);
  }
  const total = weights.reduce((sum, [, w]) => sum + w, 0);
  if (total > 2147483647) return null;
  // flagd's Go v1 `distributeValue` (modes.mjs, `distributeV1`).
  const hashValue = new MurmurHash3(bucketBy).result() | 0;
  const bucket = (Math.abs(hashValue) / 2147483647) * 100;
  let rangeEnd = 0;
  for (const [variant, weight] of weights) {
    rangeEnd += total === 0 ? 0 : (100 * weight) / total;
    if (bucket < rangeEnd) return variant;
  }
  return null;
}

// flagd-core may load json-logic-engine's ES module or its CommonJS build
// (two classes): both are patched.
for (const Engine of [LogicEngine, require('json-logic-engine').LogicEngine]) {
  const addMethod = Engine.prototype.addMethod;
  Engine.prototype.addMethod = function (name, method, ...rest) {
    if (name === 'fractional' && typeof method === 'function') {
      const v2 = method;
      method = (data, context) =>
        V1_FLAGS.has(context?.$flagd?.flagKey) ? fractionalV1(data, context) : v2(data, context);
    }
    return addMethod.call(this, name, method, ...rest);
  };
}

const input = JSON.parse(readFileSync(0, 'utf8'));
const cores = [];
for (const doc of input.documents) {
  const core = new FlagdCore(undefined, { debug() {}, info() {}, warn() {}, error() {} });
  core.setConfigurations(doc.text);
  if (doc.v1) for (const key of core.getFlags().keys()) V1_FLAGS.add(key);
  cores.push(core);
}

// The caller's default, told apart from any value a flag serves.
const CODE_DEFAULT = Object.freeze({ codeDefault: true });
const out = [];
for (const ctx of input.contexts) {
  const answers = {};
  for (const core of cores) {
    for (const [key, flag] of core.getFlags()) {
      const first = flag.variants.values().next().value;
      const type = typeof first;
      const r = core.resolve(type, key, CODE_DEFAULT, ctx);
      const value = r.value === CODE_DEFAULT ? null : r.value;
      answers[key] = [r.variant ?? null, r.reason, r.errorCode ?? null, value];
    }
  }
  out.push(JSON.stringify(answers));
}
process.stdout.write(out.join('\n') + '\n');
