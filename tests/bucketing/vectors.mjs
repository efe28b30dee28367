// Writes the bucketing modes' test vectors, one file per mode:
// tests/data/bucketing-vectors-<mode>.json (docs/flag-format.md §6,
// "Bucketing modes"). Every decision in them is the real Node
// implementation's (modes.mjs). Run after `npm ci`:
//
//   node vectors.mjs
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { answer, MODES } from './modes.mjs';

const KEYS = [
  'user-1', 'user-2', 'user-3', 'user-42', 'u-123', 'a', 'ab', 'abc', 'abcd',
  '42', '1.5', '-7', 'ana@example.com', '00000000-0000-4000-8000-000000000001',
  'session:9f8e7d6c5b4a', 'key with spaces',
  'x'.repeat(63), 'y'.repeat(70), 'z'.repeat(300),
  'josé', 'Ünïcödé', '日本語ユーザー', '🙂-user', 'emoji-🚀🚀',
];

const SPLITS = [
  { flag: 'checkout', weights: [['on', 50], ['off', 50]] },
  { flag: 'layout', weights: [['control', 34], ['gallery', 33], ['video', 33]] },
  { flag: 'layout', salt: 'layout-2026-11', weights: [['control', 34], ['gallery', 33], ['video', 33]] },
  { flag: 'pricing', weights: [['a', 1], ['b', 0], ['c', 3]] },
  { flag: 'rare', weights: [['rare', 1], ['common', 999]] },
  { flag: 'thirds', weights: [['a', 333], ['b', 333], ['c', 334]] },
  { flag: 'big', weights: [['a', 1000000], ['b', 2000000], ['c', 7]] },
  { flag: 'single', weights: [['only', 1]] },
];

const PERCENTAGES = [1, 10, 33.333, 50, 99, 100];
const ROLLOUTS = [{ flag: 'canary' }, { flag: 'canary', salt: 'canary-2026' }].flatMap((r) =>
  PERCENTAGES.map((percentage) => ({ ...r, percentage })));

const here = fileURLToPath(new URL('.', import.meta.url));
for (const mode of MODES) {
  const { splits, rollouts } = answer({
    mode,
    splits: SPLITS.map((s) => ({ ...s, keys: KEYS })),
    rollouts: ROLLOUTS.map((r) => ({ ...r, keys: KEYS })),
  });
  const rows = (list) => list.map((row) => `    ${JSON.stringify(row)}`).join(',\n');
  const text = `{
  "mode": ${JSON.stringify(mode)},
  "generator": "tests/bucketing/vectors.mjs",
  "splits": [
${rows(splits)}
  ],
  "rollouts": [
${rows(rollouts)}
  ]
}
`;
  const path = `${here}../data/bucketing-vectors-${mode}.json`;
  writeFileSync(path, text);
  console.log(`${path}: ${splits.length} splits, ${rollouts.length} rollouts`);
}
