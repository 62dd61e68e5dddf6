package queue

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the queue on a Redis server.
type Redis struct {
	client *redis.Client
	key    string
}

// NewRedis connects lazily to the Redis server at addr (host:port).
func NewRedis(addr string) *Redis {
	return &Redis{
		client: redis.NewClient(&redis.Options{Addr: addr}),
		key:    DefaultKey,
	}
}

// Push appends a job to the queue.
func (r *Redis) Push(ctx context.Context, j Job) error {
	s, err := Encode(j)
	if err != nil {
		return err
	}
	return r.client.LPush(ctx, r.key, s).Err()
}

// Pop waits up to wait for the oldest job. ok is false when none arrived in
// time. An entry that does not decode is returned as an ErrBadJob error, so
// the caller can log it and go on; it is gone from the list either way.
func (r *Redis) Pop(ctx context.Context, wait time.Duration) (j Job, ok bool, err error) {
	res, err := r.client.BRPop(ctx, wait, r.key).Result()
	if errors.Is(err, redis.Nil) {
		return Job{}, false, nil
	}
	if err != nil {
		return Job{}, false, err
	}
	// BRPOP answers [key, value].
	j, err = Decode(res[1])
	if err != nil {
		return Job{}, false, err
	}
	return j, true, nil
}

// Ping checks that the server answers.
func (r *Redis) Ping(ctx context.Context) error {
	return r.client.Ping(ctx).Err()
}

// Close closes the connections.
func (r *Redis) Close() error { return r.client.Close() }
