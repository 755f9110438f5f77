package parley_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
)

func TestValidateRoomName(t *testing.T) {
	tests := []struct {
		name    string
		room    string
		wantErr bool
	}{
		{"default", parley.DefaultRoom, false},
		{"one character", "a", false},
		{"longest", strings.Repeat("é", parley.MaxRoomNameLen), false},
		{"unicode and symbols", "café ☕ #1", false},
		{"inner spaces", "two  spaces", false},
		{"case kept", "General", false},
		{"empty", "", true},
		{"too long", strings.Repeat("é", parley.MaxRoomNameLen+1), true},
		{"leading space", " general", true},
		{"trailing space", "general ", true},
		{"leading tab", "\tgeneral", true},
		{"inner tab", "gen\teral", true},
		{"newline", "gen\neral", true},
		{"NUL", "gen\x00eral", true},
		{"no-break space", "gen\u00a0eral", true},
		{"zero-width space", "gen\u200beral", true},
		{"invalid UTF-8", "gen\xfferal", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := parley.ValidateRoomName(tt.room)
			checkInvalid(t, fmt.Sprintf("ValidateRoomName(%q)", tt.room), err, tt.wantErr, "invalid_room")
		})
	}
}

// checkInvalid checks that err is nil, or, when wantErr, an Invalid error
// with code and a message for people.
func checkInvalid(t *testing.T, call string, err error, wantErr bool, code string) {
	t.Helper()
	if (err != nil) != wantErr {
		t.Fatalf("%s = %v, want error: %v", call, err, wantErr)
	}
	if err == nil {
		return
	}
	if parley.KindOf(err) != parley.Invalid || parley.CodeOf(err) != code {
		t.Errorf("%s = %v (kind %v, code %q), want kind invalid, code %q", call, err, parley.KindOf(err), parley.CodeOf(err), code)
	}
	// Messages are shown to people as they are. (Some start with the name
	// of a query parameter, such as "limit", so only the end is checked.)
	if msg := parley.MessageOf(err); !strings.HasSuffix(msg, ".") {
		t.Errorf("%s message = %q, want a sentence", call, msg)
	}
}
