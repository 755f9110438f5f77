package parley_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

func TestValidateText(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		wantCode string // empty when valid
	}{
		{"simple", "Hello, world", ""},
		{"several lines", "first\nsecond", ""},
		{"surrounding space kept", "  hi  ", ""},
		{"longest", strings.Repeat("x", parley.MaxTextBytes), ""},
		{"longest in multibyte characters", strings.Repeat("€", parley.MaxTextBytes/3), ""},
		{"empty", "", "empty_message"},
		{"blank", " \t\n ", "empty_message"},
		{"no-break spaces", "\u00a0\u00a0", "empty_message"},
		{"too long", strings.Repeat("x", parley.MaxTextBytes+1), "message_too_long"},
		{"too long in bytes, not characters", strings.Repeat("€", parley.MaxTextBytes/3+1), "message_too_long"},
		{"invalid UTF-8", "caf\xe9", "invalid_utf8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := parley.ValidateText(tt.text)
			checkInvalid(t, fmt.Sprintf("ValidateText(%.20q)", tt.text), err, tt.wantCode != "", tt.wantCode)
		})
	}
}

func TestValidateClientID(t *testing.T) {
	tests := []struct {
		name    string
		id      string
		wantErr bool
	}{
		{"UUID", "0b7e8c1e-2f52-4f6a-9a55-1b7f2c3d4e5f", false},
		{"one character", "a", false},
		{"every allowed kind", "AZaz09-_.:", false},
		{"longest", strings.Repeat("x", parley.MaxClientIDLen), false},
		{"empty", "", true},
		{"too long", strings.Repeat("x", parley.MaxClientIDLen+1), true},
		{"space", "a b", true},
		{"slash", "a/b", true},
		{"non-ASCII letter", "é", true},
		{"NUL", "a\x00", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := parley.ValidateClientID(tt.id)
			checkInvalid(t, fmt.Sprintf("ValidateClientID(%q)", tt.id), err, tt.wantErr, "invalid_client_id")
		})
	}
}

func TestEntryValidate(t *testing.T) {
	valid := parley.Entry{Room: parley.DefaultRoom, Kind: parley.KindMessage, From: "ana", ClientID: "c-1", Text: "hello"}
	tests := []struct {
		name     string
		change   func(e *parley.Entry)
		wantCode string // empty when valid
	}{
		{"message", func(e *parley.Entry) {}, ""},
		{"store's fields are not checked", func(e *parley.Entry) { e.Seq, e.At = 7, time.Now() }, ""},
		{"no room", func(e *parley.Entry) { e.Room = "" }, "invalid_room"},
		{"bad room", func(e *parley.Entry) { e.Room = "general " }, "invalid_room"},
		{"join", func(e *parley.Entry) { e.Kind = parley.KindJoin }, "invalid"},
		{"leave", func(e *parley.Entry) { e.Kind = parley.KindLeave }, "invalid"},
		{"no kind", func(e *parley.Entry) { e.Kind = "" }, "invalid"},
		{"no sender", func(e *parley.Entry) { e.From = "" }, "invalid"},
		{"no client id", func(e *parley.Entry) { e.ClientID = "" }, "invalid_client_id"},
		{"bad client id", func(e *parley.Entry) { e.ClientID = "a b" }, "invalid_client_id"},
		{"no text", func(e *parley.Entry) { e.Text = "" }, "empty_message"},
		{"long text", func(e *parley.Entry) { e.Text = strings.Repeat("x", parley.MaxTextBytes+1) }, "message_too_long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := valid
			tt.change(&e)
			checkInvalid(t, fmt.Sprintf("%+v.Validate()", e), e.Validate(), tt.wantCode != "", tt.wantCode)
		})
	}
}

func TestPageValidate(t *testing.T) {
	tests := []struct {
		page    parley.Page
		wantErr bool
	}{
		{parley.Page{Limit: 1}, false},
		{parley.Page{Limit: parley.DefaultPageSize}, false},
		{parley.Page{Limit: parley.MaxPageSize}, false},
		{parley.Page{Before: 5, Limit: 10}, false},
		{parley.Page{After: 5, Limit: 10}, false},
		{parley.Page{After: 4, Before: 5, Limit: 10}, false},
		{parley.Page{After: 0, Before: 1, Limit: 10}, false},
		{parley.Page{}, true},
		{parley.Page{Limit: -1}, true},
		{parley.Page{Limit: parley.MaxPageSize + 1}, true},
		{parley.Page{Before: -1, Limit: 10}, true},
		{parley.Page{After: -1, Limit: 10}, true},
		{parley.Page{After: 5, Before: 5, Limit: 10}, true},
		{parley.Page{After: 6, Before: 5, Limit: 10}, true},
	}
	for _, tt := range tests {
		err := tt.page.Validate()
		checkInvalid(t, fmt.Sprintf("%+v.Validate()", tt.page), err, tt.wantErr, "invalid_page")
	}
}

// TestEntryJSON pins the field names of log entries on the wire, which
// docs/PROTOCOL.md documents and clients parse.
func TestEntryJSON(t *testing.T) {
	at := time.Date(2026, 11, 22, 9, 30, 1, 512_000_000, time.UTC)
	tests := []struct {
		entry parley.Entry
		want  string
	}{
		{
			parley.Entry{Room: "general", Seq: 43, Kind: parley.KindMessage, From: "ana", Text: "Hello, world", ClientID: "a-1", At: at},
			`{"room":"general","seq":43,"type":"message","from":"ana","text":"Hello, world","clientId":"a-1","at":"2026-11-22T09:30:01.512Z"}`,
		},
		{
			parley.Entry{Room: "general", Seq: 42, Kind: parley.KindJoin, From: "bob", At: at},
			`{"room":"general","seq":42,"type":"join","from":"bob","at":"2026-11-22T09:30:01.512Z"}`,
		},
	}
	for _, tt := range tests {
		got, err := json.Marshal(tt.entry)
		if err != nil || string(got) != tt.want {
			t.Errorf("json.Marshal(%+v) = %s, %v; want %s", tt.entry, got, err, tt.want)
		}
	}
}
