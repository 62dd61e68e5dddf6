// Package identity turns a worktree into the compose project name that
// every container, network and volume of its stack is named and labelled
// with.
package identity

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"regexp"
	"strings"
)

// MaxLen is the longest project name we produce. Compose accepts longer
// names, but container names derived from the project ("<project>-api-1")
// must stay readable and also fit in DNS labels.
const MaxLen = 63

// minPart is how many characters of the repo and branch parts survive
// shortening, so a shortened name still says which worktree it is.
const minPart = 12

// hashLen is the length of "-<h4>" at the end of every name.
const hashLen = 5

var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// Valid reports whether name is a project name we could have produced: it
// matches the compose project name rule and is at most MaxLen long.
func Valid(name string) bool {
	return len(name) <= MaxLen && validName.MatchString(name)
}

// RootHash hashes a worktree's absolute root path: the first four bytes of
// its sha256, big-endian. The project name shows its top 16 bits; the ports
// package uses all of it to pick the preferred port block.
func RootHash(root string) uint32 {
	sum := sha256.Sum256([]byte(root))
	return binary.BigEndian.Uint32(sum[:4])
}

// ProjectName returns "<repo>-<branch>-<h4>" for a worktree. Repo and
// branch are sanitized so that any name git accepts yields a valid project
// name; when the result would exceed MaxLen the branch and then the repo
// part are shortened, never the hash, because the hash is what keeps two
// worktrees of the same repository apart.
func ProjectName(repo, branch, root string) string {
	r := sanitize(repo, "repo")
	b := sanitize(branch, "branch")
	r, b = shorten(r, b, MaxLen-hashLen)
	return fmt.Sprintf("%s-%s-%04x", r, b, RootHash(root)>>16)
}

// SharedName returns "<repo>-shared-<h4>", the project of the services
// that all worktrees of a repository share (share: in wtenv.yaml), with h4
// from the repository's common git directory, which its worktrees have in
// common.
func SharedName(repo, commonDir string) string {
	return ProjectName(repo, "shared", commonDir)
}

// sanitize lowercases s and replaces every run of characters outside
// [a-z0-9] with one "-", except a lone "_", which stays: the result must be
// a valid compose project name and also a valid image name component, and
// image names allow "_" or "-"s between letters but not "-_" or "___".
// Leading and trailing separators are trimmed so the part can start a name;
// an empty result becomes fallback, which keeps names made only of
// non-Latin characters valid.
func sanitize(s, fallback string) string {
	var sb strings.Builder
	run := ""
	flush := func() {
		switch run {
		case "":
		case "_":
			sb.WriteByte('_')
		default:
			sb.WriteByte('-')
		}
		run = ""
	}
	for _, c := range strings.ToLower(s) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			flush()
			sb.WriteRune(c)
			continue
		}
		if c == '_' {
			run += "_"
		} else {
			run += "-"
		}
	}
	flush()
	if out := trim(sb.String()); out != "" {
		return out
	}
	return fallback
}

func trim(s string) string {
	return strings.Trim(s, "-_")
}

// shorten cuts repo and branch so that "<repo>-<branch>" fits in budget.
// The branch gives way first since repository names are usually short and
// shared by every worktree; each part keeps at least minPart characters.
// Both parts are ASCII after sanitize, so byte slicing is safe.
func shorten(repo, branch string, budget int) (string, string) {
	avail := budget - 1 // the "-" between the parts
	if len(repo)+len(branch) <= avail {
		return repo, branch
	}
	if keep := max(minPart, avail-len(repo)); keep < len(branch) {
		branch = trim(branch[:keep])
	}
	if keep := avail - len(branch); keep < len(repo) {
		repo = trim(repo[:keep])
	}
	return repo, branch
}
