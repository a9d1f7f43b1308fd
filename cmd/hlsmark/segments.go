package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"

	"github.com/hlsmark/hlsmark/playlist/bucket"
)

// awsEndpoint is the object store when neither --s3-endpoint nor the
// environment names one: AWS S3, which finds the bucket's region.
const awsEndpoint = "https://s3.amazonaws.com"

// segmentsArgs are the flags of the object store as typed, --segments
// and --s3-endpoint checked as given (so that a config file's key is
// refused naming its line).
type segmentsArgs struct {
	loc              *bucket.Location // nil: the disk only
	endpoint, region string
	pathStyle        bool
}

// segmentsFlags registers --segments and the --s3-... flags, bound to a.
func segmentsFlags(fs *flag.FlagSet, a *segmentsArgs) {
	fs.Func("segments", "where segments and playlists go besides the disk: s3://BUCKET/PREFIX, each stream under PREFIX/STREAM/ in any S3-compatible store (credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); empty (the default): the disk only", func(s string) error {
		if s == "" {
			a.loc = nil
			return nil
		}
		loc, err := bucket.ParseLocation(s)
		if err != nil {
			return err
		}
		a.loc = &loc
		return nil
	})
	fs.Func("s3-endpoint", "the object store's `URL`, http(s)://HOST[:PORT] (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else "+awsEndpoint+")", func(s string) error {
		if err := bucket.CheckEndpoint(s); err != nil {
			return err
		}
		a.endpoint = s
		return nil
	})
	fs.StringVar(&a.region, "s3-region", "", "the bucket's `region` (default: AWS_REGION, AWS_DEFAULT_REGION, else asked of the store)")
	fs.BoolVar(&a.pathStyle, "s3-path-style", false, "address the bucket in the URL's path (ENDPOINT/BUCKET/KEY), as MinIO, SeaweedFS and Ceph want, not in its host name")
}

// resolve returns the object store the flags name, nil for none, the
// flags' values before those of the environment (lookupEnv).
func (a segmentsArgs) resolve(lookupEnv func(string) (string, bool)) (*bucket.Config, error) {
	if a.loc == nil {
		if a.endpoint != "" || a.region != "" || a.pathStyle {
			return nil, usagef("--s3-endpoint, --s3-region and --s3-path-style need --segments s3://BUCKET/PREFIX")
		}
		return nil, nil
	}
	env := func(names ...string) string {
		for _, n := range names {
			if v, ok := lookupEnv(n); ok && v != "" {
				return v
			}
		}
		return ""
	}
	c := &bucket.Config{Location: *a.loc, Endpoint: a.endpoint, Region: a.region, PathStyle: a.pathStyle,
		AccessKey: env("AWS_ACCESS_KEY_ID"), SecretKey: env("AWS_SECRET_ACCESS_KEY"), SessionToken: env("AWS_SESSION_TOKEN")}
	if c.Endpoint == "" {
		c.Endpoint = cmp.Or(env("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"), awsEndpoint)
	}
	if c.Region == "" {
		c.Region = env("AWS_REGION", "AWS_DEFAULT_REGION")
	}
	if (c.AccessKey == "") != (c.SecretKey == "") {
		return nil, usagef("--segments: set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither (unsigned requests)")
	}
	if err := bucket.CheckEndpoint(c.Endpoint); err != nil {
		return nil, usagef("--s3-endpoint (from the environment): %v", err)
	}
	return c, nil
}

// openSegments opens the object store c names and checks that its bucket
// is there; nil c is the disk only.
func openSegments(c *bucket.Config) (*bucket.Store, error) {
	if c == nil {
		return nil, nil
	}
	s, err := bucket.Open(*c)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	if err := s.Check(ctx); err != nil {
		return nil, fmt.Errorf("--segments %s: %w", c.Location, err)
	}
	return s, nil
}
