# report.html in a real browser: Debian's chromium, headless, with every
# network feature off and a fresh profile, takes a screenshot of the report
# of the fixture database; the screenshot must not be blank — many colours
# (the platforms' boxes among them), and ink on a good share of the page.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 not installed"
CHROMIUM=$(command -v chromium || command -v chromium-browser) ||
  skip "chromium not installed (scripts/deps.sh installs Debian's chromium)"
DB=$TMP/fx.db
bash "$SRC/tests/integration/data/report-fixture.sh" "$BIN" "$SRC" "$DB" >"$TMP/fx.out" 2>&1 ||
  { tail -20 "$TMP/fx.out"; fail "fixture run"; }
"$LOCKSTEP" report --db "$DB" --out "$TMP/report" >/dev/null 2>"$TMP/e" ||
  { cat "$TMP/e"; fail "report"; }
mkdir -p "$TMP/profile"
# HOME too: chromium writes beside its profile even when told where that is
HOME=$TMP timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
  --no-first-run --disable-background-networking --disable-component-update --disable-sync \
  --disable-default-apps --disable-extensions --user-data-dir="$TMP/profile" \
  --screenshot="$TMP/shot.png" --window-size=1100,1800 "file://$TMP/report/report.html" \
  >"$TMP/chromium.out" 2>&1
rc=$?
[ -s "$TMP/shot.png" ] || { tail -20 "$TMP/chromium.out"; fail "no screenshot (chromium exit $rc)"; }
python3 - "$TMP/shot.png" <<'PY' || fail "the screenshot looks blank"
# PNG decoded with zlib alone: chunks, inflate, undo each row's filter
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat = 8, b""
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
assert depth == 8 and ctype in (2, 6), f"unexpected PNG format depth {depth} type {ctype}"
bpp = 3 if ctype == 2 else 4
raw, stride = zlib.decompress(idat), w * bpp
prev, rows, i = bytearray(stride), [], 0
for _ in range(h):
    f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
    i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b, c = prev[x], prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(line)
    prev = line
colours, ink = set(), 0
for line in rows:
    for x in range(0, stride, bpp):
        px = tuple(line[x:x + 3])
        colours.add(px)
        ink += sum(px) < 700
share = ink / (w * h)
print(f"{w}x{h}: {len(colours)} colours, {100 * share:.1f}% ink")
if len(colours) < 50 or share < 0.02:
    sys.exit("blank")
PY
pass "report.html rendered by headless chromium: not blank"
