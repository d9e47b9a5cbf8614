#!/usr/bin/env bash
# pictures.sh makes the README's screenshots of the chat screen, reproducibly.
#
# Usage: scripts/pictures.sh            (from anywhere inside the repository)
#
# It builds Parley, runs `parley --demo` (the built-in demo gateway: no key,
# no network beyond loopback) in a private tmux server of a fixed size with
# the dark theme, types prompts with send-keys, waits for known text on the
# screen (polling `tmux capture-pane -p` against a deadline), captures the
# screen with its colours (`capture-pane -e -p`) and renders each capture to
# SVG with freeze (github.com/charmbracelet/freeze, run from the Go module
# proxy; it is a tool, not a dependency of Parley). The pictures land in
# docs/:
#
#   docs/chat.svg     an answer streaming: markdown, code, the unfolded
#                     reasoning (ctrl+t) and the status bar (100×30)
#   docs/queued.svg   a request the gateway queued, counting down (100×30)
#   docs/escapes.svg  the demo's escape-injection answer, neutralised (100×30)
#   docs/tools.svg    a tool call waiting for approval (100×30)
#   docs/compare.svg  compare mode, two models side by side (160×40)
#
# Requirements: go, tmux (3.0 or newer), and pyftsubset (Python fonttools:
# `apt-get install fonttools` or `pip install fonttools`). pyftsubset cuts
# the embedded font (JetBrains Mono, shipped with freeze) down to the
# characters on screen, which keeps each SVG at 20–45 KB instead of about
# 400 KB; without it the whole font is embedded and a warning is printed.
#
# Nothing of the machine leaks into the pictures: Parley runs with a
# minimal environment, HOME and the XDG directories in a fresh temporary
# directory (removed at exit), and the script checks every capture for the
# temporary directory, the user's home and name before writing it.
# The demo's pace is set with PARLEY_DEMO_SPEED (a factor of its natural
# pace, or "instant") and its simulated queue with PARLEY_DEMO_QUEUE_EVERY
# (every Nth chat request is first answered 429 "queued"; negative: never).
# There are no fixed pauses: every step waits for text on the screen, so a
# slower or faster machine yields the same pictures (the streaming one is
# taken at a moment chosen by text, so its numbers vary a little).
# It takes about half a minute once Go's caches are warm.
set -euo pipefail

readonly freeze_mod=github.com/charmbracelet/freeze
readonly freeze_version=v0.2.2
readonly deadline_s=30 # longest wait for any expected text
missing= # the text a failed wait was waiting for

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly repo
work=$(mktemp -d "${TMPDIR:-/tmp}/parley-pictures.XXXXXX")
readonly work
readonly sock="parley-pictures-$$"

# tm runs a command of the private tmux server.
tm() { "$tmux_bin" -L "$sock" "$@"; }

cleanup() {
	if [[ -n ${tmux_bin:-} ]]; then
		tm kill-server >/dev/null 2>&1 || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

die() {
	echo "pictures: $*" >&2
	exit 1
}

command -v go >/dev/null || die "go is not installed"
tmux_bin=$(command -v tmux) || die "tmux is not installed"

started=$SECONDS
echo "pictures: building parley and freeze"
(cd "$repo" && go build -trimpath -o "$work/parley" .)
GOBIN="$work/bin" go install "$freeze_mod@$freeze_version"
freeze_dir=$(go mod download -json "$freeze_mod@$freeze_version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
font="$freeze_dir/font/JetBrainsMonoNL-Regular.ttf"
[[ -f $font ]] || die "freeze's font is missing from the module cache"

mkdir -p "$work/home" "$work/captures" "$repo/docs"
printf '%s\n' 'set -g status off' 'set -g remain-on-exit on' >"$work/tmux.conf"

# start NAME COLS ROWS ENV... -- ARGS... runs parley ARGS in a new session
# NAME of the private tmux server, in a pane of COLS×ROWS, with a fresh
# HOME and XDG directories and the extra environment ENV (VAR=value).
start() {
	local name=$1 cols=$2 rows=$3
	shift 3
	local env=()
	while [[ $1 != -- ]]; do
		env+=(-e "$1")
		shift
	done
	shift
	local dir="$work/home/$name"
	mkdir -p "$dir"
	# tmux is started with a minimal environment: its server hands it to
	# every pane, so nothing of the caller's reaches parley.
	env -i PATH=/usr/bin:/bin LANG=C.UTF-8 TERM=xterm-256color \
		"$tmux_bin" -u -L "$sock" -f "$work/tmux.conf" new-session -d -s "$name" -x "$cols" -y "$rows" \
		-e HOME="$dir" -e XDG_CONFIG_HOME="$dir/config" -e XDG_DATA_HOME="$dir/data" \
		-e XDG_STATE_HOME="$dir/state" -e XDG_CACHE_HOME="$dir/cache" \
		-e TERM=xterm-256color -e LANG=C.UTF-8 "${env[@]}" \
		"$work/parley" "$@"
}

# screen NAME prints NAME's screen as plain text.
screen() { tm capture-pane -p -t "$1"; }

# has TEXT WANT... reports whether every WANT is in TEXT; the first one
# missing is left in $missing.
has() {
	local text=$1 want
	shift
	for want in "$@"; do
		if [[ $text != *"$want"* ]]; then
			missing=$want
			return 1
		fi
	done
}

# wait_for NAME TEXT... polls the screen of NAME until every TEXT is on it,
# failing with the screen shown after deadline_s seconds.
wait_for() {
	local name=$1
	shift
	local end=$((SECONDS + deadline_s)) s
	while :; do
		s=$(screen "$name")
		has "$s" "$@" && return 0
		if ((SECONDS >= end)); then
			printf 'pictures: %s: the screen never showed %q within %ds:\n%s\n' "$name" "$missing" "$deadline_s" "$s" >&2
			exit 1
		fi
		sleep 0.05
	done
}

# type_line NAME TEXT types TEXT into NAME's input and sends it.
type_line() {
	tm send-keys -t "$1" -l "$2"
	wait_for "$1" "$2"
	tm send-keys -t "$1" Enter
}

# shot NAME OUT WANT... captures NAME's screen with its colours, once two
# captures in a row agree (so no frame is caught half drawn) and the screen
# between them shows every WANT, and keeps it for rendering as docs/OUT.svg.
# It refuses a screen that shows a path of this machine or the user's name.
shot() {
	local name=$1 out=$2 a b plain end=$((SECONDS + deadline_s))
	shift 2
	while :; do
		a=$(tm capture-pane -e -p -t "$name")
		plain=$(screen "$name")
		b=$(tm capture-pane -e -p -t "$name")
		[[ $a == "$b" ]] && has "$plain" "$@" && break
		((SECONDS < end)) || die "$name: no steady screen showing \"$missing\" within ${deadline_s}s"
	done
	local leak
	for leak in "$work" "$repo" "$HOME"; do
		[[ $plain != *"$leak"* ]] || die "$name: the screen shows a path of this machine"
	done
	if grep -qwF -e "${USER:-$(id -un)}" <<<"$plain"; then
		die "$name: the screen shows the user's name"
	fi
	printf '%s\n' "$a" | normalise >"$work/captures/$out.ansi"
	printf '%s\n' "$plain" >"$work/captures/$out.txt"
	tm kill-session -t "$name"
}

# normalise rewrites a capture (tmux capture-pane -e) into the subset of
# ANSI that freeze draws faithfully. freeze starts every line unstyled and
# gives each SGR sequence its own span holding that one attribute, while
# tmux writes only the changes and carries them across lines. So every run
# of text whose colours differ from the previous run's is preceded by a
# full reset, the background (if any) and the foreground (if any), and each
# line restates its colours. Reverse video is applied by swapping the
# colours; bold, italic and underline are dropped (freeze v0.2.2 cannot
# combine them with a colour), and so is every other control sequence.
normalise() {
	awk '
	function sgr(params, n, p, i, v) {
		gsub(/:/, ";", params)
		n = split(params, p, ";")
		if (n == 0) { fg = ""; bg = ""; rev = 0; return }
		for (i = 1; i <= n; i++) {
			v = p[i] + 0
			if (v == 0) { fg = ""; bg = ""; rev = 0 }
			else if (v == 7) rev = 1
			else if (v == 27) rev = 0
			else if (v >= 30 && v <= 37 || v >= 90 && v <= 97) fg = v ""
			else if (v == 39) fg = ""
			else if (v >= 40 && v <= 47) bg = "48;5;" (v - 40)
			else if (v >= 100 && v <= 107) bg = v ""
			else if (v == 49) bg = ""
			else if ((v == 38 || v == 48) && p[i + 1] == 5) {
				if (v == 38) fg = "38;5;" p[i + 2]; else bg = "48;5;" p[i + 2]
				i += 2
			} else if ((v == 38 || v == 48) && p[i + 1] == 2) {
				if (v == 38) fg = "38;2;" p[i + 2] ";" p[i + 3] ";" p[i + 4]
				else bg = "48;2;" p[i + 2] ";" p[i + 3] ";" p[i + 4]
				i += 4
			}
		}
	}
	# asbg and asfg turn a foreground into a background and back, for
	# reverse video; "" is the default colour (freeze: #c4c4c4 on #171717).
	function asbg(c) {
		if (c == "") return "48;2;196;196;196"
		if (c ~ /^38;/) return "48;" substr(c, 4)
		if (c + 0 >= 90) return (c + 10) ""
		return "48;5;" (c - 30)
	}
	function asfg(c) {
		if (c == "") return "38;2;23;23;23"
		if (c ~ /^48;/) return "38;" substr(c, 4)
		return (c - 10) ""
	}
	BEGIN { esc = sprintf("%c", 27); csi = "^" esc "\\[[0-9;:]*[@-~]" }
	{
		line = $0; out = ""; shownfg = ""; shownbg = ""
		while (line != "") {
			if (match(line, csi)) {
				seq = substr(line, 1, RLENGTH)
				line = substr(line, RLENGTH + 1)
				if (seq ~ /m$/) sgr(substr(seq, 3, length(seq) - 3))
				continue
			}
			n = index(line, esc)
			if (n == 1) { line = substr(line, 2); continue }
			if (n == 0) n = length(line) + 1
			text = substr(line, 1, n - 1)
			line = substr(line, n)
			f = fg; b = bg
			if (rev) { f = asfg(bg); b = asbg(fg) }
			if (f != shownfg || b != shownbg) {
				out = out esc "[0m"
				if (b != "") out = out esc "[" b "m"
				if (f != "") out = out esc "[" f "m"
				shownfg = f; shownbg = b
			}
			out = out text
		}
		printf "%s%s", (NR > 1 ? "\n" : ""), out
	}'
}

demo=(--demo --theme dark)

# 1. An answer streaming, with its reasoning unfolded. demo-think reasons
# before it answers; at half its natural pace the answer is still
# streaming when the first code block has a few lines, and ctrl+t then
# unfolds the reasoning (scrolling up to it and leaving the view there).
start chat 100 30 PARLEY_DEMO_SPEED=0.5 PARLEY_DEMO_QUEUE_EVERY=-1 -- "${demo[@]}" -m demo-think
wait_for chat "Welcome"
type_line chat "Think it through, then show some Python code"
wait_for chat "yield json.loads(payload)"
tm send-keys -t chat C-t
wait_for chat "▾ Thought for" "streaming"
shot chat chat "▾ Thought for" "streaming"

# 2. A queued request counting down. The first answer (a table) goes
# through; the gateway queues every second request for two seconds.
start queued 100 30 PARLEY_DEMO_SPEED=4 PARLEY_DEMO_QUEUE_EVERY=2 -- "${demo[@]}"
wait_for queued "Welcome"
type_line queued "Show the HTTP statuses a gateway returns, in a table"
wait_for queued "done"
type_line queued "And what does 429 mean?"
wait_for queued "queued · retry in"
shot queued queued "queued · retry in"

# 3. The demo's hostile answer: escape sequences hidden in the text (a
# clipboard write, a title change, a screen clear, a device control string
# and a right-to-left override), drawn harmlessly.
start escapes 100 30 PARLEY_DEMO_SPEED=4 PARLEY_DEMO_QUEUE_EVERY=-1 -- "${demo[@]}"
wait_for escapes "Welcome"
type_line escapes "What can escape sequences do to my terminal?"
wait_for escapes "invoicefdp.exe" "got through" "done"
shot escapes escapes "invoicefdp.exe" "done"

# 4. A tool call waiting for approval.
start tools 100 30 PARLEY_DEMO_SPEED=4 PARLEY_DEMO_QUEUE_EVERY=-1 -- "${demo[@]}"
wait_for tools "Welcome"
type_line tools "What is the weather in Paris?"
wait_for tools "get_weather" "allow once"
shot tools tools "allow once"

# 5. Compare mode: the same prompt to two models side by side.
start compare 160 40 PARLEY_DEMO_SPEED=2 PARLEY_DEMO_QUEUE_EVERY=-1 -- \
	compare "${demo[@]}" -m demo-fast -m demo-think "explain SSE"
# Both columns have finished when the summary lists both with their finish.
wait_for compare "summary" "demo-fast" "demo-think"
end=$((SECONDS + deadline_s))
until [[ $(screen compare | grep -cE '^ *[12] +demo-[a-z]+ .* stop *$') -ge 2 ]]; do
	((SECONDS < end)) || die "compare: both answers never finished: $(screen compare)"
	sleep 0.05
done
shot compare compare "summary"

# The font, cut to the characters the pictures show.
font_args=()
if command -v pyftsubset >/dev/null; then
	cat "$work"/captures/*.txt >"$work/chars.txt"
	pyftsubset "$font" --text-file="$work/chars.txt" --unicodes=U+0020-007E \
		--flavor=woff --output-file="$work/font.woff" 2>/dev/null
	font_args=(--font.file "$work/font.woff" --font.family "JetBrains Mono")
else
	echo "pictures: warning: pyftsubset (fonttools) not found: embedding the whole font (~400 KB per picture)" >&2
fi

for capture in "$work"/captures/*.ansi; do
	name=$(basename "$capture" .ansi)
	if ! log=$("$work/bin/freeze" --language ansi --window --padding 20,24 --margin 0 \
		--border.radius 8 "${font_args[@]}" --output "$work/$name.svg" "$capture" 2>&1); then
		die "freeze failed on $name: ${log//$work/TMP}"
	fi
	# Should a viewer refuse the embedded font, a monospace one keeps the
	# columns aligned.
	sed 's/font-family="JetBrains Mono"/font-family="JetBrains Mono, DejaVu Sans Mono, Menlo, Consolas, monospace"/' \
		"$work/$name.svg" >"$repo/docs/$name.svg"
	echo "pictures: wrote docs/$name.svg ($(($(wc -c <"$repo/docs/$name.svg") / 1024)) KB)"
done
echo "pictures: done in $((SECONDS - started)) s"
