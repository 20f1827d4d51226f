// Package blob stores sealed artifacts: ciphertext bodies with the envelope
// metadata (x-amz-key, x-amz-iv, …) needed to open them, and hands out
// expiring URLs from which a customer downloads an artifact with its
// metadata as x-amz-meta-* response headers.
//
// [Store] is the interface every backend implements; [Local] keeps objects in
// a local directory and serves them itself. Key, prefix and metadata rules
// ([ValidateKey], [ValidatePrefix], [ValidateMetadata]) are shared by all
// backends so that they accept and refuse exactly the same inputs; the
// package blobtest holds the conformance suite they all pass.
//
// Nothing in this package ever sees plaintext.
package blob

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Store holds sealed artifacts (ciphertext only) with their envelope metadata.
//
// Keys follow [ValidateKey]; metadata follows [ValidateMetadata]. Any method
// given an invalid key or prefix returns an error wrapping [ErrInvalidKey].
type Store interface {
	// Put stores body under key with metadata, replacing any previous object
	// atomically (idempotent for retried jobs): a reader sees either the old
	// object or the new one, body and metadata together, never a mix.
	Put(ctx context.Context, key string, body []byte, meta map[string]string) error
	// Get returns the body and metadata stored under key, or an error
	// wrapping [ErrNotFound]. The metadata map is never nil.
	Get(ctx context.Context, key string) (body []byte, meta map[string]string, err error)
	// Delete removes the object stored under key; it is not an error if
	// there is none.
	Delete(ctx context.Context, key string) error
	// DeletePrefix removes every object whose key starts with prefix (a
	// plain string prefix: "AC1/GT1" also matches "AC1/GT10/x"; end it with
	// "/" to stay within one segment). An empty prefix is refused with
	// [ErrInvalidKey] so that a bug cannot empty the store.
	DeletePrefix(ctx context.Context, prefix string) error
	// List returns the keys that start with prefix (all keys for ""),
	// sorted.
	List(ctx context.Context, prefix string) ([]string, error)
	// Walk calls fn for each object whose key starts with prefix (every
	// object for ""), in the order of List, with its last modification
	// time, without holding the whole listing in memory. It stops at, and
	// returns, the first error of fn. fn may change the store; an object
	// added or deleted during the walk may or may not be visited.
	Walk(ctx context.Context, prefix string, fn func(ObjectInfo) error) error
	// Location returns a URL from which the object can be downloaded,
	// without other credentials, until expiry (0 < expiry <=
	// [MaxLocationExpiry]). It does not check that the object exists. A GET
	// of the URL answers 200 with the body and each metadata entry as an
	// x-amz-meta-<key> header, 403 once expired or if the URL was altered,
	// and 404 if there is no object.
	Location(ctx context.Context, key string, expiry time.Duration) (string, error)
	// Ping reports whether the store is usable (for /readyz).
	Ping(ctx context.Context) error
}

// ObjectInfo describes a stored object, for [Store.Walk].
type ObjectInfo struct {
	Key string
	// Modified is when the object was last written (by the store's clock,
	// to the second or better).
	Modified time.Time
}

var (
	// ErrNotFound is returned (wrapped) by Get when there is no object
	// under the key.
	ErrNotFound = errors.New("blob: object not found")
	// ErrInvalidKey is returned (wrapped) for a key or prefix that does not
	// follow [ValidateKey] or [ValidatePrefix].
	ErrInvalidKey = errors.New("blob: invalid key")
	// ErrInvalidMetadata is returned (wrapped) by Put for metadata that does
	// not follow [ValidateMetadata].
	ErrInvalidMetadata = errors.New("blob: invalid metadata")
)

const (
	// MaxKeyLen is the longest key, in bytes.
	MaxKeyLen = 512
	// MaxSegmentLen is the longest key segment, in bytes (so that a segment
	// plus a one-byte suffix fits in a file name on any file system).
	MaxSegmentLen = 254
	// MaxMetadataSize bounds the metadata of one object: the sum of the
	// lengths of its keys and values, in bytes. It is S3's limit on
	// user-defined metadata.
	MaxMetadataSize = 2048
	// MaxLocationExpiry is the longest validity of a [Store.Location] URL,
	// the same as S3's limit on presigned URLs.
	MaxLocationExpiry = 7 * 24 * time.Hour
)

// ValidateKey reports whether key is a valid object key, returning an error
// wrapping [ErrInvalidKey] if not. A key is 1 to [MaxKeyLen] bytes of
// slash-separated segments; each segment is 1 to [MaxSegmentLen] bytes of
// [A-Za-z0-9._-] and is neither "." nor "..". So a key has no leading,
// trailing or doubled slash, no backslash, NUL or other byte that could make
// it escape a directory or a URL path, and it needs no escaping in a URL.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: the key is empty", ErrInvalidKey)
	}
	if len(key) > MaxKeyLen {
		return fmt.Errorf("%w: the key is %d bytes, more than %d", ErrInvalidKey, len(key), MaxKeyLen)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if err := validateSegment(seg, true); err != nil {
			return err
		}
	}
	return nil
}

// ValidatePrefix reports whether prefix can start a valid key, returning an
// error wrapping [ErrInvalidKey] if not. The empty prefix is valid (it
// matches every key). Every segment but the last must be a valid key
// segment; the last may be empty (a prefix ending in "/") or any beginning of
// a segment.
func ValidatePrefix(prefix string) error {
	if len(prefix) > MaxKeyLen {
		return fmt.Errorf("%w: the prefix is %d bytes, more than %d", ErrInvalidKey, len(prefix), MaxKeyLen)
	}
	if prefix == "" {
		return nil
	}
	segs := strings.Split(prefix, "/")
	for i, seg := range segs {
		last := i == len(segs)-1
		if last && seg == "" {
			break // prefix ends with "/"
		}
		if err := validateSegment(seg, !last); err != nil {
			return err
		}
	}
	return nil
}

// validateSegment checks one key segment; with whole false, seg may be the
// beginning of a segment ("." and ".." are then allowed).
func validateSegment(seg string, whole bool) error {
	switch {
	case seg == "":
		return fmt.Errorf("%w: empty segment (leading, trailing or doubled slash)", ErrInvalidKey)
	case whole && (seg == "." || seg == ".."):
		return fmt.Errorf("%w: segment %q is not allowed", ErrInvalidKey, seg)
	case len(seg) > MaxSegmentLen:
		return fmt.Errorf("%w: a segment is %d bytes, more than %d", ErrInvalidKey, len(seg), MaxSegmentLen)
	}
	for i := 0; i < len(seg); i++ {
		if !isKeyByte(seg[i]) {
			return fmt.Errorf("%w: byte %q is not allowed (only A-Z a-z 0-9 . _ - and / between segments)", ErrInvalidKey, seg[i])
		}
	}
	return nil
}

func isKeyByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '_' || c == '-'
}

// ValidateMetadata reports whether meta can be stored with an object,
// returning an error wrapping [ErrInvalidMetadata] if not. Keys are non-empty
// lowercase [a-z0-9._-] (they become x-amz-meta-<key> headers, and S3
// lowercases them); values are printable ASCII without leading or trailing
// spaces (so they survive an HTTP header unchanged); the total size is at
// most [MaxMetadataSize]. A nil map is valid.
func ValidateMetadata(meta map[string]string) error {
	size := 0
	for k, v := range meta {
		size += len(k) + len(v)
		if k == "" {
			return fmt.Errorf("%w: empty key", ErrInvalidMetadata)
		}
		for i := 0; i < len(k); i++ {
			if c := k[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
				return fmt.Errorf("%w: key %.64q: byte %q is not allowed (only a-z 0-9 . _ -)", ErrInvalidMetadata, k, c)
			}
		}
		for i := 0; i < len(v); i++ {
			if c := v[i]; c < 0x20 || c > 0x7e {
				return fmt.Errorf("%w: the value of %q contains byte %q (only printable ASCII is allowed)", ErrInvalidMetadata, k, c)
			}
		}
		if strings.TrimSpace(v) != v {
			return fmt.Errorf("%w: the value of %q has leading or trailing spaces", ErrInvalidMetadata, k)
		}
	}
	if size > MaxMetadataSize {
		return fmt.Errorf("%w: %d bytes, more than %d", ErrInvalidMetadata, size, MaxMetadataSize)
	}
	return nil
}
