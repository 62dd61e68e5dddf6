package report

import "sync"

// plainParser understands nothing of the output: it keeps the tail, and the
// exit code decides (see finish).
type plainParser struct {
	mu   sync.Mutex
	tail tailBuffer
}

func newPlain() *plainParser { return &plainParser{tail: tailBuffer{limit: MaxTail}} }

func (p *plainParser) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tail.write(b)
	return len(b), nil
}

func (p *plainParser) Counts() Counts { return Counts{} }

func (p *plainParser) Result(exitCode int) Result {
	p.mu.Lock()
	defer p.mu.Unlock()
	return finish(Counts{}, failureList{}, p.tail.tail(), exitCode)
}
