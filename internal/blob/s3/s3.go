// Package s3blob is a [blob.Store] in an S3 bucket (AWS S3 or any
// S3-compatible server such as versitygw or MinIO).
//
// Objects live under an optional key prefix in the bucket: with Prefix
// "convoseal", the artifact "AC1/GT2/sentences/unredacted" is the S3 object
// "convoseal/AC1/GT2/sentences/unredacted". Metadata entries become
// x-amz-meta-<key> user metadata, so a GET of a [Store.Location] URL (an S3
// presigned URL) returns them as response headers straight from S3.
//
// Every write is a single PutObject (or, for bodies of at least
// [Config.PartSize] bytes, a multipart upload), which S3 applies atomically:
// a reader sees the old object or the new one, body and metadata together.
// Retried jobs therefore leave one object (in a bucket without versioning;
// with versioning, each Put adds a version).
//
// The credentials need s3:GetObject, s3:PutObject, s3:DeleteObject,
// s3:ListBucket (without it S3 answers 403 rather than 404 for the Location
// of a missing object) and, for multipart uploads, s3:AbortMultipartUpload.
// Location URLs are signed with those credentials: temporary credentials (an
// instance role, SSO) cut a URL's validity short when they expire.
package s3blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/convoseal/convoseal/internal/blob"
)

const (
	// DefaultPartSize is the default [Config.PartSize].
	DefaultPartSize = 16 << 20
	// MinPartSize is S3's smallest part of a multipart upload (but the
	// last).
	MinPartSize = 5 << 20
	// MaxPartSize is S3's largest part.
	MaxPartSize = 5 << 30

	// deleteBatch is the most keys one DeleteObjects request takes.
	deleteBatch = 1000
	// uploadConcurrency bounds the parts of one multipart upload in flight.
	uploadConcurrency = 4
	// contentType and cacheControl are stored with every object, so that a
	// download answers like [blob.Local.Handler].
	contentType  = "application/octet-stream"
	cacheControl = "no-store"
)

// Config configures a [Store].
type Config struct {
	// Bucket is the bucket's name (required). New does not create it.
	Bucket string
	// Prefix, if not empty, is prepended to every key, followed by "/" (a
	// trailing "/" in Prefix is optional). Its segments follow the rules
	// of [blob.ValidateKey].
	Prefix string
	// Endpoint is the base URL of an S3-compatible server, e.g.
	// "http://127.0.0.1:7070"; empty for AWS.
	Endpoint string
	// Region is the signing region; empty for the default chain's
	// (AWS_REGION, ~/.aws/config), or "us-east-1" if that has none.
	Region string
	// AccessKey, SecretKey and SessionToken are static credentials. With
	// AccessKey empty, the default AWS credential chain is used
	// (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, shared files, SSO, web
	// identity, container and instance roles).
	AccessKey, SecretKey, SessionToken string
	// PathStyle addresses the bucket as <endpoint>/<bucket>/<key> instead
	// of <bucket>.<endpoint>/<key> (needed by most S3-compatible servers).
	PathStyle bool
	// PartSize is the multipart threshold and part size, in bytes: bodies
	// of at least PartSize bytes are uploaded in parts of PartSize.
	// 0 means [DefaultPartSize]; otherwise it must be between
	// [MinPartSize] and [MaxPartSize].
	PartSize int64
}

// Store is a [blob.Store] in an S3 bucket. It is safe for concurrent use.
type Store struct {
	client   *s3.Client
	presign  *s3.PresignClient
	bucket   string
	prefix   string // "" or ending in "/"
	partSize int64
}

var _ blob.Store = (*Store)(nil)

// New returns a store in cfg.Bucket. It makes no request: call
// [Store.Ping] to check that the bucket is reachable.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if err := validBucket(cfg.Bucket); err != nil {
		return nil, err
	}
	prefix, err := normalizePrefix(cfg.Prefix)
	if err != nil {
		return nil, err
	}
	partSize := cfg.PartSize
	switch {
	case partSize == 0:
		partSize = DefaultPartSize
	case partSize < MinPartSize || partSize > MaxPartSize:
		return nil, fmt.Errorf("s3blob: part size %d is not between %d (5 MiB) and %d (5 GiB)", partSize, MinPartSize, MaxPartSize)
	}
	if cfg.Endpoint != "" {
		if err := validEndpoint(cfg.Endpoint); err != nil {
			return nil, err
		}
	}
	if cfg.AccessKey == "" && (cfg.SecretKey != "" || cfg.SessionToken != "") {
		return nil, errors.New("s3blob: a secret key or session token is set without an access key")
	}
	if cfg.AccessKey != "" && cfg.SecretKey == "" {
		return nil, errors.New("s3blob: an access key is set without a secret key")
	}

	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.AccessKey != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, cfg.SessionToken)))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3blob: loading the AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		// A multipart object's composite checksum cannot be checked on
		// GET; don't log a warning for each such Get.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	return &Store{
		client:   client,
		presign:  s3.NewPresignClient(client),
		bucket:   cfg.Bucket,
		prefix:   prefix,
		partSize: partSize,
	}, nil
}

// Client returns the underlying S3 client (for tests and administration).
func (s *Store) Client() *s3.Client { return s.client }

// validBucket checks a bucket name loosely (S3 rules: 3 to 63 bytes of
// a-z 0-9 . -, starting and ending with a letter or digit); it mainly keeps
// a name from altering the request path.
func validBucket(b string) error {
	if len(b) < 3 || len(b) > 63 {
		return fmt.Errorf("s3blob: bucket name %q is not 3 to 63 characters", b)
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		alnum := 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
		if !alnum && ((c != '.' && c != '-') || i == 0 || i == len(b)-1) {
			return fmt.Errorf("s3blob: bucket name %q is not lowercase letters, digits, dots and hyphens", b)
		}
	}
	return nil
}

// normalizePrefix validates a Config.Prefix and returns it with a trailing
// slash ("" stays "").
func normalizePrefix(p string) (string, error) {
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return "", nil
	}
	if err := blob.ValidateKey(p); err != nil {
		return "", fmt.Errorf("s3blob: the key prefix %q: %w", p, err)
	}
	return p + "/", nil
}

func validEndpoint(e string) error {
	u, err := url.Parse(e)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("s3blob: endpoint %q is not an absolute http(s) URL without credentials, query or fragment", e)
	}
	return nil
}

// objectKey is the S3 key of a blob key.
func (s *Store) objectKey(key string) string { return s.prefix + key }

// Put implements [blob.Store.Put].
func (s *Store) Put(ctx context.Context, key string, body []byte, meta map[string]string) error {
	if err := blob.ValidateKey(key); err != nil {
		return err
	}
	if err := blob.ValidateMetadata(meta); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m := make(map[string]string, len(meta)) // the SDK must not see the caller's map change
	for k, v := range meta {
		m[k] = v
	}
	var err error
	if int64(len(body)) >= s.partSize {
		err = s.putMultipart(ctx, s.objectKey(key), body, m)
	} else {
		_, err = s.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket:        &s.bucket,
			Key:           aws.String(s.objectKey(key)),
			Body:          bytes.NewReader(body),
			ContentLength: aws.Int64(int64(len(body))),
			ContentType:   aws.String(contentType),
			CacheControl:  aws.String(cacheControl),
			Metadata:      m,
		})
	}
	if err != nil {
		return fmt.Errorf("s3blob: put %q: %w", key, err)
	}
	return nil
}

// putMultipart uploads body in parts of s.partSize, at most
// uploadConcurrency at a time, and aborts the upload if any part fails.
func (s *Store) putMultipart(ctx context.Context, objKey string, body []byte, meta map[string]string) error {
	created, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket:            &s.bucket,
		Key:               &objKey,
		ContentType:       aws.String(contentType),
		CacheControl:      aws.String(cacheControl),
		Metadata:          meta,
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		return err
	}
	uploadID := created.UploadId
	abort := func(cause error) error {
		// Abort even if ctx is canceled, so no parts are left billed.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if _, err := s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
			Bucket: &s.bucket, Key: &objKey, UploadId: uploadID,
		}); err != nil {
			return fmt.Errorf("%w (and aborting the multipart upload failed: %v)", cause, err)
		}
		return cause
	}

	n := (int64(len(body)) + s.partSize - 1) / s.partSize
	parts := make([]types.CompletedPart, n)
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		sem      = make(chan struct{}, uploadConcurrency)
		errOnce  sync.Once
		firstErr error
	)
	for i := range n {
		start := i * s.partSize
		chunk := body[start:min(start+s.partSize, int64(len(body)))]
		num := int32(i + 1)
		select {
		case sem <- struct{}{}:
		case <-pctx.Done():
		}
		if pctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			out, err := s.client.UploadPart(pctx, &s3.UploadPartInput{
				Bucket:            &s.bucket,
				Key:               &objKey,
				UploadId:          uploadID,
				PartNumber:        &num,
				Body:              bytes.NewReader(chunk),
				ContentLength:     aws.Int64(int64(len(chunk))),
				ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
			})
			if err != nil {
				errOnce.Do(func() { firstErr = fmt.Errorf("part %d: %w", num, err); cancel() })
				return
			}
			parts[num-1] = types.CompletedPart{PartNumber: &num, ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32}
		})
	}
	wg.Wait()
	if firstErr == nil && pctx.Err() != nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		return abort(firstErr)
	}
	if _, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          &s.bucket,
		Key:             &objKey,
		UploadId:        uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	}); err != nil {
		return abort(err)
	}
	return nil
}

// Get implements [blob.Store.Get].
func (s *Store) Get(ctx context.Context, key string) ([]byte, map[string]string, error) {
	if err := blob.ValidateKey(key); err != nil {
		return nil, nil, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: aws.String(s.objectKey(key))})
	if err != nil {
		if isNotFound(err) {
			return nil, nil, fmt.Errorf("%w: %q", blob.ErrNotFound, key)
		}
		return nil, nil, fmt.Errorf("s3blob: get %q: %w", key, err)
	}
	defer out.Body.Close()
	var buf bytes.Buffer
	if out.ContentLength != nil && *out.ContentLength > 0 && *out.ContentLength <= 1<<40 {
		buf.Grow(int(*out.ContentLength))
	}
	if _, err := buf.ReadFrom(out.Body); err != nil {
		return nil, nil, fmt.Errorf("s3blob: get %q: reading the body: %w", key, err)
	}
	meta := make(map[string]string, len(out.Metadata))
	for k, v := range out.Metadata {
		meta[strings.ToLower(k)] = v
	}
	return buf.Bytes(), meta, nil
}

// isNotFound reports whether err is S3's answer for a missing object.
func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	if errors.As(err, &nsk) {
		return true
	}
	var nf *types.NotFound
	if errors.As(err, &nf) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && (ae.ErrorCode() == "NoSuchKey" || ae.ErrorCode() == "NotFound") {
		return true
	}
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound &&
		!(errors.As(err, &ae) && ae.ErrorCode() == "NoSuchBucket")
}

// Delete implements [blob.Store.Delete].
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := blob.ValidateKey(key); err != nil {
		return err
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: aws.String(s.objectKey(key))})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("s3blob: delete %q: %w", key, err)
	}
	return nil
}

// DeletePrefix implements [blob.Store.DeletePrefix]. It lists the objects
// and deletes them in batches of 1000; objects added meanwhile may remain.
func (s *Store) DeletePrefix(ctx context.Context, prefix string) error {
	if prefix == "" {
		return fmt.Errorf("%w: refusing to delete with an empty prefix", blob.ErrInvalidKey)
	}
	if err := blob.ValidatePrefix(prefix); err != nil {
		return err
	}
	var (
		batch []types.ObjectIdentifier
		errs  []error
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		out, err := s.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: &s.bucket,
			Delete: &types.Delete{Objects: batch, Quiet: aws.Bool(true)},
		})
		batch = batch[:0]
		if err != nil {
			return fmt.Errorf("s3blob: delete prefix %q: %w", prefix, err)
		}
		for _, e := range out.Errors {
			if aws.ToString(e.Code) == "NoSuchKey" {
				continue
			}
			errs = append(errs, fmt.Errorf("s3blob: delete %q: %s: %s",
				strings.TrimPrefix(aws.ToString(e.Key), s.prefix), aws.ToString(e.Code), aws.ToString(e.Message)))
		}
		return nil
	}
	err := s.walk(ctx, prefix, func(o types.Object) error {
		batch = append(batch, types.ObjectIdentifier{Key: o.Key})
		if len(batch) == deleteBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return err
	}
	return errors.Join(errs...)
}

// walk calls f with every object under s.prefix+prefix, in the order S3
// lists them (by key).
func (s *Store) walk(ctx context.Context, prefix string, f func(o types.Object) error) error {
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: &s.bucket,
		Prefix: aws.String(s.prefix + prefix),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("s3blob: list %q: %w", prefix, err)
		}
		for _, o := range page.Contents {
			if err := f(o); err != nil {
				return err
			}
		}
	}
	return nil
}

// List implements [blob.Store.List]. Objects under the store's prefix whose
// names are not valid keys (made by something other than convoseal, or
// directory markers) are left out.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	if err := blob.ValidatePrefix(prefix); err != nil {
		return nil, err
	}
	var keys []string
	err := s.walk(ctx, prefix, func(o types.Object) error {
		key := strings.TrimPrefix(aws.ToString(o.Key), s.prefix)
		if blob.ValidateKey(key) == nil {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(keys)
	return keys, nil
}

// Walk implements [blob.Store.Walk] with one ListObjectsV2 request per 1000
// objects, leaving out what List leaves out. Modification times are S3's
// LastModified (whole seconds, by the server's clock).
func (s *Store) Walk(ctx context.Context, prefix string, fn func(blob.ObjectInfo) error) error {
	if err := blob.ValidatePrefix(prefix); err != nil {
		return err
	}
	return s.walk(ctx, prefix, func(o types.Object) error {
		key := strings.TrimPrefix(aws.ToString(o.Key), s.prefix)
		if blob.ValidateKey(key) != nil {
			return nil
		}
		return fn(blob.ObjectInfo{Key: key, Modified: aws.ToTime(o.LastModified)})
	})
}

// Location implements [blob.Store.Location] with an S3 presigned GET URL. It
// makes no request.
func (s *Store) Location(ctx context.Context, key string, expiry time.Duration) (string, error) {
	if err := blob.ValidateKey(key); err != nil {
		return "", err
	}
	if expiry <= 0 || expiry > blob.MaxLocationExpiry {
		return "", fmt.Errorf("s3blob: location expiry %v is not between 0 and %v", expiry, blob.MaxLocationExpiry)
	}
	if expiry < time.Second {
		expiry = time.Second // X-Amz-Expires counts whole seconds, at least 1
	}
	req, err := s.presign.PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket: &s.bucket,
		Key:    aws.String(s.objectKey(key)),
	}, s3.WithPresignExpires(expiry))
	if err != nil {
		return "", fmt.Errorf("s3blob: presigning %q: %w", key, err)
	}
	return req.URL, nil
}

// Ping implements [blob.Store.Ping] with HeadBucket.
func (s *Store) Ping(ctx context.Context) error {
	if _, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.bucket}); err != nil {
		return fmt.Errorf("s3blob: bucket %q is not usable: %w", s.bucket, err)
	}
	return nil
}
