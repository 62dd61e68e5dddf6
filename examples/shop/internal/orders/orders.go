// Package orders holds the shop's domain: what an order is, which items can
// be ordered at which price, and how an order's total is computed.
package orders

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Status is where an order is in its life.
type Status string

// The statuses an order goes through: the API stores it pending, the worker
// marks it done (or failed when it cannot be priced).
const (
	StatusPending Status = "pending"
	StatusDone    Status = "done"
	StatusFailed  Status = "failed"
)

// MaxQty bounds the quantity of one order, so that totals stay far from
// overflowing and a typo does not order a million pens.
const MaxQty = 1000

// Errors returned by Validate; callers turn them into 400 responses.
var (
	ErrUnknownItem = errors.New("unknown item")
	ErrInvalidQty  = errors.New("invalid quantity")
)

// Order is one stored order. TotalCents is set once the worker has priced it.
type Order struct {
	ID         int64     `json:"id"`
	Item       string    `json:"item"`
	Qty        int       `json:"qty"`
	Status     Status    `json:"status"`
	TotalCents *int64    `json:"total_cents,omitempty"`
	Error      string    `json:"error,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// NewOrder is what a client sends to place an order.
type NewOrder struct {
	Item string `json:"item"`
	Qty  int    `json:"qty"`
}

// Normalize returns the order with its item name trimmed and lower-cased, the
// form the price table and the database use.
func (n NewOrder) Normalize() NewOrder {
	n.Item = strings.ToLower(strings.TrimSpace(n.Item))
	return n
}

// Validate reports whether the order can be placed: the item must be on the
// price list and the quantity between 1 and MaxQty.
func (n NewOrder) Validate() error {
	if _, ok := prices[n.Item]; !ok {
		return fmt.Errorf("%w %q: choose one of %s", ErrUnknownItem, n.Item, strings.Join(itemNames(), ", "))
	}
	if n.Qty < 1 || n.Qty > MaxQty {
		return fmt.Errorf("%w %d: must be between 1 and %d", ErrInvalidQty, n.Qty, MaxQty)
	}
	return nil
}

// Item is one entry of the price list.
type Item struct {
	Name       string `json:"name"`
	PriceCents int64  `json:"price_cents"`
}

// prices is the fixed price list, in cents.
var prices = map[string]int64{
	"apple":    50,
	"banana":   25,
	"coffee":   350,
	"notebook": 275,
	"pen":      120,
}

// Items returns the price list sorted by name.
func Items() []Item {
	items := make([]Item, 0, len(prices))
	for _, name := range itemNames() {
		items = append(items, Item{Name: name, PriceCents: prices[name]})
	}
	return items
}

func itemNames() []string {
	names := make([]string, 0, len(prices))
	for name := range prices {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Total returns the price of qty units of item, in cents.
func Total(item string, qty int) (int64, error) {
	if err := (NewOrder{Item: item, Qty: qty}).Validate(); err != nil {
		return 0, err
	}
	return prices[item] * int64(qty), nil
}
