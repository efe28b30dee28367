// Evaluates features with unleash-client's own engine (lib/client.js and
// its default strategies), offline: stdin {state, flags, contexts} (state
// as /api/client/features returns it), stdout one [enabled, variant]
// pair per flag per context, contexts outermost.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const UnleashClient = require('unleash-client/lib/client.js').default;
const { defaultStrategies } = require('unleash-client/lib/strategy/index.js');

let input = '';
for await (const chunk of process.stdin) input += chunk;
const { state, flags, contexts } = JSON.parse(input);

const toggles = new Map(state.features.map((f) => [f.name, f]));
const segments = new Map((state.segments || []).map((s) => [s.id, s]));
const repository = {
  getToggle: (name) => toggles.get(name),
  getSegment: (id) => segments.get(id),
};
const client = new UnleashClient(repository, defaultStrategies);
client.on('warn', () => {});

const out = [];
for (const context of contexts) {
  for (const flag of flags) {
    const enabled = client.isEnabled(flag, context, () => false);
    const v = client.getVariant(flag, context);
    out.push([enabled, { name: v.name, enabled: v.enabled, feature_enabled: v.feature_enabled, payload: v.payload }]);
  }
}
process.stdout.write(JSON.stringify(out));
