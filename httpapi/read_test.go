package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/httpapi"
)

// markersResponse is the body of GET /api/read-markers.
type markersResponse struct {
	Markers []parley.ReadMarker `json:"markers"`
	Next    string              `json:"next"`
}

// TestReadMarkers: a guest's mark in one tab reaches their other tab at
// once, is kept for their next join, and is listed over REST.
func TestReadMarkers(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{opts: httpapi.Options{PasswordParams: cheapPasswords, Signup: true}})
	tab1 := mustDial(t, ts)
	w := tab1.hello("ana", "")
	tab2 := mustDial(t, ts)
	tab2.hello("ana", w.Session)
	tab1.joinLive("general")
	if joined := tab2.join("general", nil); joined.ReadSeq != 0 {
		t.Errorf("joined before any mark = %v, want readSeq 0", joined)
	}
	bob := mustGreet(t, ts, "bob")
	bob.joinLive("general")
	ack := bob.send("general", "b-1", "hello")
	tab1.waitEntry("general", ack.Seq)

	tab1.writeJSON(map[string]any{"type": "read", "room": "general", "seq": ack.Seq})
	tab1.ping() // read is answered with nothing
	if e := tab2.waitType("read"); e.Room != "general" || e.Seq != ack.Seq {
		t.Errorf("tab 2 got %v, want read of general up to %d", e, ack.Seq)
	}
	bob.ping()
	for _, c := range []*client{tab1, bob} {
		for _, e := range c.seen {
			if e.Type == "read" {
				t.Errorf("%s got %v, want no read event of this mark", c.nick, e)
			}
		}
	}

	guest := http.Header{"Authorization": {"Bearer " + w.Session}}
	var got markersResponse
	resp, body := ts.call(t, "GET", "/api/read-markers", nil, guest)
	expect(t, "GET /api/read-markers", resp, body, http.StatusOK, "")
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if want := []parley.ReadMarker{{Room: "general", Seq: ack.Seq}}; !slices.Equal(got.Markers, want) || got.Next != "" {
		t.Errorf("GET /api/read-markers = %s, want markers %v and no next", body, want)
	}

	tab3 := mustDial(t, ts)
	tab3.hello("ana", w.Session)
	if joined := tab3.join("general", nil); joined.ReadSeq != ack.Seq {
		t.Errorf("joined after a mark = %v, want readSeq %d", joined, ack.Seq)
	}

	// Refused marks change nothing.
	for _, tt := range []struct {
		frame map[string]any
		code  string
	}{
		{map[string]any{"type": "read", "room": "elsewhere", "seq": 1}, "not_joined"},
		{map[string]any{"type": "read", "room": "general"}, "invalid_seq"},
		{map[string]any{"type": "read", "room": "general", "seq": -1}, "invalid_seq"},
		{map[string]any{"type": "read", "room": "general", "seq": ack.Seq + 100}, "invalid_seq"},
	} {
		tab3.writeJSON(tt.frame)
		if e := tab3.waitError(tt.code); e.Room != tt.frame["room"] {
			t.Errorf("error of %v = %v, want it to name the room", tt.frame, e)
		}
	}
	// Lower marks too.
	tab3.writeJSON(map[string]any{"type": "read", "room": "general", "seq": ack.Seq - 1})
	tab3.ping()
	resp, body = ts.call(t, "GET", "/api/read-markers", nil, guest)
	if err := json.Unmarshal(body, &got); err != nil || len(got.Markers) != 1 || got.Markers[0].Seq != ack.Seq {
		t.Errorf("GET /api/read-markers after refused and lower marks = %d %s, want general at %d", resp.StatusCode, body, ack.Seq)
	}
}

// TestReadMarkersPaged: markers come a page at a time, by room name; an
// account with none gets an empty list; a request without a session is
// refused.
func TestReadMarkersPaged(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{opts: httpapi.Options{PasswordParams: cheapPasswords, Signup: true}})
	cy := ts.signUp(t, "cy", "correct horse")
	resp, body := ts.call(t, "GET", "/api/read-markers", nil, cy)
	expect(t, "GET /api/read-markers of an account without markers", resp, body, http.StatusOK, "")
	if string(body) != `{"markers":[]}`+"\n" && string(body) != `{"markers":[]}` {
		t.Errorf("GET /api/read-markers without markers = %s, want an empty list", body)
	}

	ana := mustDial(t, ts)
	w := ana.hello("ana", "")
	rooms := []string{"c", "a", "b"}
	for i, room := range rooms {
		ana.joinLive(room)
		ack := ana.send(room, fmt.Sprint(i), "hello")
		ana.writeJSON(map[string]any{"type": "read", "room": room, "seq": ack.Seq})
	}
	ana.ping()
	guest := http.Header{"Authorization": {"Bearer " + w.Session}}
	var all []string
	after := ""
	for range len(rooms) + 1 {
		var page markersResponse
		resp, body := ts.call(t, "GET", "/api/read-markers?limit=2&after="+after, nil, guest)
		expect(t, "GET /api/read-markers?limit=2", resp, body, http.StatusOK, "")
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Markers {
			all = append(all, m.Room)
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	if want := []string{"a", "b", "c"}; !slices.Equal(all, want) {
		t.Errorf("GET /api/read-markers, paged = rooms %q, want %q", all, want)
	}

	resp, body = ts.call(t, "GET", "/api/read-markers", nil, nil)
	expect(t, "GET /api/read-markers without a session", resp, body, http.StatusUnauthorized, "")
	resp, body = ts.call(t, "GET", "/api/read-markers?limit=0", nil, guest)
	expect(t, "GET /api/read-markers?limit=0", resp, body, http.StatusBadRequest, parley.CodeInvalidPage)
}
