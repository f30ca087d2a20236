//go:build !race

package hub_test

// raceDetector is off (see race_on_test.go).
const raceDetector = false
