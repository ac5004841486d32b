#!/usr/bin/env bash
# The CLI's contract with its user: a correct table for good input, one line
# on stderr and exit status 2 for bad input, never a crash.
set -u
moegate="$1"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

expect_usage_error() {  # expect_usage_error DESCRIPTION ARGS...
  local description="$1"; shift
  local stderr status
  stderr=$("$moegate" "$@" 2>&1 >/dev/null); status=$?
  if [ "$status" -ne 2 ]; then fail "$description: exit $status, want 2"; return; fi
  if [ "$(printf '%s\n' "$stderr" | wc -l)" -ne 1 ]; then fail "$description: stderr is not one line: $stderr"; return; fi
  case "$stderr" in moegate:\ error:*) ;; *) fail "$description: stderr '$stderr'";; esac
  echo "ok: $description -> $stderr"
}

out=$("$moegate" route --preset kimi-k2 --tokens 4) || fail "route kimi-k2 exited $?"
rows=$(printf '%s\n' "$out" | awk '$1 ~ /^[0-9]+$/ && NF >= 6' | wc -l)
[ "$rows" -eq 32 ] || fail "kimi-k2 table has $rows rows, want 4 tokens x 8"
# Each token's 8 weights sum to the scaling factor 2.827.
printf '%s\n' "$out" | awk '$1 ~ /^[0-9]+$/ && NF >= 6 { sum[$1] += $4 }
  END { for (t in sum) if (sum[t] < 2.8269 || sum[t] > 2.8271) { print "token " t " sums to " sum[t]; bad = 1 } exit bad }' \
  || fail "kimi-k2 weights do not sum to 2.827"
"$moegate" presets | grep -q '^deepseek-v3 .* 256 .* 8 .* 8 .* 4 ' || fail "presets lacks deepseek-v3 256/8/8/4"
"$moegate" route --experts 12 --topk 3 --groups 4 --topk-group 2 --tokens 2 --mode f64 --dist ties >/dev/null || fail "f64 grouped route"
"$moegate" route --preset mimo256 --tokens 3000 --dtype bf16 --show 0 | grep -q 'ns per logit' || fail "large-T summary"
"$moegate" --help | grep -q route || fail "--help"
"$moegate" list | grep -q '^s02_warp_bank_conflict_free ' || fail "list lacks s02"
"$moegate" route --case "$(grep -m1 '^experts=' "$(dirname "$0")/../../property_tests/regressions.txt")" --check --show 1 |
  grep -q 'verdict: PASS' || fail "route --case --check"
"$moegate" route --preset deepseek-v3 --tokens 64 --dist ties --check --show 0 | grep -q 'verdict: PASS' || fail "route --check"

expect_usage_error "no subcommand"
expect_usage_error "unknown preset" route --preset nope --tokens 1
expect_usage_error "topk too large" route --experts 8 --topk 9 --tokens 1
expect_usage_error "groups not dividing" route --experts 10 --topk 2 --groups 3 --tokens 1
expect_usage_error "topk_group too large" route --preset deepseek-v3 --topk-group 9 --tokens 1
expect_usage_error "negative tokens" route --preset kimi-k2 --tokens -5
expect_usage_error "non-numeric tokens" route --preset kimi-k2 --tokens many
expect_usage_error "missing tokens" route --preset kimi-k2
expect_usage_error "bad dtype" route --preset kimi-k2 --tokens 1 --dtype fp8
expect_usage_error "bad distribution" route --preset kimi-k2 --tokens 1 --dist cauchy
expect_usage_error "bad mode" route --preset kimi-k2 --tokens 1 --mode f16
expect_usage_error "zero scaling factor" route --preset kimi-k2 --tokens 1 --scaling-factor 0
expect_usage_error "nan scaling factor" route --preset kimi-k2 --tokens 1 --scaling-factor nan
expect_usage_error "no config" route --tokens 1
expect_usage_error "absurd size" route --experts 1000000 --topk 1 --tokens 60000000
expect_usage_error "unknown flag" route --preset kimi-k2 --tokens 1 --frobnicate
expect_usage_error "unknown profile" route --preset kimi-k2 --tokens 1 --profile numpy
expect_usage_error "bad case line" route --case "experts=3 topk=nine"
# Issue #15: case lines are read strictly; renormalize=yes (a config description's spelling) means yes.
strict_line="experts=8 topk=2 groups=1 kept_groups=1 renormalize=yes scaling=2.5 apply=1 nan_rank=lowest nan_replacement=-1e+30 zero_sum=raw scaling_rule=with_renormalize tokens=2 row_stride=8 logits=normal bias=normal hostile=4 logits_dtype=f32 bias_dtype=f32 seed=3"
"$moegate" route --case "$strict_line" --mode f64 --show 2 | awk '$1 ~ /^[0-9]+$/ && NF >= 6 { sum[$1] += $4 }
  END { for (t in sum) if (sum[t] < 2.4999 || sum[t] > 2.5001) { print "token " t " sums to " sum[t]; bad = 1 } exit bad }' \
  || fail "route --case with renormalize=yes did not renormalize"
expect_usage_error "case line with experts=8abc" route --case "${strict_line/experts=8/experts=8abc}"
expect_usage_error "case line with seed=-1" route --case "${strict_line/seed=3/seed=-1}"
expect_usage_error "case line with a repeated key" route --case "$strict_line topk=1"
"$moegate" route --case "${strict_line/experts=8/experts=8abc}" 2>&1 | grep -q "experts: must be an integer" ||
  fail "a bad case line does not name the key"
expect_usage_error "unknown stage" route --preset kimi-k2 --tokens 1 --stage s77
expect_usage_error "stage refuses the shape" route --preset glm-4.5 --tokens 1 --stage s02_warp_bank_conflict_free
expect_usage_error "unknown logit family" route --preset kimi-k2 --tokens 1 --logits cauchy

# Issue #15: outputs that are not regular files are refused at once, naming the path (no 2 GB read, no hang).
suite_dir=$(mktemp -d)
"$moegate" vectors --out "$suite_dir/suite" --preset glm-4.5 --dtype f32 --tokens 2 2>/dev/null >/dev/null || fail "vectors for check"
expect_usage_error "check --outputs /dev/zero" check --vectors "$suite_dir/suite" --outputs /dev/zero
expect_usage_error "check --outputs a directory" check --vectors "$suite_dir/suite" --outputs "$suite_dir"
mkfifo "$suite_dir/fifo"
timeout 10 "$moegate" check --vectors "$suite_dir/suite" --outputs "$suite_dir/fifo" 2>&1 | grep -q "not a regular file" ||
  fail "check --outputs FIFO is not refused at once"
# Issue #15: validated before anything is allocated (these used to build GBs of inputs, then fail).
for args in "route --experts 32 --topk 1 --tokens 67108864 --stage bogus" \
            "vectors --out $suite_dir/big --experts 16777216 --topk 1 --tokens 1048576"; do
  start=$(date +%s)
  # shellcheck disable=SC2086
  expect_usage_error "$args" $args
  [ $(( $(date +%s) - start )) -le 2 ] || fail "$args took more than 2 s"
done
[ ! -e "$suite_dir/big" ] || fail "vectors left a folder behind for refused arguments"
expect_usage_error "a case whose row stride is huge" route --case "${strict_line/row_stride=8/row_stride=99999999999}"
expect_usage_error "a case whose row stride is below experts" route --case "${strict_line/row_stride=8/row_stride=4}"
# Issue #15: messages that say what is wrong.
"$moegate" route --preset kimi-k2 --tokens abc 2>&1 | grep -q "must be an integer in \[0, 67108864\], got 'abc'" || fail "--tokens abc message"
"$moegate" route --preset kimi-k2 --tokens 1 --show -1 2>&1 | grep -q "^moegate: error: --show: must be an integer in \[0, 1099511627776\], got '-1'$" ||
  fail "--show -1 message"
"$moegate" bogus 2>&1 | grep -q "unknown subcommand 'bogus'" || fail "unknown subcommand message"
"$moegate" vectors --out "$suite_dir/x" --experts 8 2>&1 | grep -q "^moegate: error: vectors: give" || fail "vectors without --topk names vectors"
expect_usage_error "seed -1" route --preset kimi-k2 --tokens 1 --seed -1
expect_usage_error "seed 2^64" route --preset kimi-k2 --tokens 1 --seed 18446744073709551616
"$moegate" vectors --out "$suite_dir/custom" --experts 8 --topk 2 --dtype f32 --tokens 2 2>/dev/null | grep -q "wrote suite 'custom'" ||
  fail "a custom suite is reported as 'custom'"
# Issue #15: suites are written whole or not at all; nothing is silently ignored.
expect_usage_error "vectors with an unknown preset beside a known one" vectors --out "$suite_dir/p" --preset kimi-k2 --preset bogus
[ ! -e "$suite_dir/p" ] || fail "a refused vectors call left a folder"
expect_usage_error "vectors --preset with --scaling-factor" vectors --out "$suite_dir/p" --preset kimi-k2 --scaling-factor 2
expect_usage_error "vectors --out ''" vectors --out "" --preset kimi-k2
touch "$suite_dir/a-file"
expect_usage_error "vectors --out an existing file" vectors --out "$suite_dir/a-file" --preset kimi-k2
expect_usage_error "vectors --out a non-empty folder" vectors --out "$suite_dir/suite" --preset glm-4.5 --dtype f32 --tokens 2
expect_usage_error "vectors --out an unwritable path" vectors --out /proc/moegate-suite --preset glm-4.5
touch "$suite_dir/suite/case-9999.safetensors"
"$moegate" vectors --out "$suite_dir/suite" --preset glm-4.5 --dtype f32 --tokens 2 --replace 2>/dev/null >/dev/null ||
  fail "vectors --replace"
[ ! -e "$suite_dir/suite/case-9999.safetensors" ] || fail "vectors --replace left a stale case file"
ls "$suite_dir" | grep -q writing && fail "a temporary folder was left behind"
# A case file that is a symlink leaving the suite's folder is refused, naming it.
first_case=$(ls "$suite_dir/suite" | grep -m1 '^case-')
ln -sf /dev/zero "$suite_dir/suite/$first_case.tmp" && mv -f "$suite_dir/suite/$first_case.tmp" "$suite_dir/suite/$first_case"
expect_usage_error "a case file linking out of the suite" check --vectors "$suite_dir/suite" --outputs /dev/null
"$moegate" check --vectors "$suite_dir/suite" --outputs /dev/null 2>&1 | grep -q "leads out of the suite" ||
  fail "a case file linking out of the suite is not named"
# Suites that express hostile cases: chosen families, every expert hostile (fewer than k finite
# biased scores), padded rows with finite padding, bf16 bias; the manifest says so, the files
# hold the padded rows, and the reference's own outputs pass check (route --case per case).
"$moegate" vectors --out "$suite_dir/hostile" --experts 12 --topk 3 --family normal:neg_inf --family tiny:zero:0 \
  --hostile 8 --row-padding 3 --padding large --bias-dtype bf16 --dtype f32 --tokens 2 2>/dev/null >/dev/null ||
  fail "vectors with families, --hostile, --row-padding, --padding, --bias-dtype"
manifest="$suite_dir/hostile/manifest.json"
[ "$(grep -o '"case": *"[^"]*"' "$manifest" | wc -l)" -eq 4 ] || fail "2 families x T in {1, 2}: not 4 cases"
grep -q 'row_stride=15 padding=large offset=0 logits=normal bias=neg_inf hostile=8 logits_dtype=f32 bias_dtype=bf16' \
  "$manifest" || fail "the manifest's case lines do not carry the options"
grep -q 'logits=tiny bias=zero hostile=0' "$manifest" || fail "the tiny family (its own hostile share) is missing"
line=$(grep -o '"case": *"[^"]*"' "$manifest" | head -1 | sed -E 's/"case": *"//; s/"$//')
"$moegate" route --case "$line" --check 2>&1 | grep -q "PASS" || fail "route --case --check on a hostile padded case"
expect_usage_error "vectors --family without a bias family" vectors --out "$suite_dir/f" --experts 8 --topk 2 --family normal
expect_usage_error "vectors --family with an unknown family" vectors --out "$suite_dir/f" --experts 8 --topk 2 --family odd:zero
expect_usage_error "vectors --family with a hostile share of 9" vectors --out "$suite_dir/f" --experts 8 --topk 2 --family specials:neg_inf:9
expect_usage_error "vectors --hostile 9" vectors --out "$suite_dir/f" --experts 8 --topk 2 --hostile 9
expect_usage_error "vectors --padding without padded rows" vectors --out "$suite_dir/f" --experts 8 --topk 2 --padding large
expect_usage_error "vectors --padding unknown" vectors --out "$suite_dir/f" --experts 8 --topk 2 --row-padding 1 --padding odd
expect_usage_error "vectors --bias-dtype unknown" vectors --out "$suite_dir/f" --experts 8 --topk 2 --bias-dtype f64
[ ! -e "$suite_dir/f" ] || fail "a refused vectors call left a folder"
rm -rf "$suite_dir"

if [ "$failures" -ne 0 ]; then echo "$failures CLI check(s) failed"; exit 1; fi
echo "all CLI checks passed"
