#!/bin/sh
# check-man.sh XENTCHECK MANPAGE
# The man page agrees with the program: the same commands as
# `xentcheck --help`, the same options (short and long) per command as
# `xentcheck help COMMAND`, the same global options, the same major version;
# and groff formats it without warnings. Prints every difference; exits 1
# when there is one, 2 on bad usage or a missing tool.
set -eu

if [ $# -ne 2 ]; then
    echo "usage: check-man.sh XENTCHECK MANPAGE" >&2
    exit 2
fi
bin=$1
man=$2
if ! command -v groff >/dev/null 2>&1; then
    echo "check-man.sh: groff is needed (Debian package groff-base)" >&2
    exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

# The man page source with \- as -, one copy for every extraction below.
sed 's/\\-/-/g' "$man" > "$tmp/man"

# Lines of section NAME (".SS NAME" or ".SH NAME") up to the next heading.
man_section() {
    awk -v want="$1" '
        /^\.S[SH] / { name = $0; sub(/^\.S[SH] +/, "", name); gsub(/"/, "", name)
                      on = (name == want); next }
        on' "$tmp/man"
}

# Options named on option lines, one per line: "-t --target" or "--time".
# From a help text: lines starting with spaces and a dash.
help_options() {
    grep -oE '^ +(-[A-Za-z], )?--[a-z][a-z-]*' | tr -d ',' | sed 's/^ *//'
}
# From a man section: the tag line following each .TP.
man_options() {
    awk 'prev == ".TP" { print } { prev = $0 }' |
        grep -oE '(^|[ "])--?[A-Za-z][A-Za-z-]*' | tr -d ' "' |
        awk '/^-[A-Za-z]$/ { short = $0 " "; next } { print short $0; short = "" }'
}

compare() {  # WHAT HELP-LIST MAN-LIST
    sort -u "$2" > "$2.s"
    sort -u "$3" > "$3.s"
    if ! cmp -s "$2.s" "$3.s"; then
        echo "check-man.sh: $1 differ (< --help, > man page):"
        diff "$2.s" "$3.s" | grep '^[<>]' || true
        status=1
    fi
}

# Commands: the "commands:" block of --help against the .SS headings.
"$bin" --help > "$tmp/usage"
awk '/^commands:/ { on = 1; next } on && /^$/ { on = 0 } on { print $1 }' \
    "$tmp/usage" > "$tmp/help.commands"
awk '/^\.SH COMMANDS/ { on = 1; next } /^\.SH / { on = 0 }
     on && /^\.SS / { print $2 }' "$tmp/man" > "$tmp/man.commands"
compare "commands" "$tmp/help.commands" "$tmp/man.commands"

# Options of each command.
while read -r cmd; do
    [ "$cmd" = help ] && continue
    if ! "$bin" help "$cmd" > "$tmp/help.$cmd"; then
        echo "check-man.sh: 'xentcheck help $cmd' failed"
        status=1
        continue
    fi
    help_options < "$tmp/help.$cmd" > "$tmp/help.$cmd.opts"
    man_section "$cmd" | man_options > "$tmp/man.$cmd.opts"
    compare "options of '$cmd'" "$tmp/help.$cmd.opts" "$tmp/man.$cmd.opts"
done < "$tmp/help.commands"

# Global options: the long ones of the usage lines against OPTIONS.
grep -E '^(usage:| )' "$tmp/usage" | grep -oE -- '--[a-z][a-z-]*' > "$tmp/help.global"
man_section OPTIONS | man_options | grep -oE -- '--[a-z][a-z-]*' > "$tmp/man.global"
compare "global options" "$tmp/help.global" "$tmp/man.global"

# Version: the major of --version against the .TH source "xentcheck MAJOR".
major=$("$bin" --version | sed -n 's/^xentcheck \([0-9][0-9]*\)\..*/\1/p')
th=$(sed -n 's/^\.TH .*"xentcheck \([0-9][0-9]*\)".*/\1/p' "$tmp/man")
if [ -z "$major" ] || [ "$major" != "$th" ]; then
    echo "check-man.sh: major version: --version says '$major', .TH says '$th'"
    status=1
fi

# Formatting: groff's warnings (-ww), none expected.
groff -man -ww -z "$man" > "$tmp/groff" 2>&1 || true
if [ -s "$tmp/groff" ]; then
    echo "check-man.sh: groff warns:"
    cat "$tmp/groff"
    status=1
fi

[ "$status" -eq 0 ] && echo "check-man.sh: $man agrees with $bin --help"
exit "$status"
