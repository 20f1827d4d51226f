package s3blob

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// ParseURL parses a store URL of the form
//
//	s3://<bucket>[/<prefix>][?endpoint=<url>&region=<region>&path_style=<bool>&part_size=<bytes>]
//
// for example s3://artifacts/convoseal?endpoint=http://127.0.0.1:7070&region=us-east-1&path_style=true
// (the endpoint may also be query-escaped). Credentials never appear in the
// URL: set [Config.AccessKey] and [Config.SecretKey] separately, or leave
// them empty for the default AWS credential chain. Unknown or repeated
// options are refused, so that a typo is not silently ignored. ParseURL
// checks the bucket, prefix, endpoint and part size as [New] does.
func ParseURL(s string) (Config, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Config{}, fmt.Errorf("s3blob: store URL: %w", err)
	}
	if u.Scheme != "s3" {
		return Config{}, fmt.Errorf("s3blob: store URL %q does not start with s3://", s)
	}
	if u.User != nil {
		return Config{}, fmt.Errorf("s3blob: store URL %q contains credentials; pass them separately", u.Redacted())
	}
	if u.Fragment != "" || u.Opaque != "" || u.Port() != "" {
		return Config{}, fmt.Errorf("s3blob: store URL %q is not s3://<bucket>/<prefix>?<options>", s)
	}
	cfg := Config{Bucket: u.Host}
	if err := validBucket(cfg.Bucket); err != nil {
		return Config{}, err
	}
	if u.RawPath != "" {
		return Config{}, fmt.Errorf("s3blob: store URL %q has an escaped prefix", s)
	}
	if p := strings.TrimPrefix(u.Path, "/"); p != "" {
		if cfg.Prefix, err = normalizePrefix(p); err != nil {
			return Config{}, err
		}
		cfg.Prefix = strings.TrimSuffix(cfg.Prefix, "/")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Config{}, fmt.Errorf("s3blob: store URL options: %w", err)
	}
	for name, vals := range q {
		if len(vals) != 1 {
			return Config{}, fmt.Errorf("s3blob: store URL option %q is given %d times", name, len(vals))
		}
		v := vals[0]
		switch name {
		case "endpoint":
			if err := validEndpoint(v); err != nil {
				return Config{}, err
			}
			cfg.Endpoint = v
		case "region":
			if v == "" || strings.ContainsAny(v, "/ ") {
				return Config{}, fmt.Errorf("s3blob: store URL region %q is not valid", v)
			}
			cfg.Region = v
		case "path_style":
			if cfg.PathStyle, err = strconv.ParseBool(v); err != nil {
				return Config{}, fmt.Errorf("s3blob: store URL option path_style=%q is not true or false", v)
			}
		case "part_size":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < MinPartSize || n > MaxPartSize {
				return Config{}, fmt.Errorf("s3blob: store URL option part_size=%q is not a number of bytes between %d and %d", v, MinPartSize, MaxPartSize)
			}
			cfg.PartSize = n
		default:
			return Config{}, fmt.Errorf("s3blob: unknown store URL option %q (known: endpoint, region, path_style, part_size)", name)
		}
	}
	return cfg, nil
}
