//go:build !unix

package main

import "errors"

// raiseFileLimit reports that this system has no open-file limit to raise.
func raiseFileLimit() fileLimit {
	return fileLimit{err: errors.New("open-file limits are not supported on this system")}
}
