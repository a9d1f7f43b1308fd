package cluster

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Request is one line of nginx's access log, in the format the example's
// nginx.conf.in names cache.
type Request struct {
	Time   time.Time
	Status int
	// Cache is $upstream_cache_status: HIT, MISS, EXPIRED, ..., or "-"
	// where no cache was asked.
	Cache string
	// Upstream is $upstream_addr: the edge the request went to, or the
	// edges ("A, B") when nginx tried another after an error; "-" when
	// it was answered from the cache.
	Upstream string
	URI      string
	Bytes    int64
	Seconds  float64
}

// OriginFetches returns how many requests to edges the request made.
func (r Request) OriginFetches() int {
	if r.Upstream == "-" || r.Upstream == "" {
		return 0
	}
	return strings.Count(r.Upstream, ",") + 1
}

// ReadAccessLog reads every request nginx logged at path.
func ReadAccessLog(path string) ([]Request, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	defer f.Close()
	var out []Request
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		r, err := parseRequest(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("cluster: %s:%d: %w", path, n, err)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cluster: %s: %w", path, err)
	}
	return out, nil
}

// logLine is the format: time status cache "upstream" "uri" bytes
// seconds. nginx escapes a quote in the URI (\x22).
var logLine = regexp.MustCompile(`^(\S+) (\d+) (\S+) "([^"]*)" "([^"]*)" (\d+) (\S+)$`)

// parseRequest reads one line of the log.
func parseRequest(line string) (Request, error) {
	f := logLine.FindStringSubmatch(line)
	if f == nil {
		return Request{}, fmt.Errorf("%q: not in the format cache", line)
	}
	var r Request
	var errs [4]error
	r.Time, errs[0] = time.Parse(time.RFC3339, f[1])
	r.Status, errs[1] = strconv.Atoi(f[2])
	r.Cache, r.Upstream, r.URI = f[3], f[4], f[5]
	r.Bytes, errs[2] = strconv.ParseInt(f[6], 10, 64)
	r.Seconds, errs[3] = strconv.ParseFloat(f[7], 64)
	for _, err := range errs {
		if err != nil {
			return Request{}, fmt.Errorf("%q: %w", line, err)
		}
	}
	return r, nil
}

// OriginFetches counts, for every URI that ends in suffix, the requests
// nginx made to edges for it (0 for one always answered from the cache).
func OriginFetches(reqs []Request, suffix string) map[string]int {
	out := map[string]int{}
	for _, r := range reqs {
		if strings.HasSuffix(r.URI, suffix) {
			out[r.URI] += r.OriginFetches()
		}
	}
	return out
}
