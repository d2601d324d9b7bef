//go:build !go1.25

package main

import "crypto/tls"

// groupReadable: before Go 1.25 ConnectionState has no field for the key exchange group.
const groupReadable = false

// negotiatedGroup: before Go 1.25 ConnectionState has no field for the key exchange group, so it
// is not readable (null, and named in not_readable).
func negotiatedGroup(cs *tls.ConnectionState) (group *string, readable bool) {
	_ = cs
	return nil, false
}
