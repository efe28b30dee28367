// Evaluates flags of a flagd on another origin in the browser, the way a web
// app would: the OpenFeature web SDK with the OFREP web provider, polling off
// and change detection by server-sent events, so a change the page shows
// came over flagd's event stream. Renders into <pre id="flags"> as JSON:
//
//   { "status": "ready" | "error: …",
//     "flags": { "<key>": { value, variant, reason, errorCode } },
//     "known": [keys the provider holds, sorted],
//     "changes": n, "lastChange": "<message of the last change event>" }
//
// The query string says what to do:
//   flagd=BASE_URL        flagd's address (required)
//   user=KEY              the targeting key (default: visitor-1)
//   key=API_KEY           sent as X-API-Key (a client key), if given
//   flags=k:type,…        the flags to evaluate; type is boolean, string,
//                         number or object
import { OpenFeature, ProviderEvents } from '@openfeature/web-sdk';
import { OFREPWebProvider } from '@openfeature/ofrep-web-provider';

const params = new URLSearchParams(window.location.search);
const baseUrl = params.get('flagd');
const apiKey = params.get('key');
const wanted = (params.get('flags') ?? '')
  .split(',')
  .filter(Boolean)
  .map((entry) => entry.split(':'));

const provider = new OFREPWebProvider({
  baseUrl,
  pollInterval: 0,
  changeDetection: 'sse',
  cacheMode: 'disabled',
  headers: apiKey ? [['X-API-Key', apiKey]] : [],
});
const client = OpenFeature.getClient();
const shown = { status: 'starting', flags: {}, known: [], changes: 0, lastChange: null };

const defaults = { boolean: false, string: '', number: 0, object: {} };
const getters = {
  boolean: (key, fallback) => client.getBooleanDetails(key, fallback),
  string: (key, fallback) => client.getStringDetails(key, fallback),
  number: (key, fallback) => client.getNumberDetails(key, fallback),
  object: (key, fallback) => client.getObjectDetails(key, fallback),
};

function render() {
  for (const [key, type = 'string'] of wanted) {
    const details = getters[type](key, defaults[type]);
    shown.flags[key] = {
      value: details.value,
      variant: details.variant ?? null,
      reason: details.reason ?? null,
      errorCode: details.errorCode ?? null,
    };
  }
  shown.known = Object.keys(provider.flagCache).sort();
  document.getElementById('flags').textContent = JSON.stringify(shown);
}

OpenFeature.addHandler(ProviderEvents.ConfigurationChanged, (event) => {
  shown.changes += 1;
  shown.lastChange = event?.message ?? null;
  render();
});

try {
  await OpenFeature.setContext({ targetingKey: params.get('user') ?? 'visitor-1' });
  await OpenFeature.setProviderAndWait(provider);
  shown.status = 'ready';
} catch (error) {
  shown.status = `error: ${error}`;
}
render();
