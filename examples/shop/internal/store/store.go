// Package store keeps orders in Postgres.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wtenv/wtenv/examples/shop/internal/orders"
)

// ErrNotFound reports an order id that is not stored.
var ErrNotFound = errors.New("order not found")

// schema is applied at start by every process that opens the store. The
// advisory lock in Migrate serialises the api and the worker, because two
// concurrent CREATE TABLE IF NOT EXISTS can still collide in the catalog.
const schema = `
CREATE TABLE IF NOT EXISTS orders (
	id          BIGSERIAL PRIMARY KEY,
	item        TEXT        NOT NULL,
	qty         INTEGER     NOT NULL CHECK (qty > 0),
	status      TEXT        NOT NULL DEFAULT 'pending',
	total_cents BIGINT,
	error       TEXT        NOT NULL DEFAULT '',
	created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
	updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
)`

// migrateLockID is an arbitrary key for pg_advisory_xact_lock.
const migrateLockID = 7_451_200

const columns = `id, item, qty, status, total_cents, error, created_at, updated_at`

// Postgres is the order store on a Postgres pool.
type Postgres struct {
	pool *pgxpool.Pool
}

// Open connects to url (postgres://...) and waits until the server answers
// or ctx ends: compose starts us once the database is healthy, but a plain
// docker run or a restarted database should not make us give up at once.
func Open(ctx context.Context, url string) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	cfg.MaxConns = 8
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	for {
		pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err = pool.Ping(pingCtx)
		cancel()
		if err == nil {
			return &Postgres{pool: pool}, nil
		}
		select {
		case <-ctx.Done():
			pool.Close()
			return nil, fmt.Errorf("database not reachable: %w", err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// Close releases the pool.
func (p *Postgres) Close() { p.pool.Close() }

// Ping checks that the database answers.
func (p *Postgres) Ping(ctx context.Context) error { return p.pool.Ping(ctx) }

// Migrate creates the schema if it is missing.
func (p *Postgres) Migrate(ctx context.Context) error {
	return pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLockID); err != nil {
			return fmt.Errorf("migrate lock: %w", err)
		}
		if _, err := tx.Exec(ctx, schema); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		return nil
	})
}

// Create stores a new pending order.
func (p *Postgres) Create(ctx context.Context, n orders.NewOrder) (orders.Order, error) {
	row := p.pool.QueryRow(ctx,
		`INSERT INTO orders (item, qty, status) VALUES ($1, $2, $3) RETURNING `+columns,
		n.Item, n.Qty, orders.StatusPending)
	return scan(row)
}

// Get returns one order, or ErrNotFound.
func (p *Postgres) Get(ctx context.Context, id int64) (orders.Order, error) {
	return scan(p.pool.QueryRow(ctx, `SELECT `+columns+` FROM orders WHERE id = $1`, id))
}

// List returns the newest orders first, at most limit of them.
func (p *Postgres) List(ctx context.Context, limit int) ([]orders.Order, error) {
	rows, err := p.pool.Query(ctx, `SELECT `+columns+` FROM orders ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	list := []orders.Order{}
	for rows.Next() {
		o, err := scan(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, o)
	}
	return list, rows.Err()
}

// Complete marks an order done with its total.
func (p *Postgres) Complete(ctx context.Context, id, totalCents int64) (orders.Order, error) {
	return scan(p.pool.QueryRow(ctx,
		`UPDATE orders SET status = $2, total_cents = $3, error = '', updated_at = now() WHERE id = $1 RETURNING `+columns,
		id, orders.StatusDone, totalCents))
}

// Fail marks an order failed with a reason.
func (p *Postgres) Fail(ctx context.Context, id int64, reason string) (orders.Order, error) {
	return scan(p.pool.QueryRow(ctx,
		`UPDATE orders SET status = $2, error = $3, updated_at = now() WHERE id = $1 RETURNING `+columns,
		id, orders.StatusFailed, reason))
}

func scan(row pgx.Row) (orders.Order, error) {
	var o orders.Order
	var status string
	err := row.Scan(&o.ID, &o.Item, &o.Qty, &status, &o.TotalCents, &o.Error, &o.CreatedAt, &o.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return orders.Order{}, ErrNotFound
	}
	if err != nil {
		return orders.Order{}, err
	}
	o.Status = orders.Status(status)
	return o, nil
}
