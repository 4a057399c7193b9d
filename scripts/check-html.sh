#!/usr/bin/env bash
# Renders a report.html in a real browser (headless Chromium) and checks that:
#   - the screenshot exists and is a PNG of exactly the requested size (from its IHDR header);
#   - Chromium logged nothing from the page's console: the page has no script, so any console
#     message (a script error, a Content-Security-Policy refusal, a failed load) is a fault.
# Before that it checks the check: a clean page must pass and pages with a console.error, a
# broken script and a blocked external image must each fail.
#
# Usage: scripts/check-html.sh [EXPERIMENT]   (default: experiments/quickstart.json)
# Environment: CHECK_HTML_SIZE=WxH (default 1366x900), KEEP=1 keeps the temp directory,
# SURGE_BIN=path uses that surge binary instead of building one.
# Installs Debian's chromium with apt-get when no Chromium is found (as root, or with sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

experiment=${1:-experiments/quickstart.json}
size=${CHECK_HTML_SIZE:-1366x900}
width=${size%x*}
height=${size#*x}
script_start=$(date +%s)
work=$(mktemp -d "${TMPDIR:-/tmp}/surge-check-html.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then
    echo "keeping $work"
else
    trap 'rm -rf "$work"' EXIT
fi

say() { printf '%s\n' "$*"; }
die() { printf 'check-html: FAIL: %s\n' "$*" >&2; exit 1; }

# 1. A browser.
find_browser() {
    local c
    for c in chromium chromium-browser google-chrome google-chrome-stable; do
        if command -v "$c" >/dev/null 2>&1; then
            command -v "$c"
            return 0
        fi
    done
    return 1
}
if ! browser=$(find_browser); then
    if [ "$(id -u)" = 0 ]; then
        sudo=()
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo=(sudo -n)
    else
        die "no Chromium found, and installing one needs root or passwordless sudo (apt-get install chromium)"
    fi
    say "installing chromium with apt-get..."
    install_start=$(date +%s)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >"$work/apt.log" 2>&1 \
        || { cat "$work/apt.log" >&2; die "apt-get update failed"; }
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        chromium >>"$work/apt.log" 2>&1 \
        || { tail -n 30 "$work/apt.log" >&2; die "apt-get install chromium failed"; }
    say "installed chromium in $(($(date +%s) - install_start)) s"
    browser=$(find_browser) || die "chromium installed but not on PATH"
fi
say "browser: $("$browser" --version 2>/dev/null || echo "$browser")"

# 2. Helpers.

# render PAGE PNG LOG: a screenshot of PAGE at the requested size; Chromium's log in LOG.
render() {
    local page=$1 png=$2 log=$3
    rm -f "$png"
    # Its own profile, no background traffic, and any host it might resolve sent nowhere.
    timeout 120 "$browser" --headless --no-sandbox --disable-gpu \
        --user-data-dir="$work/profile" --no-first-run --no-default-browser-check \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-extensions --hide-scrollbars --host-resolver-rules='MAP * ~NOTFOUND' \
        --enable-logging=stderr --v=0 \
        --window-size="$width,$height" --screenshot="$png" "file://$page" \
        >"$log" 2>&1
}

# console_messages LOG: the page's console messages Chromium logged (none for a clean page).
# Chromium logs each as `[...:INFO:CONSOLE:line] "text", source: URL (line)` (older versions:
# `CONSOLE(line)`) whatever the level; CSP refusals and uncaught exceptions go there too.
console_messages() {
    grep -E ':CONSOLE([(:][0-9]+\)?)?\]|Uncaught |Refused to ' "$1" || true
}

# png_size PNG: "WIDTH HEIGHT" from the IHDR chunk, or nothing if it is not a PNG.
png_size() {
    local sig ihdr w h
    sig=$(od -An -tx1 -N8 "$1" | tr -d ' \n')
    [ "$sig" = 89504e470d0a1a0a ] || return 0
    ihdr=$(od -An -c -j12 -N4 "$1" | tr -d ' \n')
    [ "$ihdr" = IHDR ] || return 0
    w=$(od -An -tu1 -j16 -N4 "$1" | awk '{print $1*16777216 + $2*65536 + $3*256 + $4}')
    h=$(od -An -tu1 -j20 -N4 "$1" | awk '{print $1*16777216 + $2*65536 + $3*256 + $4}')
    echo "$w $h"
}

# check PAGE NAME: renders and prints why the page fails, or nothing if it passes.
check() {
    local page=$1 name=$2 png="$work/$2.png" log="$work/$2.log" got messages
    render "$page" "$png" "$log" || { echo "chromium failed:"; tail -n 20 "$log"; return 0; }
    [ -s "$png" ] || { echo "no screenshot"; return 0; }
    got=$(png_size "$png")
    [ -n "$got" ] || { echo "the screenshot is not a PNG"; return 0; }
    [ "$got" = "$width $height" ] || { echo "the screenshot is ${got/ /x}, not ${width}x$height"; return 0; }
    messages=$(console_messages "$log")
    [ -z "$messages" ] || { echo "console messages:"; echo "$messages"; }
}

# 3. Check the check: it must pass a clean page and catch each kind of fault.
selftest_start=$(date +%s)
csp="<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">"
pixel='data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='
cat >"$work/clean.html" <<EOF
<!DOCTYPE html><html><head><meta charset="utf-8">$csp<style>body{font:16px sans-serif}</style></head>
<body><h1>clean</h1><img alt="pixel" src="$pixel"></body></html>
EOF
cat >"$work/console-error.html" <<'EOF'
<!DOCTYPE html><html><head><meta charset="utf-8"></head>
<body><h1>console.error</h1><script>console.error("deliberate error for the self-test");</script></body></html>
EOF
cat >"$work/broken-script.html" <<'EOF'
<!DOCTYPE html><html><head><meta charset="utf-8"></head>
<body><h1>broken script</h1><script>undefinedFunctionForTheSelfTest();</script></body></html>
EOF
cat >"$work/external-image.html" <<EOF
<!DOCTYPE html><html><head><meta charset="utf-8">$csp</head>
<body><h1>external image</h1><img alt="x" src="https://example.com/x.png"></body></html>
EOF
cat >"$work/escaped-script.html" <<EOF
<!DOCTYPE html><html><head><meta charset="utf-8">$csp</head>
<body><h1>unescaped script under the report's policy</h1><script>document.title = "ran";</script></body></html>
EOF
why=$(check "$work/clean.html" clean)
[ -z "$why" ] || die "self-test: the clean page must pass, but: $why"
for bad in console-error broken-script external-image escaped-script; do
    why=$(check "$work/$bad.html" "$bad")
    [ -n "$why" ] || die "self-test: the check missed the fault in $bad.html (log: $(cat "$work/$bad.log"))"
    say "self-test: $bad.html caught: $(echo "$why" | sed -n 2p | cut -c1-160)"
done
say "self-test passed in $(($(date +%s) - selftest_start)) s"

# 4. The real page.
# SURGE_BIN reuses a binary already built (CI passes the one `cargo test` just built).
if [ -n "${SURGE_BIN:-}" ]; then
    surge_bin=$SURGE_BIN
else
    build_start=$(date +%s)
    cargo build --locked -q
    say "built surge in $(($(date +%s) - build_start)) s"
    surge_bin=target/debug/surge
fi
out="$work/out"
"$surge_bin" run "$experiment" --out "$out" --html -q
page="$out/report.html"
[ -s "$page" ] || die "surge run --html wrote no $page"
why=$(check "$page" report)
[ -z "$why" ] || die "$page: $why"
svgs=$(find "$out" -maxdepth 1 -name '*.svg' | wc -l)
shot_bytes=$(wc -c <"$work/report.png")
say "ok: $experiment -> report.html ($(wc -c <"$page") bytes, $svgs plots) rendered at ${width}x$height, PNG $shot_bytes bytes, no console messages"
say "total $(($(date +%s) - script_start)) s"
