package parley_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
)

func TestValidateNick(t *testing.T) {
	tests := []struct {
		name    string
		nick    string
		wantErr bool
	}{
		{"simple", "ana", false},
		{"one character", "a", false},
		{"inner space", "Ana Maria", false},
		{"longest", strings.Repeat("ø", parley.MaxNickLen), false},
		{"unicode", "Zoë 日本", false},
		{"punctuation and symbols", "bob_42 (bot) ★", false},
		{"empty", "", true},
		{"too long", strings.Repeat("ø", parley.MaxNickLen+1), true},
		{"leading space", " ana", true},
		{"trailing space", "ana ", true},
		{"only a space", " ", true},
		{"double space", "Ana  Maria", true},
		{"tab", "Ana\tMaria", true},
		{"newline", "ana\n", true},
		{"zero-width space", "a\u200bna", true},
		{"invalid UTF-8", "an\xffa", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := parley.ValidateNick(tt.nick)
			checkInvalid(t, fmt.Sprintf("ValidateNick(%q)", tt.nick), err, tt.wantErr, "invalid_nick")
		})
	}
}

// TestNamesTakeEmojiJoiners checks nicknames and room names alike: a
// zero-width joiner counts as printable between two emoji only.
func TestNamesTakeEmojiJoiners(t *testing.T) {
	tests := []struct {
		name    string
		s       string
		wantErr bool
	}{
		{"emoji joined by a zero-width joiner", "👩\u200d💻 dev", false},
		{"family emoji", "👨\u200d👩\u200d👧", false},
		{"joined after a skin tone", "🧑🏽\u200d🚀", false},
		{"joined after the emoji selector", "🏳\ufe0f\u200d🌈", false},
		{"zero-width joiner between letters", "a\u200dna", true},
		{"zero-width joiner before a letter", "👩\u200da", true},
		{"zero-width joiner at the end", "ana 👩\u200d", true},
		{"zero-width joiner at the start", "\u200d💻", true},
		{"two zero-width joiners", "👩\u200d\u200d💻", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkInvalid(t, fmt.Sprintf("ValidateNick(%q)", tt.s), parley.ValidateNick(tt.s), tt.wantErr, "invalid_nick")
			checkInvalid(t, fmt.Sprintf("ValidateRoomName(%q)", tt.s), parley.ValidateRoomName(tt.s), tt.wantErr, "invalid_room")
		})
	}
}
