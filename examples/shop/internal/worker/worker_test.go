package worker

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/wtenv/wtenv/examples/shop/internal/orders"
	"github.com/wtenv/wtenv/examples/shop/internal/queue"
	"github.com/wtenv/wtenv/examples/shop/internal/store"
)

type fakeStore struct {
	orders map[int64]orders.Order
}

func (f *fakeStore) Get(_ context.Context, id int64) (orders.Order, error) {
	o, ok := f.orders[id]
	if !ok {
		return orders.Order{}, store.ErrNotFound
	}
	return o, nil
}

func (f *fakeStore) Complete(_ context.Context, id, total int64) (orders.Order, error) {
	o := f.orders[id]
	o.Status, o.TotalCents = orders.StatusDone, &total
	f.orders[id] = o
	return o, nil
}

func (f *fakeStore) Fail(_ context.Context, id int64, reason string) (orders.Order, error) {
	o := f.orders[id]
	o.Status, o.Error = orders.StatusFailed, reason
	f.orders[id] = o
	return o, nil
}

// fakeQueue hands out its jobs, then cancels the run.
type fakeQueue struct {
	jobs   []any // queue.Job or error
	cancel context.CancelFunc
}

func (f *fakeQueue) Pop(ctx context.Context, _ time.Duration) (queue.Job, bool, error) {
	if len(f.jobs) == 0 {
		f.cancel()
		return queue.Job{}, false, ctx.Err()
	}
	next := f.jobs[0]
	f.jobs = f.jobs[1:]
	if err, ok := next.(error); ok {
		return queue.Job{}, false, err
	}
	return next.(queue.Job), true, nil
}

func newWorker(st *fakeStore) *Worker {
	return &Worker{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func TestHandleComputesTotal(t *testing.T) {
	st := &fakeStore{orders: map[int64]orders.Order{7: {ID: 7, Item: "coffee", Qty: 3, Status: orders.StatusPending}}}
	w := newWorker(st)
	if err := w.Handle(context.Background(), queue.Job{OrderID: 7}); err != nil {
		t.Fatal(err)
	}
	o := st.orders[7]
	if o.Status != orders.StatusDone || o.TotalCents == nil || *o.TotalCents != 1050 {
		t.Fatalf("order after Handle = %+v, want done with 1050", o)
	}
	if w.Processed() != 1 {
		t.Errorf("Processed = %d", w.Processed())
	}
}

func TestHandleUnpriceableOrderFails(t *testing.T) {
	st := &fakeStore{orders: map[int64]orders.Order{1: {ID: 1, Item: "caviar", Qty: 1, Status: orders.StatusPending}}}
	err := newWorker(st).Handle(context.Background(), queue.Job{OrderID: 1})
	if !errors.Is(err, orders.ErrUnknownItem) {
		t.Fatalf("Handle error = %v, want ErrUnknownItem", err)
	}
	if o := st.orders[1]; o.Status != orders.StatusFailed || o.Error == "" {
		t.Fatalf("order = %+v, want failed with a reason", o)
	}
}

func TestHandleMissingOrderIsDropped(t *testing.T) {
	if err := newWorker(&fakeStore{orders: map[int64]orders.Order{}}).Handle(context.Background(), queue.Job{OrderID: 9}); err != nil {
		t.Fatalf("Handle = %v, want nil", err)
	}
}

func TestRunSurvivesBadJobsAndQueueErrors(t *testing.T) {
	st := &fakeStore{orders: map[int64]orders.Order{
		1: {ID: 1, Item: "pen", Qty: 2, Status: orders.StatusPending},
		2: {ID: 2, Item: "apple", Qty: 4, Status: orders.StatusPending},
	}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := newWorker(st)
	w.Queue = &fakeQueue{cancel: cancel, jobs: []any{
		queue.Job{OrderID: 1},
		queue.ErrBadJob,
		queue.Job{OrderID: 2},
	}}
	if err := w.Run(ctx); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[int64]int64{1: 240, 2: 200} {
		o := st.orders[id]
		if o.Status != orders.StatusDone || *o.TotalCents != want {
			t.Errorf("order %d = %+v, want done with %d", id, o, want)
		}
	}
}
