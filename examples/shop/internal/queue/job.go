// Package queue carries order jobs from the API to the worker through a
// Redis list: the API pushes with LPUSH, the worker takes with BRPOP, so the
// oldest job is served first.
package queue

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// DefaultKey is the Redis list the jobs live in.
const DefaultKey = "shop:jobs"

// ErrBadJob reports a queue entry that cannot be decoded into a Job.
var ErrBadJob = errors.New("bad job")

// Job asks the worker to price one order.
type Job struct {
	OrderID    int64     `json:"order_id"`
	EnqueuedAt time.Time `json:"enqueued_at"`
}

// Encode returns the job as the JSON string stored in the list.
func Encode(j Job) (string, error) {
	if j.OrderID <= 0 {
		return "", fmt.Errorf("%w: order id %d", ErrBadJob, j.OrderID)
	}
	b, err := json.Marshal(j)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// Decode parses a list entry written by Encode.
func Decode(s string) (Job, error) {
	var j Job
	if err := json.Unmarshal([]byte(s), &j); err != nil {
		return Job{}, fmt.Errorf("%w: %v", ErrBadJob, err)
	}
	if j.OrderID <= 0 {
		return Job{}, fmt.Errorf("%w: order id %d", ErrBadJob, j.OrderID)
	}
	return j, nil
}
