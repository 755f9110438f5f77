//go:build unix

package main

import (
	"fmt"
	"math"
	"syscall"
)

// raiseFileLimit raises the soft limit on open files to the hard limit and
// returns both. (Go's runtime already does so at start on most systems; doing
// it here too makes the logged numbers the truth, whatever the runtime did.)
func raiseFileLimit() fileLimit {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fileLimit{err: fmt.Errorf("get open-file limit: %w", err)}
	}
	if lim.Cur < lim.Max {
		raised := lim
		raised.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err != nil {
			return fileLimit{
				soft: limitValue(uint64(lim.Cur)),
				hard: limitValue(uint64(lim.Max)),
				err:  fmt.Errorf("raise open-file limit from %d to %d: %w", lim.Cur, lim.Max, err),
			}
		}
		lim = raised
	}
	return fileLimit{soft: limitValue(uint64(lim.Cur)), hard: limitValue(uint64(lim.Max))}
}

// limitValue maps the systems' spellings of "unlimited" (all bits set on
// Linux, the largest int64 on macOS) to math.MaxUint64.
func limitValue(v uint64) uint64 {
	if v >= math.MaxInt64 {
		return math.MaxUint64
	}
	return v
}
