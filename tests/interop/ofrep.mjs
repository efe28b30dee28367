// Evaluates flags of a running flagd through the real OpenFeature Node SDK
// and its OFREP provider, and checks values, variants and reasons.
//
//   node ofrep.mjs http://127.0.0.1:8013
//
// The flags are those of tests/interop/flags.yaml (see tests/interop.rs).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { OpenFeature } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';

const require = createRequire(import.meta.url);
const providerVersion = require('@openfeature/ofrep-provider/package.json').version;

const baseUrl = process.argv[2] ?? process.env.FLAGD_URL;
if (!baseUrl) {
  console.error('usage: node ofrep.mjs BASE_URL');
  process.exit(2);
}

await OpenFeature.setProviderAndWait(new OFREPProvider({ baseUrl }));
const client = OpenFeature.getClient();
const staff = { targetingKey: 'user-1', email: 'ana@example.com' };
const anon = { targetingKey: 'user-2' };

const checks = [];
function check(name, details, expected) {
  for (const [field, want] of Object.entries(expected)) {
    assert.deepEqual(details[field], want, `${name}: ${field} is ${JSON.stringify(details[field])}, expected ${JSON.stringify(want)}`);
  }
  checks.push(name);
}

check('boolean by rule', await client.getBooleanDetails('checkout', false, staff),
  { value: true, variant: 'on', reason: 'TARGETING_MATCH' });
check('boolean default', await client.getBooleanDetails('checkout', true, anon),
  { value: false, variant: 'off', reason: 'DEFAULT' });
check('string', await client.getStringDetails('banner', 'fallback', anon),
  { value: 'Welcome', variant: 'plain', reason: 'STATIC' });
check('string disabled', await client.getStringDetails('layout', 'fallback', anon),
  { value: 'list', variant: 'list', reason: 'DISABLED' });
check('integer', await client.getNumberDetails('max-items', 0, anon),
  { value: 25, variant: 'many', reason: 'STATIC' });
check('float', await client.getNumberDetails('ratio', 0, anon),
  { value: 0.25, variant: 'quarter', reason: 'STATIC' });
check('object', await client.getObjectDetails('limits', {}, staff),
  { value: { maxCart: 50, express: true }, variant: 'premium', reason: 'TARGETING_MATCH' });
check('rollout', await client.getBooleanDetails('canary', false, anon),
  { value: true, variant: 'on', reason: 'ROLLOUT' });

const split = await client.getStringDetails('experiment', 'fallback', anon);
assert.equal(split.reason, 'SPLIT', 'split reason');
assert.ok(['a', 'b'].includes(split.variant), `split variant ${split.variant}`);
checks.push('split');

const missing = await client.getBooleanDetails('no-such-flag', true, anon);
assert.equal(missing.value, true, 'a missing flag falls back to the default');
assert.equal(missing.errorCode, 'FLAG_NOT_FOUND');
checks.push('flag not found');

const keyless = await client.getStringDetails('experiment', 'fallback', {});
assert.equal(keyless.value, 'fallback');
assert.equal(keyless.errorCode, 'TARGETING_KEY_MISSING');
checks.push('targeting key missing');

const wrongType = await client.getNumberDetails('banner', 7, anon);
assert.equal(wrongType.value, 7, 'a type mismatch falls back to the default');
assert.equal(wrongType.errorCode, 'TYPE_MISMATCH');
checks.push('type mismatch');

// `$codeDefault` (docs/flag-format.md §5): flagd answers without `value`
// and `variant` (OFREP ADR 0006), and the caller gets the default it passed.
// The provider 0.1.x (0.1.3 is the only release of the Node server
// provider) predates ADR 0006: it fails on the missing value (its type
// check throws, which the SDK reports as GENERAL), so the caller still gets
// its default, as an error (reason ERROR). Providers
// over @openfeature/ofrep-core 2.x (the web provider 0.4) keep the reason
// and report no error (docs/flagd.md).
function codeDefault(name, details, value, reason) {
  assert.equal(details.value, value, `${name}: the caller's default`);
  assert.equal(details.variant, undefined, `${name}: no variant`);
  if (providerVersion.startsWith('0.1.')) {
    assert.equal(details.errorCode, 'GENERAL', `${name}: provider ${providerVersion}`);
    assert.equal(details.reason, 'ERROR', `${name}: provider ${providerVersion}`);
  } else {
    assert.equal(details.errorCode, undefined, `${name}: provider ${providerVersion}`);
    assert.equal(details.reason, reason, `${name}: reason`);
  }
  checks.push(name);
}
check('code default, a rule serving a variant', await client.getStringDetails('deferred', 'from code', staff),
  { value: 'New', variant: 'new', reason: 'TARGETING_MATCH' });
codeDefault('code default', await client.getStringDetails('deferred', 'from code', anon), 'from code', 'DEFAULT');
codeDefault('code default, killed', await client.getBooleanDetails('killed', false, anon), false, 'DISABLED');
codeDefault('code default, killed, another default', await client.getBooleanDetails('killed', true, anon), true, 'DISABLED');

await OpenFeature.close();
console.log(`ok: ${checks.length} OpenFeature checks passed (${checks.join(', ')})`);
