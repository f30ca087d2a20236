// Package view reads bytes as a string without copying them, for the hot
// paths that hand a message's bytes to gjson (whose ParseBytes copies the
// whole input first).
package view

import "unsafe"

// String is b as a string, sharing b's memory. The caller promises that b
// does not change while the string, or any string cut from it, is in use:
// true of a NATS message's data, which nothing writes to after it arrives.
func String(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
