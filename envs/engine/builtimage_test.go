package engine

import (
	"testing"

	"github.com/distribution/reference"
)

func TestBuiltImageIsAValidName(t *testing.T) {
	for _, svc := range []string{"api", "API", "my.svc", "a__b", "a___b", "a-_b", "a._b", "a..b", "-x-", "Ünï", "x_-_y", "a.-b", "web_1"} {
		ref := BuiltImage("shop-main-1a2b", svc)
		if _, err := reference.ParseNormalizedNamed(ref); err != nil {
			t.Errorf("service %q: %q: %v", svc, ref, err)
		}
	}
}
