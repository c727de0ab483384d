#!/bin/sh
# Renders a real report's index.html in headless Chromium and checks it:
#   scripts/html-screenshot.sh XENTCHECK OUTDIR
# The report holds the built-in targets and, when XC_TEST_BREAKER_DIR names
# the built breakers, a failing one (two runs, merged and re-rendered by
# `xentcheck report`, which tests those too). Checks: the page logged
# nothing to the console, its DOM holds the three SVG plots, and the
# screenshot OUTDIR/shot.png is not blank (html-screenshot.mjs).
# Needs Debian's chromium and Node.js; a missing one fails, never skips.
set -eu

cli=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)

chromium=${XC_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$chromium" ]; then
    echo "html-screenshot: chromium is missing (Debian package chromium)" >&2
    exit 1
fi
if ! command -v node >/dev/null; then
    echo "html-screenshot: node is missing (Node.js)" >&2
    exit 1
fi

rm -rf "$out"
mkdir -p "$out"
# Exit 1 (a target failed) is expected of the breaker run; 2 is not.
run() {
    status=0
    "$cli" run --quiet --seed 7 --cases 120 "$@" >/dev/null || status=$?
    if [ "$status" -gt 1 ]; then
        echo "html-screenshot: xentcheck run $* exited $status" >&2
        exit 1
    fi
}
run --report "$out/builtin"
set -- "$out/builtin/report.json"
if [ -n "${XC_TEST_BREAKER_DIR:-}" ]; then
    run --report "$out/breaker" --plugin "$XC_TEST_BREAKER_DIR/bounds.so"
    set -- "$@" "$out/breaker/report.json"
fi
"$cli" report merge "$@" -o "$out/report.json"
"$cli" report render "$out/report.json" --format html,md,junit --report "$out"

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
page="file://$(cd "$out" && pwd)/index.html"
browse() {
    timeout 120 "$chromium" --headless --no-sandbox --disable-gpu \
        --disable-background-networking --disable-component-update \
        --disable-sync --no-first-run --user-data-dir="$profile" \
        --enable-logging=stderr --v=0 "$@" "$page"
}
browse --dump-dom >"$out/dom.html" 2>"$out/dom.log"
browse --screenshot="$out/shot.png" --window-size=1280,2400 \
    >/dev/null 2>"$out/shot.log"

# The page writes nothing to the console when all is well: any message
# (an uncaught exception, console.error) is a failure.
if grep -h 'CONSOLE' "$out/dom.log" "$out/shot.log"; then
    echo "html-screenshot: the page logged to the console (above)" >&2
    exit 1
fi
node "$here/html-screenshot.mjs" "$out/dom.html" "$out/shot.png"
echo "html-screenshot: $page renders with its plots; screenshot $out/shot.png"
