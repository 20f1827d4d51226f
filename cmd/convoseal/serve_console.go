package main

import (
	"context"
	"fmt"
	"time"

	"github.com/convoseal/convoseal/internal/blob"
	"github.com/convoseal/convoseal/internal/console"
)

// newConsole returns the web console's handler. Its Content-Security-Policy
// lets the page fetch signed locations from the blob store's origin when that
// is not the API's (S3); the origin is read from a location signed for a
// probe key, which makes no request.
func newConsole(ctx context.Context, blobs blob.Store, publicURL string) (*console.Handler, error) {
	loc, err := blobs.Location(ctx, "console/origin-probe", time.Minute)
	if err != nil {
		return nil, fmt.Errorf("console: finding the blob store's origin: %w", err)
	}
	return console.New(console.Config{ConnectOrigins: console.ConnectOrigins(loc, publicURL)})
}
