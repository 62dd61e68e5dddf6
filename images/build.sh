#!/usr/bin/env bash
# Build local stand-ins for the official postgres, redis and golang images
# (postgres and redis from Debian packages, golang from the host's Go
# toolchain), for machines where no container registry is reachable.
#
#   images/build.sh               build missing images, keep existing tags
#   images/build.sh --force       rebuild all four images
#   images/build.sh --print-tags  print the tags and exit
#   images/build.sh --print-env   print POSTGRES_IMAGE=... lines and exit
#
# Exit status: 0 on success, 1 on failure (the message names the step).
# Environment:
#   WTENV_DEBIAN_MIRROR  Debian mirror URI to use instead of the one found in
#                        the host's apt sources (optional).
#   WTENV_GO             go command whose GOROOT goes into the golang image
#                        (default: go on PATH, else /usr/local/go/bin/go).
set -euo pipefail

SUITE=bookworm
BASE_TAG=wtenv-local/debian:bookworm
PG_TAG=wtenv-local/postgres:15
REDIS_TAG=wtenv-local/redis:7
GO_MINOR=1.26
GO_TAG=wtenv-local/golang:$GO_MINOR
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { printf 'build.sh: %s\n' "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

usage() {
	sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
}

FORCE=0
for arg in "$@"; do
	case "$arg" in
	--force) FORCE=1 ;;
	--print-tags) printf '%s\n' "$BASE_TAG" "$PG_TAG" "$REDIS_TAG" "$GO_TAG"; exit 0 ;;
	--print-env)
		# The variables examples/shop/compose.yaml (and compose files written
		# like it) read to pick these images instead of the official ones.
		printf '%s\n' "POSTGRES_IMAGE=$PG_TAG" "REDIS_IMAGE=$REDIS_TAG" "GO_IMAGE=$GO_TAG"
		exit 0 ;;
	-h|--help) usage; exit 0 ;;
	*) usage; die "unknown argument: $arg" ;;
	esac
done

WORK=$(mktemp -d)
PIDS=()
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# With --force, remember which image each tag pointed at; once rebuilt, the
# old one (now untagged) is removed by id. docker rmi without -f refuses
# images that still have other tags or containers, so only our leftovers go.
OLD_IDS=()
remember_old() {
	local id
	id=$(docker image inspect -f '{{.Id}}' "$1" 2>/dev/null) && OLD_IDS=("$id" "${OLD_IDS[@]}") || true
}
drop_old() {
	local id
	for id in "${OLD_IDS[@]}"; do
		[ -z "$(docker image inspect -f '{{join .RepoTags ","}}' "$id" 2>/dev/null)" ] || continue
		docker rmi "$id" >/dev/null 2>&1 && log "removed replaced image $(printf %.12s "${id#sha256:}")" || true
	done
}

# Print one-line "deb URI SUITE main" entries for $SUITE, $SUITE-updates and
# $SUITE-security, taken from the host's apt sources (one-line and deb822).
apt_source_lines() {
	local files=()
	[ -f /etc/apt/sources.list ] && files+=(/etc/apt/sources.list)
	local f
	for f in /etc/apt/sources.list.d/*.list; do [ -f "$f" ] && files+=("$f"); done
	for f in /etc/apt/sources.list.d/*.sources; do [ -f "$f" ] && files+=("$f"); done
	[ ${#files[@]} -gt 0 ] || return 0
	awk -v suite="$SUITE" '
	function want(s) { return s == suite || s == suite "-updates" || s == suite "-security" }
	function emit(uri, s, comps) {
		sub(/\/+$/, "", uri)
		if (want(s) && (" " comps " ") ~ / main / && !seen[uri " " s]++)
			print "deb " uri " " s " main"
	}
	function flush(   i, j, nu, ns, u, s) {
		if (types ~ /(^| )deb( |$)/ && enabled != "no") {
			nu = split(uris, u, " "); ns = split(suites, s, " ")
			for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++) emit(u[i], s[j], comps)
		}
		types = uris = suites = comps = enabled = ""
	}
	FNR == 1 { flush(); deb822 = (FILENAME ~ /\.sources$/) }
	/^[ \t]*#/ { next }                 # comment lines are not paragraph breaks
	{ sub(/#.*/, "") }
	deb822 {
		if ($0 ~ /^[ \t]*$/) { flush(); next }
		if ($0 ~ /^[ \t]/) next          # continuation lines (e.g. inline keys)
		key = tolower($1); sub(/:$/, "", key)
		val = $0; sub(/^[^:]*:[ \t]*/, "", val); gsub(/[ \t]+/, " ", val)
		if (key == "types") types = val
		else if (key == "uris") uris = val
		else if (key == "suites") suites = val
		else if (key == "components") comps = val
		else if (key == "enabled") enabled = tolower(val)
		next
	}
	$1 == "deb" {
		i = 2
		if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
		c = ""; for (j = i + 2; j <= NF; j++) c = c " " $j
		emit($i, $(i + 1), c)
	}
	END { flush() }
	' "${files[@]}"
}

build_base() {
	local sources
	if [ -n "${WTENV_DEBIAN_MIRROR:-}" ]; then
		sources="deb ${WTENV_DEBIAN_MIRROR%/} $SUITE main"
	else
		sources=$(apt_source_lines)
	fi
	printf '%s\n' "$sources" | grep -q " $SUITE main$" ||
		die "base image: no 'deb ... $SUITE' entry in /etc/apt/sources.list{,.d/*.list,.d/*.sources}; set WTENV_DEBIAN_MIRROR"
	log "base: mirrors: $(printf '%s\n' "$sources" | awk '{print $2 " " $3}' | paste -sd, -)"

	if ! command -v mmdebstrap >/dev/null 2>&1; then
		[ "$(id -u)" = 0 ] || die "base image: mmdebstrap is not installed (run: apt-get install mmdebstrap)"
		log "base: installing mmdebstrap"
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap; } \
			>"$WORK/apt.log" 2>&1 || { tail -n 20 "$WORK/apt.log" >&2; die "base image: apt-get install mmdebstrap"; }
	fi
	local hooks=/usr/share/mmdebstrap/hooks/merged-usr
	[ -d "$hooks" ] || die "base image: $hooks not found (mmdebstrap too old?)"

	local include=()
	printf '%s\n' "$sources" | grep -q ' https://' && include=(--include=ca-certificates)

	local mirrors=()
	mapfile -t mirrors <<<"$sources"

	log "base: mmdebstrap $SUITE | docker import $BASE_TAG"
	# Keep man pages, docs and message translations out (like the official
	# slim images; dpkg.cfg.d keeps them out of derived images too) and stop
	# maintainer scripts from starting services (policy-rc.d).
	# Import untagged and tag only when mmdebstrap succeeded, so a failed or
	# truncated bootstrap never ends up under the tag.
	local id
	if ! id=$(mmdebstrap --quiet --variant=minbase --format=tar --hook-dir="$hooks" \
		"${include[@]}" \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/info/*' \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-include=/usr/share/doc/*/copyright' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		--dpkgopt='path-include=/usr/share/locale/locale.alias' \
		--customize-hook='printf "#!/bin/sh\nexit 101\n" >"$1/usr/sbin/policy-rc.d"; chmod 755 "$1/usr/sbin/policy-rc.d"' \
		--customize-hook='rm -rf "$1"/usr/share/man/* "$1"/usr/share/info/*; find "$1"/usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete; find "$1"/usr/share/locale -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +' \
		"$SUITE" - "${mirrors[@]}" 2>"$WORK/mmdebstrap.log" |
		docker import -c 'CMD ["bash"]' -c 'ENV LANG=C.UTF-8' \
			-m "debian $SUITE minbase (wtenv images/build.sh)" - 2>"$WORK/import.log")
	then
		[ -z "$id" ] || docker rmi "$id" >/dev/null 2>&1 || true
		tail -n 20 "$WORK/mmdebstrap.log" "$WORK/import.log" >&2
		die "base image $BASE_TAG (mmdebstrap | docker import)"
	fi
	docker tag "$id" "$BASE_TAG" || die "base image: docker tag $BASE_TAG"
}

# golang_context prints the directory of a build context for the golang
# image: images/golang's Dockerfile plus the host's GOROOT as go/. Tests, test
# data and the API/doc/misc trees are left out (about 75 MB of 270 MB); none
# of them is read when building or testing code outside the standard
# library. Sets GO_CONTEXT and GO_VERSION; on failure logs why and returns 1
# (the other images still build).
golang_context() {
	local gobin=${WTENV_GO:-}
	if [ -z "$gobin" ]; then
		gobin=$(command -v go 2>/dev/null || true)
		[ -n "$gobin" ] || gobin=/usr/local/go/bin/go
	fi
	if ! [ -x "$gobin" ] && ! command -v "$gobin" >/dev/null 2>&1; then
		log "golang: no Go toolchain found (install Go $GO_MINOR or set WTENV_GO=/path/to/go)"
		return 1
	fi
	local goroot version arch engine_arch
	if ! goroot=$("$gobin" env GOROOT) || ! version=$("$gobin" env GOVERSION) || ! arch=$("$gobin" env GOHOSTARCH); then
		log "golang: $gobin env failed"
		return 1
	fi
	case "$version" in
	"go$GO_MINOR" | "go$GO_MINOR".*) ;;
	*) log "golang: $gobin is $version, $GO_TAG needs Go $GO_MINOR.x (set WTENV_GO)"; return 1 ;;
	esac
	engine_arch=$(docker info -f '{{.Architecture}}' | sed 's/^x86_64$/amd64/;s/^aarch64$/arm64/')
	if [ "$arch" != "$engine_arch" ]; then
		log "golang: $gobin is built for $arch, the engine runs $engine_arch"
		return 1
	fi
	GO_VERSION=${version#go}
	local ctx="$WORK/golang"
	mkdir -p "$ctx/go"
	cp "$HERE/golang/Dockerfile" "$ctx/"
	if ! tar -C "$goroot" -cf - \
		--exclude=./test --exclude=./api --exclude=./doc --exclude=./misc \
		--exclude=testdata --exclude='*_test.go' . |
		tar -C "$ctx/go" -xf -; then
		log "golang: copying $goroot into the build context failed"
		return 1
	fi
	GO_CONTEXT=$ctx
}

# start_build NAME TAG DIR [BUILD-ARG...]: docker build in the background,
# log to $WORK/NAME.log
start_build() {
	local name=$1 tag=$2 dir=$3
	shift 3
	local args=() a
	for a in "$@"; do args+=(--build-arg "$a"); done
	log "$name: docker build $tag"
	(
		rc=0
		docker build --build-arg "BASE=$BASE_TAG" "${args[@]}" -t "$tag" "$dir" >"$WORK/$name.log" 2>&1 || rc=$?
		echo "$SECONDS" >"$WORK/$name.end"
		exit "$rc"
	) &
	PIDS+=($!)
	eval "PID_$name=\$!"
}

command -v docker >/dev/null 2>&1 || die "docker CLI not found"
docker info >/dev/null 2>&1 || die "cannot reach the docker engine (docker info failed)"

START=$(date +%s)
BUILT=() KEPT=()

if [ "$FORCE" = 1 ] || ! have_image "$BASE_TAG"; then
	remember_old "$BASE_TAG"
	t=$SECONDS
	build_base
	log "base: built $BASE_TAG in $((SECONDS - t))s"
	BUILT+=("$BASE_TAG")
else
	log "base: $BASE_TAG exists, keeping it"
	KEPT+=("$BASE_TAG")
fi

JOBS=() FAILED=()
BUILD_START=$SECONDS
for spec in "postgres $PG_TAG" "redis $REDIS_TAG" "golang $GO_TAG"; do
	set -- $spec
	if [ "$FORCE" = 1 ] || ! have_image "$2"; then
		remember_old "$2"
		if [ "$1" = golang ]; then
			golang_context || { FAILED+=("$2"); continue; }
			log "golang: Go $GO_VERSION from its GOROOT, context $(du -sh "$GO_CONTEXT" | cut -f1)"
			start_build "$1" "$2" "$GO_CONTEXT" "GO_VERSION=$GO_VERSION"
		else
			start_build "$1" "$2" "$HERE/$1"
		fi
		JOBS+=("$1 $2")
	else
		log "$1: $2 exists, keeping it"
		KEPT+=("$2")
	fi
done

for job in "${JOBS[@]}"; do
	set -- $job
	pid_var="PID_$1"
	if wait "${!pid_var}"; then
		log "$1: built $2 in $(( $(cat "$WORK/$1.end") - BUILD_START ))s"
		BUILT+=("$2")
	else
		log "$1: docker build failed, last lines of its log:"
		tail -n 25 "$WORK/$1.log" >&2
		FAILED+=("$2")
	fi
done
PIDS=()

[ ${#FAILED[@]} -eq 0 ] || die "image build: ${FAILED[*]}"
drop_old

log "done in $(( $(date +%s) - START ))s"
for t in "${BUILT[@]}"; do printf 'built %s\n' "$t"; done
for t in "${KEPT[@]}"; do printf 'kept %s\n' "$t"; done
