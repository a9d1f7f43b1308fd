package live

import (
	"strconv"
	"sync"
)

// Tally counts answers by HTTP status code, and failures to get one, from
// many goroutines.
type Tally struct {
	mu sync.Mutex
	n  map[string]int64
}

// NoAnswer is the key under which Tally counts requests that got no
// status: refused, reset or cut connections and timeouts.
const NoAnswer = "no answer"

// Code counts an answer with status code, or NoAnswer when code is 0.
func (t *Tally) Code(code int) {
	if code == 0 {
		t.Add(NoAnswer, 1)
		return
	}
	t.Add(strconv.Itoa(code), 1)
}

// Add adds n to the count of key.
func (t *Tally) Add(key string, n int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == nil {
		t.n = map[string]int64{}
	}
	t.n[key] += n
}

// Counts returns a copy of the counts.
func (t *Tally) Counts() map[string]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]int64, len(t.n))
	for k, v := range t.n {
		out[k] = v
	}
	return out
}

// ServerErrors returns how many answers had a 5xx status.
func (t *Tally) ServerErrors() int64 {
	var n int64
	for k, v := range t.Counts() {
		if len(k) == 3 && k[0] == '5' {
			n += v
		}
	}
	return n
}
