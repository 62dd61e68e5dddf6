package identity

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
)

const root = "/home/dev/src/shop"

// h4 is the suffix every name for root must end with.
var h4 = fmt.Sprintf("%04x", RootHash(root)>>16)

func TestProjectName(t *testing.T) {
	long := strings.Repeat("very-long-branch-", 12)[:200]
	tests := []struct {
		name, repo, branch string
		want               string
	}{
		{"plain", "shop", "main", "shop-main-" + h4},
		{"slash", "shop", "feature/billing", "shop-feature-billing-" + h4},
		{"dots", "shop", "release/v1.2.3", "shop-release-v1-2-3-" + h4},
		{"uppercase", "Shop", "Feature/BILLING", "shop-feature-billing-" + h4},
		{"run of odd characters", "shop", "fix//..  thing", "shop-fix-thing-" + h4},
		{"dash and underscore kept", "my_shop", "fix-1_a", "my_shop-fix-1_a-" + h4},
		{"leading and trailing dashes", "-shop-", "--wip--", "shop-wip-" + h4},
		{"leading underscore", "_shop", "_x_", "shop-x-" + h4},
		{"mixed separators collapse", "my wörk trée", "Feature/ÜNÏ_côde+x", "my-w-rk-tr-e-feature-n-c-de-x-" + h4},
		{"double underscore", "a__b", "c___d", "a-b-c-d-" + h4},
		{"unicode inside", "shop", "feature/café-crème", "shop-feature-caf-cr-me-" + h4},
		{"unicode only branch", "shop", "功能", "shop-branch-" + h4},
		{"unicode only repo", "商店", "main", "repo-main-" + h4},
		{"empty parts", "", "", "repo-branch-" + h4},
		{"only punctuation", "...", "///", "repo-branch-" + h4},
		{"detached", "shop", "detached-1a2b3c4", "shop-detached-1a2b3c4-" + h4},
		{"long branch", "shop", long,
			"shop-" + long[:57-len("shop")] + "-" + h4},
		{"long branch cut before a dash", "shop", strings.Repeat("a", 52) + "-bbbbbbbbbb",
			"shop-" + strings.Repeat("a", 52) + "-" + h4},
		{"long repo and branch", strings.Repeat("r", 100), strings.Repeat("b", 100),
			strings.Repeat("r", 45) + "-" + strings.Repeat("b", 12) + "-" + h4},
		{"long repo short branch", strings.Repeat("r", 100), "main",
			strings.Repeat("r", 53) + "-main-" + h4},
		{"exactly 63", strings.Repeat("r", 28), strings.Repeat("b", 29),
			strings.Repeat("r", 28) + "-" + strings.Repeat("b", 29) + "-" + h4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ProjectName(tt.repo, tt.branch, root)
			if got != tt.want {
				t.Errorf("ProjectName(%q, %q) = %q, want %q", tt.repo, tt.branch, got, tt.want)
			}
			if !Valid(got) {
				t.Errorf("ProjectName(%q, %q) = %q is not Valid", tt.repo, tt.branch, got)
			}
		})
	}
}

func TestProjectNameDependsOnRoot(t *testing.T) {
	a := ProjectName("shop", "main", "/src/shop")
	b := ProjectName("shop", "main", "/src/shop-wt2")
	if a == b {
		t.Fatalf("two roots share the name %q", a)
	}
	if again := ProjectName("shop", "main", "/src/shop"); again != a {
		t.Fatalf("not deterministic: %q then %q", a, again)
	}
}

func TestRootHash(t *testing.T) {
	for _, r := range []string{"", "/", "/src/shop", "/src/shop/"} {
		sum := sha256.Sum256([]byte(r))
		if got, want := RootHash(r), binary.BigEndian.Uint32(sum[:4]); got != want {
			t.Errorf("RootHash(%q) = %08x, want %08x", r, got, want)
		}
	}
	// A fixed value pins the hash function itself: changing it would move
	// every existing stack to a new project name and port block.
	if got := RootHash("/src/shop"); got != 0x3cb8c763 {
		t.Errorf("RootHash(/src/shop) = %08x, want 3cb8c763", got)
	}
}

func TestValid(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"shop-main-1a2b", true},
		{"0shop", true},
		{"a", true},
		{"a_b-c", true},
		{strings.Repeat("a", 63), true},
		{strings.Repeat("a", 64), false},
		{"", false},
		{"-shop", false},
		{"_shop", false},
		{"Shop", false},
		{"shop.main", false},
		{"shop/main", false},
		{"shop main", false},
		{"café", false},
	}
	for _, tt := range tests {
		if got := Valid(tt.name); got != tt.want {
			t.Errorf("Valid(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSharedName(t *testing.T) {
	a := SharedName("Shop", "/src/shop/.git")
	if !strings.HasPrefix(a, "shop-shared-") || !Valid(a) {
		t.Errorf("SharedName = %q, want a valid shop-shared-<h4>", a)
	}
	if b := SharedName("Shop", "/src/other/.git"); b == a {
		t.Errorf("two repositories share the name %q", a)
	}
	if a != SharedName("Shop", "/src/shop/.git") {
		t.Error("SharedName is not stable")
	}
}
