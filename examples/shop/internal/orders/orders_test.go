package orders

import (
	"errors"
	"testing"
)

func TestTotal(t *testing.T) {
	tests := []struct {
		item string
		qty  int
		want int64
		err  error
	}{
		{"coffee", 3, 1050, nil},
		{"banana", 1, 25, nil},
		{"pen", MaxQty, 120 * MaxQty, nil},
		{"caviar", 1, 0, ErrUnknownItem},
		{"apple", 0, 0, ErrInvalidQty},
		{"apple", -2, 0, ErrInvalidQty},
		{"apple", MaxQty + 1, 0, ErrInvalidQty},
	}
	for _, tt := range tests {
		got, err := Total(tt.item, tt.qty)
		if !errors.Is(err, tt.err) {
			t.Errorf("Total(%q, %d) error = %v, want %v", tt.item, tt.qty, err, tt.err)
			continue
		}
		if got != tt.want {
			t.Errorf("Total(%q, %d) = %d, want %d", tt.item, tt.qty, got, tt.want)
		}
	}
}

func TestNormalizeThenValidate(t *testing.T) {
	n := NewOrder{Item: "  Coffee ", Qty: 2}.Normalize()
	if n.Item != "coffee" {
		t.Fatalf("Normalize item = %q, want coffee", n.Item)
	}
	if err := n.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
}

func TestValidateNamesTheChoices(t *testing.T) {
	err := NewOrder{Item: "tea", Qty: 1}.Validate()
	want := `unknown item "tea": choose one of apple, banana, coffee, notebook, pen`
	if err == nil || err.Error() != want {
		t.Fatalf("Validate error = %v, want %q", err, want)
	}
}

func TestItemsSorted(t *testing.T) {
	items := Items()
	if len(items) != len(prices) {
		t.Fatalf("Items() has %d entries, want %d", len(items), len(prices))
	}
	for i := 1; i < len(items); i++ {
		if items[i-1].Name >= items[i].Name {
			t.Fatalf("Items() not sorted: %q before %q", items[i-1].Name, items[i].Name)
		}
	}
}
