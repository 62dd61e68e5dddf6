package queue

import (
	"errors"
	"testing"
	"time"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	in := Job{OrderID: 42, EnqueuedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	s, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"order_id":42,"enqueued_at":"2026-01-02T03:04:05Z"}`; s != want {
		t.Fatalf("Encode = %s, want %s", s, want)
	}
	out, err := Decode(s)
	if err != nil {
		t.Fatal(err)
	}
	if !out.EnqueuedAt.Equal(in.EnqueuedAt) || out.OrderID != in.OrderID {
		t.Fatalf("Decode(Encode(j)) = %+v, want %+v", out, in)
	}
}

func TestEncodeRejectsMissingOrder(t *testing.T) {
	if _, err := Encode(Job{}); !errors.Is(err, ErrBadJob) {
		t.Fatalf("Encode(Job{}) error = %v, want ErrBadJob", err)
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, s := range []string{"", "not json", `{"order_id":0}`, `{"order_id":-1}`, `[]`} {
		if _, err := Decode(s); !errors.Is(err, ErrBadJob) {
			t.Errorf("Decode(%q) error = %v, want ErrBadJob", s, err)
		}
	}
}
