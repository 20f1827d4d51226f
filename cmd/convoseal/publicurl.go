package main

import "net"

// defaultPublicURL is --public-url when it is not given: http://localhost
// with the port of addr. A host name, because twilio-go reshapes URLs whose
// host is a dotted IP; for another host, give --public-url.
func defaultPublicURL(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return "http://" + addr
	}
	return "http://" + net.JoinHostPort("localhost", port)
}
