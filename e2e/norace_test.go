//go:build !race

package e2e

// raceBuild is true when the tests run with the race detector: TestMain
// then builds the binary under test with it too.
const raceBuild = false
