package sphinx

import "unsafe"

// unsafePointer is the address of a Go byte handed to C for the length of a
// call (Go's heap does not move objects; the owner keeps them reachable).
func unsafePointer(b *byte) unsafe.Pointer { return unsafe.Pointer(b) }
