package parley_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/parley-chat/parley"
)

func TestKindString(t *testing.T) {
	tests := []struct {
		kind parley.Kind
		want string
	}{
		{parley.Internal, "internal"},
		{parley.Invalid, "invalid"},
		{parley.NotFound, "not_found"},
		{parley.Conflict, "conflict"},
		{parley.Unauthenticated, "unauthenticated"},
		{parley.Forbidden, "forbidden"},
		{parley.TooMany, "rate_limited"},
		{parley.Unavailable, "unavailable"},
		{parley.Kind(200), "kind(200)"},
	}
	for _, tt := range tests {
		if got := tt.kind.String(); got != tt.want {
			t.Errorf("Kind(%d).String() = %q, want %q", uint8(tt.kind), got, tt.want)
		}
	}
}

func TestErrorf(t *testing.T) {
	err := parley.Errorf(parley.NotFound, "There is no room named %q.", "lobby")
	want := parley.Error{Kind: parley.NotFound, Message: `There is no room named "lobby".`}
	if *err != want {
		t.Errorf("Errorf() = %+v, want %+v", *err, want)
	}
	if err.Error() != want.Message {
		t.Errorf("Errorf().Error() = %q, want %q", err.Error(), want.Message)
	}

	err = parley.CodeErrorf(parley.Conflict, "nickname_taken", "Someone is called %s already.", "ana")
	want = parley.Error{Kind: parley.Conflict, Code: "nickname_taken", Message: "Someone is called ana already."}
	if *err != want {
		t.Errorf("CodeErrorf() = %+v, want %+v", *err, want)
	}
}

func TestKindCodeMessageOf(t *testing.T) {
	notFound := parley.Errorf(parley.NotFound, "There is no room named %q.", "lobby")
	taken := parley.CodeErrorf(parley.Conflict, "nickname_taken", "That nickname is taken.")
	tests := []struct {
		name        string
		err         error
		wantKind    parley.Kind
		wantCode    string
		wantMessage string
	}{
		{"nil", nil, parley.Internal, "internal", "Something went wrong."},
		{"plain error", errors.New("disk I/O error"), parley.Internal, "internal", "Something went wrong."},
		{"wrapped plain error", fmt.Errorf("read room: %w", errors.New("disk I/O error")), parley.Internal, "internal", "Something went wrong."},
		{"kind only", notFound, parley.NotFound, "not_found", `There is no room named "lobby".`},
		{"with code", taken, parley.Conflict, "nickname_taken", "That nickname is taken."},
		{"wrapped", fmt.Errorf("join: %w", taken), parley.Conflict, "nickname_taken", "That nickname is taken."},
		{"wrapped twice", fmt.Errorf("hello: %w", fmt.Errorf("join: %w", notFound)), parley.NotFound, "not_found", `There is no room named "lobby".`},
		{"joined", errors.Join(errors.New("first"), notFound), parley.NotFound, "not_found", `There is no room named "lobby".`},
		{"outermost wins", fmt.Errorf("%w: %w", taken, notFound), parley.Conflict, "nickname_taken", "That nickname is taken."},
		{"internal kind", parley.Errorf(parley.Internal, "Oops."), parley.Internal, "internal", "Oops."},
		{"unavailable", parley.Errorf(parley.Unavailable, "Try again later."), parley.Unavailable, "unavailable", "Try again later."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parley.KindOf(tt.err); got != tt.wantKind {
				t.Errorf("KindOf(%v) = %v, want %v", tt.err, got, tt.wantKind)
			}
			if got := parley.CodeOf(tt.err); got != tt.wantCode {
				t.Errorf("CodeOf(%v) = %q, want %q", tt.err, got, tt.wantCode)
			}
			if got := parley.MessageOf(tt.err); got != tt.wantMessage {
				t.Errorf("MessageOf(%v) = %q, want %q", tt.err, got, tt.wantMessage)
			}
		})
	}
}
