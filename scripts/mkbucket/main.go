// Command mkbucket creates an S3 bucket on a test server (loopback only), for
// benchmark scripts: mkbucket ENDPOINT BUCKET, credentials from the usual AWS
// variables.
package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3blob "github.com/convoseal/convoseal/internal/blob/s3"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: mkbucket ENDPOINT BUCKET")
		os.Exit(2)
	}
	u, err := url.Parse(os.Args[1])
	if err != nil || (u.Hostname() != "localhost" && !strings.HasPrefix(u.Hostname(), "127.")) {
		fmt.Fprintln(os.Stderr, "mkbucket only targets loopback")
		os.Exit(2)
	}
	st, err := s3blob.New(context.Background(), s3blob.Config{Bucket: os.Args[2], Endpoint: os.Args[1], Region: "us-east-1", PathStyle: true})
	if err == nil {
		_, err = st.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(os.Args[2])})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkbucket:", err)
		os.Exit(1)
	}
}
