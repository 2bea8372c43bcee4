#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from the repository's fixtures and goldens and a fixed sample of
# ../shared/corpus (every Nth file in sorted order, so reruns seed the same files).
# Usage: fuzz/seed.sh [SHARED_CORPUS]   (default /work/shared/corpus)
set -euo pipefail
cd "$(dirname "$0")"
repo=..
shared=${1:-/work/shared/corpus}
corpus=corpus

# copy TARGET PREFIX FILE...: one seed per file; PREFIX (may be empty) goes before the bytes.
copy() {
  local target=$1 prefix=$2; shift 2
  mkdir -p "$corpus/$target"
  for f in "$@"; do
    [ -f "$f" ] || continue
    { printf '%s' "$prefix"; cat "$f"; } >"$corpus/$target/$(printf '%s' "$prefix$f" | sha1sum | cut -c1-16)"
  done
}

# sample DIR PATTERN N: every Nth matching file under DIR, sorted.
sample() {
  [ -d "$1" ] || return 0
  find "$1" -type f -name "$2" | LC_ALL=C sort | awk -v n="$3" 'NR % n == 1'
}

# KQL: the constructs file split at its `----` lines, and the golden KQL outputs.
mkdir -p "$corpus/kql_parse"
awk -v dir="$corpus/kql_parse" '/^----$/ { n++; next } !/^\/\// { print > (dir "/construct-" n) }' "$repo/tests/kql/constructs.kql"
mapfile -t kql < <(find "$repo/golden/kql" -name '*.kql' | LC_ALL=C sort)
copy kql_parse "" "${kql[@]}"

mapfile -t sentinel < <(find "$repo/tests/fixtures/sentinel" "$repo/tests/fixtures/foreign" -name '*.y*ml'; sample "$shared/sentinel" '*.yaml' 30)
mapfile -t arm < <(find "$repo/tests/fixtures/arm" "$repo/tests/fixtures/foreign" "$repo/golden/sentinel" -name '*.json' | LC_ALL=C sort)
mapfile -t markdown < <(echo "$repo/tests/fixtures/sentinel-rule-front-matter.md"; find "$repo/tests/fixtures/pages" -name '*.md')
mapfile -t catalog < <(echo "$repo/tests/fixtures/rule-catalog.md"; find "$repo/../shared/seeds" "$shared/../seeds" -name '*.md' 2>/dev/null)
mapfile -t sigma < <(find "$repo/golden/sigma" -name '*.yml' | LC_ALL=C sort | head -20; sample "$shared/sigma/rules" '*.yml' 50)
mapfile -t pages < <(find "$repo/tests/fixtures/pages" -name '*.txt')

copy read_sentinel_yaml "" "${sentinel[@]}"
copy read_arm "" "${arm[@]}"
copy read_markdown "" "${markdown[@]}"
# Sentinel YAML as front matter over a line of prose: more markdown seeds.
for f in "${sentinel[@]:0:15}"; do
  { echo '---'; cat "$f"; echo '---'; echo; echo 'Notes.'; } >"$corpus/read_markdown/fm-$(sha1sum <"$f" | cut -c1-16)"
done
copy read_catalog "" "${catalog[@]}"
copy read_sigma "" "${sigma[@]}"

# convert_all: the first byte picks the file name the format detection sees
# ('0' rule.yaml, '1' rule.md, '2' rule.json, '3' rule).
copy convert_all 0 "${sentinel[@]}" "${sigma[@]}"
copy convert_all 1 "${markdown[@]}" "${catalog[@]}"
copy convert_all 2 "${arm[@]}"
copy convert_all 3 "${pages[@]}"

# detect_format: the bytes of every kind of rule file, as a folder search meets them.
copy detect_format "" "${sentinel[@]}" "${sigma[@]}" "${markdown[@]}" "${catalog[@]}" "${arm[@]}" "${pages[@]}"

# test_rule: a rule, a NUL byte, then its events (JSON Lines), from the `test` fixtures.
mkdir -p "$corpus/test_rule"
for pair in "arm/content_package.json:sign-ins.jsonl" "sentinel/scheduled_tags.yaml:running-rat.jsonl" "rule-catalog.md:vm-run-command.jsonl"; do
  rule="$repo/tests/fixtures/${pair%%:*}" events="$repo/tests/fixtures-events/${pair##*:}"
  { cat "$rule"; printf '\0'; cat "$events"; } >"$corpus/test_rule/$(basename "$rule")"
done
for f in "${sigma[@]:0:20}"; do
  { cat "$f"; printf '\0'; echo '{"CommandLine":"powershell -enc AA","Image":"C:\\Windows\\System32\\cmd.exe"}'; } >"$corpus/test_rule/sigma-$(sha1sum <"$f" | cut -c1-16)"
done

for d in "$corpus"/*/; do echo "$(ls "$d" | wc -l) seeds in $d"; done
