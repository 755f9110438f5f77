package main

import "math"

// fileLimit is the process's limit on open files. Every connection holds
// one file, so it bounds how many clients one process can serve.
type fileLimit struct {
	soft, hard uint64 // math.MaxUint64 when unlimited
	err        error  // why the soft limit could not be raised, if it could not
}

// reservedFiles is a rough count of the files that are not connections: the
// database and its journal, the listener, standard streams, and some slack.
const reservedFiles = 32

// connections returns roughly how many connections the soft limit allows.
func (l fileLimit) connections() any {
	switch {
	case l.soft == math.MaxUint64:
		return "unlimited"
	case l.soft <= reservedFiles:
		return 0
	}
	return l.soft - reservedFiles
}

// count returns n for a log line, "unlimited" for no limit.
func count(n uint64) any {
	if n == math.MaxUint64 {
		return "unlimited"
	}
	return n
}
