package parley

import (
	"errors"
	"fmt"
)

// Kind classifies an error for code that must act on it, such as the HTTP
// layer choosing a status code or the WebSocket layer choosing an error frame.
type Kind uint8

const (
	Internal        Kind = iota // Unclassified; logged, never shown to users.
	Invalid                     // The request is malformed or breaks a rule.
	NotFound                    // The thing does not exist, or the user may not see it.
	Conflict                    // The thing already exists or changed underneath.
	Unauthenticated             // No valid session.
	Forbidden                   // Signed in, but not allowed.
	TooMany                     // Too many requests; slow down.
	Unavailable                 // A dependency does not answer; try again later.
)

var kindNames = [...]string{
	Internal:        "internal",
	Invalid:         "invalid",
	NotFound:        "not_found",
	Conflict:        "conflict",
	Unauthenticated: "unauthenticated",
	Forbidden:       "forbidden",
	TooMany:         "rate_limited",
	Unavailable:     "unavailable",
}

// String returns the kind's wire name, such as "not_found".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Error is an error whose Message is safe to show to the user.
//
// Code is a stable, machine-readable reason (such as "nickname_taken") that
// clients may branch on; when empty, the kind's name stands in for it.
type Error struct {
	Kind    Kind
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error of the given kind whose code is the kind's name.
func Errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// CodeErrorf returns an *Error of the given kind with a specific code.
func CodeErrorf(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of the first *Error in err's chain, or Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// CodeOf returns the code of the first *Error in err's chain, falling back to
// its kind's name, or "internal" for any other error.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		if e.Code != "" {
			return e.Code
		}
		return e.Kind.String()
	}
	return Internal.String()
}

// MessageOf returns the user-facing message of the first *Error in err's
// chain. Any other error gets a generic sentence, so internal details never
// reach users.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Something went wrong."
}
