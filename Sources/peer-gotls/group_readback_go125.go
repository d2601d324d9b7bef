//go:build go1.25

package main

import "crypto/tls"

// groupReadable: ConnectionState names the key exchange group.
const groupReadable = true

// negotiatedGroup reads the key exchange group from ConnectionState.CurveID (Go 1.25+); zero
// means none was used (a TLS 1.2 resumption, RSA key exchange).
func negotiatedGroup(cs *tls.ConnectionState) (group *string, readable bool) {
	if cs.CurveID == 0 {
		return nil, true
	}
	name := groupName(cs.CurveID)
	return &name, true
}
