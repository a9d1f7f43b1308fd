package bucket

import (
	"fmt"
	"net/url"
	"strings"
)

// Location is where a server's streams go: a bucket and a key prefix, as
// s3://BUCKET/PREFIX names them.
type Location struct {
	Bucket string
	// Prefix is empty, or ends with "/".
	Prefix string
}

// ParseLocation reads s3://BUCKET/PREFIX (the prefix may be empty).
func ParseLocation(s string) (Location, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Location{}, fmt.Errorf("%q: not a URL", s)
	}
	if u.Scheme != "s3" {
		return Location{}, fmt.Errorf("%q: want s3://BUCKET/PREFIX", s)
	}
	if u.Host == "" || u.User != nil || u.Port() != "" || u.RawQuery != "" || u.Fragment != "" {
		return Location{}, fmt.Errorf("%q: want s3://BUCKET/PREFIX, a bucket name and an optional key prefix", s)
	}
	if n := len(u.Host); n < 3 || n > 63 || strings.Trim(u.Host, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "" {
		return Location{}, fmt.Errorf("%q: bucket %q: 3 to 63 lower-case letters, digits, '.' and '-'", s, u.Host)
	}
	prefix := strings.Trim(u.Path, "/")
	if prefix != "" {
		prefix += "/"
	}
	return Location{Bucket: u.Host, Prefix: prefix}, nil
}

// String returns the location as s3://BUCKET/PREFIX.
func (l Location) String() string { return "s3://" + l.Bucket + "/" + l.Prefix }
