//go:build !unix

package loadgen

// raiseFileLimit does nothing where there is no RLIMIT_NOFILE.
func raiseFileLimit() (uint64, error) { return 0, nil }

// cpuTime is not measured where there is no getrusage.
func cpuTime() float64 { return 0 }
