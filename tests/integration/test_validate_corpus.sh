# Scenario 6 of issue 7: random and truncated experiment files — the fuzz
# corpus of the experiment parser, and every shipped experiment cut at
# random places or with a byte changed — given to `lockstep validate`:
# exit 0 (still a valid experiment) or 2 with a message naming the file,
# never a crash or a hang.
if [ "${1:-}" = --one ]; then # worker mode: LOCKSTEP FILE...
  shift; bin=$1; shift
  for f in "$@"; do
    timeout 10 "$bin" validate "$f" >/dev/null 2>"$f.err"; rc=$?
    case $rc in
      0) echo "valid $f" ;;
      2) grep -q "^$f\(:[0-9]*:[0-9]*\)\?: " "$f.err" && echo "refused $f" ||
           echo "BAD no message naming the file: $f: $(head -c 200 "$f.err")" ;;
      *) echo "BAD exit $rc: $f: $(head -c 200 "$f.err")" ;;
    esac
  done
  exit 0
fi
. "$(dirname "$0")/lib.sh"
mkdir -p "$TMP/in"
i=0
for f in "$SRC"/tests/fuzz/corpus/fuzz_experiment/*; do
  cp "$f" "$TMP/in/c$i.yaml"; i=$((i + 1))
done
RANDOM=7
for f in "$SRC"/experiments/*.yaml; do
  size=$(stat -c %s "$f")
  for _ in $(seq 20); do
    head -c $((RANDOM % size)) "$f" > "$TMP/in/cut$i.yaml"
    cp "$f" "$TMP/in/flip$i.yaml"
    printf "\\x$(printf %02x $((RANDOM % 256)))" |
      dd of="$TMP/in/flip$i.yaml" bs=1 seek=$((RANDOM % size)) conv=notrunc status=none
    i=$((i + 1))
  done
done
i=$(ls "$TMP"/in/*.yaml | wc -l)
ls "$TMP"/in/*.yaml | xargs -P 4 -n 50 bash "$0" --one "$LOCKSTEP" > "$TMP/verdicts"
n=$(wc -l < "$TMP/verdicts")
invalid=$(grep -c "^refused " "$TMP/verdicts")
if grep "^BAD " "$TMP/verdicts"; then
  fail "lockstep validate crashed, hung or said nothing (above)"
fi
echo "$n files: $invalid refused with a message (exit 2), $((n - invalid)) valid"
[ "$n" -eq "$i" ] || fail "$n verdicts for $i files"
[ "$invalid" -gt 100 ] || fail "only $invalid invalid inputs: the corpus did not run"
pass "validate: no crash, exit 2 with a message for every invalid file"
