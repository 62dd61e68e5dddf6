// Package worker prices queued orders: it takes a job, computes the order's
// total from the price list and writes it back as done.
package worker

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/wtenv/wtenv/examples/shop/internal/orders"
	"github.com/wtenv/wtenv/examples/shop/internal/queue"
	"github.com/wtenv/wtenv/examples/shop/internal/store"
)

// Store is what the worker needs from the order store.
type Store interface {
	Get(ctx context.Context, id int64) (orders.Order, error)
	Complete(ctx context.Context, id, totalCents int64) (orders.Order, error)
	Fail(ctx context.Context, id int64, reason string) (orders.Order, error)
}

// Queue is what the worker needs from the job queue.
type Queue interface {
	Pop(ctx context.Context, wait time.Duration) (queue.Job, bool, error)
}

// popWait is how long one BRPOP blocks; short enough that shutdown is quick.
const popWait = time.Second

// Worker consumes the queue.
type Worker struct {
	Store Store
	Queue Queue
	Log   *slog.Logger

	processed atomic.Int64
}

// Processed returns how many jobs were handled since start.
func (w *Worker) Processed() int64 { return w.processed.Load() }

// Run handles jobs until ctx is cancelled. Errors of one job are logged and
// do not stop the loop; a failing queue is retried after a pause.
func (w *Worker) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		job, ok, err := w.Queue.Pop(ctx, popWait)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, queue.ErrBadJob):
			w.Log.Warn("dropping bad job", "err", err)
		case err != nil:
			w.Log.Error("queue", "err", err)
			sleep(ctx, time.Second)
		case ok:
			if err := w.Handle(ctx, job); err != nil {
				w.Log.Error("job", "order", job.OrderID, "err", err)
			}
		}
	}
	return nil
}

// Handle prices one order. An order that is already done is left alone, so
// a job delivered twice does no harm.
func (w *Worker) Handle(ctx context.Context, job queue.Job) error {
	defer w.processed.Add(1)
	o, err := w.Store.Get(ctx, job.OrderID)
	if errors.Is(err, store.ErrNotFound) {
		w.Log.Warn("job for a missing order", "order", job.OrderID)
		return nil
	}
	if err != nil {
		return err
	}
	if o.Status == orders.StatusDone {
		return nil
	}
	total, err := orders.Total(o.Item, o.Qty)
	if err != nil {
		_, ferr := w.Store.Fail(ctx, o.ID, err.Error())
		return errors.Join(err, ferr)
	}
	if _, err := w.Store.Complete(ctx, o.ID, total); err != nil {
		return err
	}
	w.Log.Info("order done", "order", o.ID, "total_cents", total, "waited", time.Since(job.EnqueuedAt).Round(time.Millisecond))
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
