#!/usr/bin/env bash
# Checks the book's figures: a chapter's own text (docs/*.md, README.md) states no
# measured figure, and every page the chapters include from docs/generated/ exists.
# Measured figures come only from scripts/record-book.sh's files, included with
# mdBook's {{#include generated/...}}; that the included files still have the shape
# the lab's code gives them is checked by `cargo test -p turnstile-lab --test book`.
#
# Then it builds the book with mdBook (into target/book) and opens its pages in
# headless Chromium: each must load without a console error or a missing resource, and
# each experiment chapter must show its plot. mdbook and chromium come from
# scripts/install-test-deps.sh; without them this fails and says so.
#
# A "figure" is a number followed by a unit (ns, µs, us, ms, s, %, x, B, KiB, MiB, GiB,
# req/s, /s). Not counted: fenced code blocks, `inline code`, blockquotes (an
# article's claims, quoted as claims), "double-quoted" text, and lines that end in
# <!-- setting --> (a default or a knob, not a measurement) or <!-- claim --> (what an
# article says, stated as its claim).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 - "$@" <<'PY'
import glob, os, re, sys

UNIT = r"(?:ns|µs|us|ms|s|sec|seconds?|%|x|B|KiB|MiB|GiB|req/s|/s|times)"
FIGURE = re.compile(r"(?<![\w.\-/])\d[\d,]*(?:\.\d+)?\s?" + UNIT + r"(?![\w])")
files = sorted(glob.glob("docs/*.md")) + ["README.md"]
# Pages whose figures come from the criterion benches and callgrind rather than the
# tour, and are not yet recorded by scripts/record-book.sh: reported, not failed.
PENDING = {"docs/probes.md"}
bad = []
pending = {}
for path in files:
    fence = False
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        stripped = line.strip()
        if stripped.startswith("```"):
            fence = not fence
            continue
        if fence or stripped.startswith(">") or "{{#include" in line:
            continue
        if re.search(r"<!--\s*(setting|claim)\s*-->", line):
            continue
        text = re.sub(r"`[^`]*`", "", line)
        text = re.sub(r"\"[^\"]*\"|“[^”]*”", "", text)
        text = re.sub(r"\]\([^)]*\)", "]", text)  # link targets
        for m in FIGURE.finditer(text):
            if path in PENDING:
                pending[path] = pending.get(path, 0) + 1
                continue
            bad.append(f"{path}:{n}: {m.group(0).strip()!r} in: {stripped[:90]}")
if bad:
    print("check-book: hand-written text states measured figures; include them from")
    print("docs/generated/ (scripts/record-book.sh), or mark a default or an article's")
    print("claim with <!-- setting --> or <!-- claim --> at the end of its line:")
    print("\n".join(bad))
    sys.exit(1)

missing = []
for path in files:
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        for target in re.findall(r"\{\{#include\s+([^}:\s]+)", line):
            if not os.path.exists(os.path.join(os.path.dirname(path), target)):
                missing.append(f"{path}:{n}: {target}")
        for target in re.findall(r"\]\((generated/[^)\s]+)\)", line):
            if not os.path.exists(os.path.join(os.path.dirname(path), target)):
                missing.append(f"{path}:{n}: {target}")
if missing:
    print("check-book: included files are missing (run bash scripts/record-book.sh):")
    print("\n".join(missing))
    sys.exit(1)
for path, n in sorted(pending.items()):
    print(f"check-book: note: {path} still states {n} bench figure(s) by hand (not yet recorded)")
print(f"check-book: {len(files)} pages, no hand-typed tour figures, every include present")
PY

need() {
    command -v "$1" >/dev/null || {
        echo "check-book: $1 is missing; run bash scripts/install-test-deps.sh" >&2
        exit 1
    }
}
need mdbook
need chromium
log=$(mktemp)
if ! mdbook build >"$log" 2>&1 || grep -q "ERROR" "$log"; then
    cat "$log" >&2
    echo "check-book: mdbook build failed" >&2
    exit 1
fi

# Every page of the book (the print page is off), each in a fresh profile.
fail=0
pages=0
for md in docs/*.md; do
    name=$(basename "$md" .md)
    [ "$name" = SUMMARY ] && continue
    html="target/book/$name.html"
    [ -f "$html" ] || continue
    profile=$(mktemp -d)
    dom=$(timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic \
        --no-first-run --disable-background-networking --disable-component-update \
        --disable-sync --user-data-dir="$profile" --enable-logging=stderr --v=0 \
        --virtual-time-budget=2000 --dump-dom "file://$PWD/$html" 2>"$profile.err") || {
        echo "check-book: chromium failed on $html" >&2
        fail=1
    }
    if grep "CONSOLE" "$profile.err" | grep -Eq "Uncaught|Error|Failed to load"; then
        echo "check-book: $html: console errors:" >&2
        grep "CONSOLE" "$profile.err" >&2
        fail=1
    fi
    case "$dom" in *"<main>"*) ;; *) echo "check-book: $html: no page content" >&2; fail=1;; esac
    if grep -q "{{#include generated/$name.md:plot}}" "$md"; then
        case "$dom" in
            *"src=\"generated/$name.svg\""*) ;;
            *) echo "check-book: $html: its plot is not on the page" >&2; fail=1;;
        esac
    fi
    rm -rf "$profile" "$profile.err"
    pages=$((pages + 1))
done
[ "$fail" = 0 ] || exit 1
echo "check-book: mdbook built the book; $pages pages opened in Chromium without errors"
