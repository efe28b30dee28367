// The bucketing modes of docs/flag-format.md §6 ("Bucketing modes"), as
// the real Node implementations decide them:
//
// - flagd-v2: `@openfeature/flagd-core` (4.0.1, pinned), whose
//   `fractional` is v2, evaluating a flagd flag whose targeting is that
//   `fractional`.
// - flagd-v1: flagd-core 4.0.1 no longer has v1, so `distributeV1` below
//   ports flagd's Go v1 (`distributeValue` in core/pkg/evaluator/
//   fractional.go before v2) line by line, over flagd-core's own hash
//   (imurmurhash).
// - unleash: `unleash-client` (pinned): its flexibleRollout strategy for
//   rollouts, `selectVariantDefinition` for variants.
//
// Keys are hashed as UTF-8 bytes, as flagd's Go evaluator and Unleash's
// Rust engine do. Both Node libraries hash the low byte of each UTF-16
// code unit instead, so a key is handed to them as the Latin-1 string of
// its UTF-8 bytes: the same bytes reach the same hash function. For ASCII
// keys that is the key itself.
import { createRequire } from 'node:module';
import { FlagdCore } from '@openfeature/flagd-core';
import MurmurHash3 from 'imurmurhash';

const require = createRequire(import.meta.url);
const { selectVariantDefinition } = require('unleash-client/lib/variant');
const FlexibleRolloutStrategy = require('unleash-client/lib/strategy/flexible-rollout-strategy').default;
const murmurHash3js = require('murmurhash3js');

export const MODES = ['flagd-v1', 'flagd-v2', 'unleash'];
export const UNLEASH_VARIANT_SEED = 86028157;

/** The key as the Node libraries must see it to hash its UTF-8 bytes. */
export function bytesAsLatin1(text) {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** The string each mode hashes, before the UTF-8 transliteration. */
export function hashedString(mode, salt, key) {
  return mode === 'unleash' ? `${salt}:${key}` : `${salt}${key}`;
}

/** The 32-bit hash of `hashedString` with the mode's seed for `use`. */
export function hashOf(mode, salt, key, use) {
  const text = bytesAsLatin1(hashedString(mode, salt, key));
  if (mode === 'unleash') {
    return murmurHash3js.x86.hash32(text, use === 'split' ? UNLEASH_VARIANT_SEED : 0);
  }
  return new MurmurHash3(text).result() >>> 0;
}

/** flagd's Go v1 `distributeValue`, over flagd-core's hash. */
function distributeV1(value, weights) {
  const hashValue = new MurmurHash3(value).result() | 0; // int32(murmur3.StringSum32(value))
  const hashRatio = Math.abs(hashValue) / 2147483647; // math.Abs(float64(h)) / math.MaxInt32
  const bucket = hashRatio * 100; // in range [0, 100]
  const totalWeight = weights.reduce((sum, [, w]) => sum + w, 0);
  let rangeEnd = 0;
  for (const [variant, weight] of weights) {
    rangeEnd += totalWeight === 0 ? 0 : (100 * weight) / totalWeight; // getPercentage
    if (bucket < rangeEnd) {
      return variant;
    }
  }
  return '';
}

/**
 * flagd-core evaluating one flag `flagKey` whose targeting is
 * `fractional` over `weights`, bucketing `salt + targetingKey` (the salt
 * is the flag key unless given, which is flagd's own default).
 */
function flagdV2(flagKey, salt, weights) {
  const core = new FlagdCore();
  const bucketBy = salt === null ? [] : [{ cat: [bytesAsLatin1(salt), { var: 'targetingKey' }] }];
  const variants = Object.fromEntries(weights.map(([name]) => [name, name]));
  core.setConfigurations(JSON.stringify({
    flags: {
      [flagKey]: {
        state: 'ENABLED',
        variants: { ...variants, '(default)': '(default)' },
        defaultVariant: '(default)',
        targeting: { fractional: [...bucketBy, ...weights] },
      },
    },
  }));
  return (k) => {
    const r = core.resolveStringEvaluation(flagKey, '(error)', { targetingKey: bytesAsLatin1(k) });
    return r.variant ?? r.value;
  };
}

/**
 * An evaluator of splits for `mode`: `(key) → variant name`, where
 * `(default)` means the tool found no variant (flagd falls back to the
 * flag's default variant).
 */
export function splitEvaluator(mode, flagKey, salt, weights) {
  const effectiveSalt = salt ?? flagKey;
  switch (mode) {
    case 'flagd-v2':
      return flagdV2(flagKey, salt, weights);
    case 'flagd-v1':
      return (key) => distributeV1(bytesAsLatin1(effectiveSalt + key), weights) || '(default)';
    case 'unleash': {
      const variants = weights.map(([name, weight]) => ({ name, weight, stickiness: 'userId' }));
      return (key) => {
        const v = selectVariantDefinition(effectiveSalt, 'userId', variants, { userId: bytesAsLatin1(key) });
        return v ? v.name : '(default)';
      };
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

/**
 * An evaluator of rollout membership at `percentage` for `mode`:
 * `(key) → inside`. flagd has no rollouts: a rollout is its `fractional`
 * between the rolled-out variant and the rest, weighted `percentage` and
 * `100 − percentage` (in thousandths when the percentage has decimals).
 * Unleash's is its flexibleRollout strategy.
 */
export function rolloutEvaluator(mode, flagKey, salt, percentage) {
  const effectiveSalt = salt ?? flagKey;
  const scale = Number.isInteger(percentage) ? 1 : 1000;
  const on = Math.round(percentage * scale);
  const weights = [['on', on], ['off', 100 * scale - on]];
  switch (mode) {
    case 'flagd-v2': {
      const evaluate = flagdV2(flagKey, salt, weights);
      return (key) => evaluate(key) === 'on';
    }
    case 'flagd-v1':
      return (key) => distributeV1(bytesAsLatin1(effectiveSalt + key), weights) === 'on';
    case 'unleash': {
      const strategy = new FlexibleRolloutStrategy();
      const parameters = { rollout: String(percentage), stickiness: 'userId', groupId: effectiveSalt };
      return (key) => strategy.isEnabled(parameters, { userId: bytesAsLatin1(key) });
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

/**
 * Answers a request: `{mode, splits: [{flag, salt, weights, keys}],
 * rollouts: [{flag, salt, percentage, keys}]}` → one row per key.
 */
export function answer(request) {
  const { mode } = request;
  const splits = [];
  for (const c of request.splits ?? []) {
    const evaluate = splitEvaluator(mode, c.flag, c.salt ?? null, c.weights);
    for (const key of c.keys) {
      splits.push({
        flag: c.flag,
        salt: c.salt ?? null,
        key,
        weights: c.weights,
        hash: hashOf(mode, c.salt ?? c.flag, key, 'split'),
        variant: evaluate(key),
      });
    }
  }
  const rollouts = [];
  for (const c of request.rollouts ?? []) {
    const inside = rolloutEvaluator(mode, c.flag, c.salt ?? null, c.percentage);
    for (const key of c.keys) {
      rollouts.push({
        flag: c.flag,
        salt: c.salt ?? null,
        key,
        percentage: c.percentage,
        hash: hashOf(mode, c.salt ?? c.flag, key, 'rollout'),
        inside: inside(key),
      });
    }
  }
  return { mode, splits, rollouts };
}
