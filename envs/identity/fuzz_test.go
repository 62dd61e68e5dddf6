package identity

import (
	"fmt"
	"strings"
	"testing"

	"github.com/distribution/reference"
)

// seeds are the fuzz corpus: varied repository and branch names, each with
// two different worktree roots. TestSeedRootsDistinct checks that no two
// roots here share an h4, so every seed pair must produce distinct names.
var seeds = []struct{ repo, branch, rootA, rootB string }{
	{"shop", "main", "/src/shop", "/src/shop-wt2"},
	{"shop", "feature/billing", "/home/dev/shop", "/home/dev/worktrees/billing"},
	{"Shop.API", "Release/V1.2.3", "/repos/shop", "/repos/shop-release"},
	{"shop", "fix//..  thing", "/a", "/b"},
	{"shop", "--wip--", "/tmp/x", "/tmp/y"},
	{"", "", "/", "/root"},
	{"...", "___", "/w/1", "/w/2"},
	{"商店", "功能/支付", "/srv/商店", "/srv/商店-2"},
	{"shop", "feature/café-crème", "/Users/dev/shop", "/Users/dev/shop2"},
	{"shop", "detached-1a2b3c4", "/var/wt/a", "/var/wt/b"},
	{"shop", strings.Repeat("very-long-branch-", 12), "/long/a", "/long/b"},
	{strings.Repeat("r", 100), strings.Repeat("b", 100), "/rb/a", "/rb/b"},
	{"shop", strings.Repeat("a", 52) + "-bbbb", "/cut/a", "/cut/b"},
	{"shop", "emoji/🚀-launch", "/e/1", "/e/2"},
	{"shop", "tab\tand\nnewline", "/ws/tab", "/ws/newline"},
	{"shop", "\xff\xfe invalid utf8", "/bad/a", "/bad/b"},
	{"my_repo", "_x_", "C:\\src\\shop", "C:\\src\\shop2"},
	{"shop", "HEAD", "/same/prefix/one", "/same/prefix/two"},
	{"my wörk trée", "Feature/ÜNÏ_côde+x", "/o/a", "/o/b"},
}

func h4Of(root string) string {
	return fmt.Sprintf("%04x", RootHash(root)>>16)
}

func FuzzProjectName(f *testing.F) {
	for _, s := range seeds {
		f.Add(s.repo, s.branch, s.rootA, s.rootB)
	}
	f.Fuzz(func(t *testing.T, repo, branch, rootA, rootB string) {
		a := ProjectName(repo, branch, rootA)
		if !Valid(a) {
			t.Fatalf("ProjectName(%q, %q, %q) = %q is not Valid", repo, branch, rootA, a)
		}
		// Built images are named "<project>-<service>": the project must
		// also be a valid image name.
		if _, err := reference.ParseNormalizedNamed(a + "-svc"); err != nil {
			t.Fatalf("ProjectName(%q, %q, %q) = %q is no valid image name: %v", repo, branch, rootA, a, err)
		}
		if again := ProjectName(repo, branch, rootA); again != a {
			t.Fatalf("not deterministic: %q then %q", a, again)
		}
		if !strings.HasSuffix(a, "-"+h4Of(rootA)) {
			t.Fatalf("%q does not end with the root hash %s", a, h4Of(rootA))
		}
		b := ProjectName(repo, branch, rootB)
		if h4Of(rootA) != h4Of(rootB) && a == b {
			t.Fatalf("roots %q and %q have different hashes but share the name %q", rootA, rootB, a)
		}
		if rootA == rootB && a != b {
			t.Fatalf("one root, two names: %q and %q", a, b)
		}
	})
}

// TestSeedRootsDistinct guards the corpus: its roots must all hash apart so
// the fuzz target's seed pairs really exercise distinct names.
func TestSeedRootsDistinct(t *testing.T) {
	seen := map[string]string{}
	for _, s := range seeds {
		for _, root := range []string{s.rootA, s.rootB} {
			h := h4Of(root)
			if other, ok := seen[h]; ok && other != root {
				t.Errorf("roots %q and %q share h4 %s; pick another seed root", other, root, h)
			}
			seen[h] = root
		}
		a := ProjectName(s.repo, s.branch, s.rootA)
		b := ProjectName(s.repo, s.branch, s.rootB)
		if a == b {
			t.Errorf("seed %q/%q: roots %q and %q share the name %q", s.repo, s.branch, s.rootA, s.rootB, a)
		}
	}
}
