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
