package convoseal

import (
	"errors"
	"fmt"
)

// Error is an error a client may see: a Twilio error code, an HTTP status and
// a message that never contains customer content or secrets.
type Error struct {
	Code    int    // Twilio error code
	Status  int    // HTTP status
	Message string // safe to show to the client
}

func (e *Error) Error() string { return e.Message }

// Twilio error codes used by convoseal.
const (
	CodeInvalidParameter = 20001 // invalid or missing parameter
	CodeAuthentication   = 20003 // authentication failed
	CodeNotFound         = 20404 // no such resource (or not the caller's)
	CodeConflict         = 20409 // the request conflicts with the resource's state
	CodeMethodNotAllowed = 20004 // the path does not answer the method
	CodeTooLarge         = 20413 // request body too large
	CodeRateLimited      = 20429
	CodeInternal         = 20500
	CodeUnavailable      = 20503
	CodeEncrypted        = 20422 // content is sealed with the customer's key
)

// Sentinel errors for errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// Invalidf is a 400 for a bad parameter.
func Invalidf(format string, args ...any) *Error {
	return &Error{Code: CodeInvalidParameter, Status: 400, Message: fmt.Sprintf(format, args...)}
}

// NotFoundf is a 404.
func NotFoundf(format string, args ...any) *Error {
	return &Error{Code: CodeNotFound, Status: 404, Message: fmt.Sprintf(format, args...)}
}

// Conflictf is a 409.
func Conflictf(format string, args ...any) *Error {
	return &Error{Code: CodeConflict, Status: 409, Message: fmt.Sprintf(format, args...)}
}
