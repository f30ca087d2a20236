package abi_test

import (
	"os"
	"strings"
	"testing"
)

// TestSDKModuleNeedsOnlyTheStandardLibrary: the sdk module requires no other
// module, so a plugin's go.mod needs only it (a non-standard import in the
// sdk would then fail to build). sdk/publish, which needs nats.go, is a
// module of its own.
func TestSDKModuleNeedsOnlyTheStandardLibrary(t *testing.T) {
	b, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 0 && (f[0] == "require" || f[0] == "replace") {
			t.Errorf("sdk/go.mod:%d: %q: the sdk must need nothing but the standard library", i+1, line)
		}
	}
}
