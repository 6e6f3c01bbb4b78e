#!/usr/bin/env bash
# Bad inputs and faults against a glossa binary (default: the release build),
# as an adversarial user would try them: every case must end with the exit
# code it names and no panic, and no user file may be touched.
#
#   cargo build --release && tests/battery.sh [path/to/glossa]
set -u
G=$(realpath "${1:-target/release/glossa}")
M=$(realpath data/models/tiny-polish-gpt2)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2

total=0
bad=0
# expect CODE COMMAND...: the command exits with CODE and prints no panic.
expect() {
    local want=$1
    shift
    local out rc
    out=$("$@" 2>&1)
    rc=$?
    total=$((total + 1))
    if [ "$rc" != "$want" ] || grep -q panicked <<<"$out"; then
        bad=$((bad + 1))
        echo "UNEXPECTED (exit $rc, wanted $want): $*"
        head -3 <<<"$out"
    fi
}
fail() {
    bad=$((bad + 1))
    echo "UNEXPECTED: $*"
}

"$G" extract -q --model "$M" --out ds >/dev/null 2>&1 || { echo "the extraction failed"; exit 1; }

# Closed pipes end quietly; a full disk on standard output is an error.
"$G" search 'diet*' --data ds --limit 100000 | head -1 >/dev/null
[ "${PIPESTATUS[0]}" = 0 ] || fail "search into a closed pipe"
"$G" verify --data ds | head -1 >/dev/null
[ "${PIPESTATUS[0]}" = 0 ] || fail "verify into a closed pipe"
for args in "info" "search dieta" "show neuron 2 17"; do
    # shellcheck disable=SC2086
    expect 1 sh -c "\"$G\" $args --data ds > /dev/full"
done

# Lists longer than the rank column can hold.
expect 1 "$G" extract --model "$M" --out o1 --head-k 65536
expect 1 "$G" extract --model "$M" --out o1 --k 70000
expect 1 "$G" extract --model "$M" --out o1 --connections 0
# Connection lists longer than a layer has neurons (the shipped model's 256).
expect 1 "$G" extract --model "$M" --out o1 --connections 257

# SQL that cannot be answered is an error, never a panic; Parquet needs a file.
expect 1 "$G" query "SELEC 1" --data ds
expect 1 "$G" query "SELECT * FROM nowhere" --data ds
expect 1 "$G" query "SELECT 1" --data ds --format parquet

# A damaged, a half-deleted and a replaced index: reported, then rebuilt.
cp -r ds damaged
for f in $(ls damaged/index/*.idx damaged/index/*.term | head -3); do truncate -s 7 "$f"; done
expect 3 "$G" verify --data damaged
expect 0 "$G" search dieta --data damaged
expect 0 "$G" verify --data damaged
cp -r ds no-meta
rm no-meta/index/meta.json
expect 0 "$G" index --data no-meta
expect 0 "$G" verify --data no-meta
cp -r ds index-file
rm -rf index-file/index
echo x >index-file/index
expect 0 "$G" search dieta --data index-file
expect 0 "$G" verify --data index-file

# Another schema version is refused by every command.
cp -r ds future
sed -i 's/"schema_version": [0-9]*/"schema_version": 99/' future/manifest.json
for args in "search dieta" "show neuron 2 17" "info" "index" "plot copying --out c.svg"; do
    # shellcheck disable=SC2086
    expect 1 "$G" $args --data future
done
expect 3 "$G" verify --data future

# Options that contradict each other or the dataset.
expect 1 "$G" extract --model "$M" --out o2 --max-tokens 5
expect 1 "$G" extract --model "$M" --out o2 --text-column x
expect 1 "$G" extract --model "$M" --out o2 --qk-offset 3
expect 1 "$G" search dieta --data ds --circuit qk --kind neuron
expect 1 "$G" search "dieta -> zdrowie" --data ds --kind neuron
expect 1 "$G" search dieta --data ds --side key --kind head
expect 1 "$G" search dieta --data ds --layer 99
expect 1 "$G" search dieta --data ds --limit 0
expect 1 "$G" show neuron 9 0 --data ds
expect 1 "$G" show neuron 0 99999 --data ds
expect 1 "$G" show head 0 99 --data ds
expect 1 "$G" plot neuron 2 17 --side value --data ds --k 0
expect 1 "$G" plot neuron 2 17 --side value --data ds --k 999

# Output paths that are not a dataset's.
mkdir mine
echo notes >mine/notes.txt
expect 1 "$G" extract --model "$M" --out mine
[ "$(ls mine)" = notes.txt ] || fail "a directory of the user's was written to"
echo f >a-file
expect 1 "$G" extract --model "$M" --out a-file
expect 1 "$G" search dieta --data missing

# Restrictions that leave no token.
touch empty.txt
expect 1 "$G" extract --model "$M" --out o3 --token-list empty.txt
expect 1 "$G" extract --model "$M" --out o3 --token-list /dev/null
expect 1 "$G" extract --model "$M" --out o3 --filter min-len=40

# What a dataset does not hold, or holds wrongly.
"$G" extract -q --model "$M" --out neurons-only --no-heads >/dev/null 2>&1
expect 1 "$G" show head 0 0 --data neurons-only
cp -r ds swapped
cp swapped/neurons/layer-001.parquet swapped/neurons/layer-002.parquet
expect 1 "$G" show neuron 2 17 --data swapped
expect 3 "$G" verify --data swapped

# Malformed queries.
expect 1 "$G" search "$(printf 'a%.0s' $(seq 990))*" --data ds
expect 1 "$G" search 'dieta~x' --data ds

# A model that cannot be found leaves nothing behind.
HF_HUB_OFFLINE=1 HF_HUB_CACHE="$work/cache" expect 1 "$G" extract --model nobody/nothing
[ -e data ] && fail "a failed run left data/ behind"

# Usage errors are clap's.
expect 2 "$G" search
expect 2 "$G" extract --k many --model "$M"

echo "$total cases, $bad unexpected"
[ "$bad" = 0 ]
