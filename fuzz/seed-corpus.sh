#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ with seeds: flags-example, the invalid corpus of
# tests/data/invalid, the synthetic ruleset, a few request bodies and a
# bundle. The flag_files target reads its first byte as the format selector
# (0 YAML, 1 JSON, 2 TOML, 3 flags.toml), so seeds get that byte in front.
set -euo pipefail
cd "$(dirname "$0")"
root=..
mkdir -p corpus/flag_files corpus/contexts corpus/bundle

seed() { # seed SELECTOR FILE
  local name
  name=$(sha1sum "$2" | cut -c1-16)
  { printf "\\x$1"; cat "$2"; } >"corpus/flag_files/$1-$name"
}
while IFS= read -r -d '' f; do
  case "$f" in
    */flags.toml) seed 03 "$f" ;;
    *.yaml | *.yml) seed 00 "$f" ;;
    *.json) seed 01 "$f" ;;
    *.toml) seed 02 "$f" ;;
  esac
done < <(find "$root/flags-example" "$root/tests/data/invalid" synthetic.yaml -type f -print0)

i=0
for body in '{}' '{"context": {"targetingKey": "user-42", "country": "DE"}}' \
  '{"targetingKey": 7, "email": "ana@example.com", "plan": "enterprise", "version": "2.4.0"}' \
  '{"userId": "u-1", "tags": ["beta", 3, true], "n": 1e300, "t": "2025-06-01T00:00:00Z"}' \
  '{"context": {"targetingKey": "k", "role": "beta", "a": {"nested": [null, {"x": -0.0}]}}}'; do
  printf '%s' "$body" >"corpus/contexts/seed-$i"
  i=$((i + 1))
done

for env in staging production; do
  cargo run -q --manifest-path "$root/Cargo.toml" --bin flagctl -- \
    bundle --repo "$root/flags-example" --env "$env" -o "corpus/bundle/$env.json" >/dev/null
done
echo "seeded: $(ls corpus/flag_files | wc -l) flag files, $(ls corpus/contexts | wc -l) contexts, $(ls corpus/bundle | wc -l) bundles"
