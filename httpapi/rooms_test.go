package httpapi_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/parley-chat/parley/httpapi"
	"github.com/parley-chat/parley/protocol"
)

// socketAs says hello over a WebSocket with the cookie or token in h.
func socketAs(t *testing.T, ts *testServer, h http.Header) *client {
	t.Helper()
	conn, _, err := dial(ts, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &client{t: t, conn: conn}
	c.hello("", "")
	return c
}

func roomNames(t *testing.T, ts *testServer, h http.Header) []string {
	t.Helper()
	resp, body := ts.call(t, "GET", "/api/rooms", nil, h)
	expect(t, "GET /api/rooms", resp, body, 200, "")
	var list struct{ Rooms []struct{ Name string } }
	json.Unmarshal(body, &list)
	var names []string
	for _, r := range list.Rooms {
		names = append(names, r.Name)
	}
	return names
}

// TestPrivateRoom: a private room is seen by its members only, on every
// path; to anyone else it answers exactly as a room that does not exist.
func TestPrivateRoom(t *testing.T) {
	ts := accountServer(t, httpapi.Options{})
	ana, bob, cy := ts.signUp(t, "ana", "password 1"), ts.signUp(t, "bob", "password 2"), ts.signUp(t, "cy", "password 3")

	resp, body := ts.call(t, "POST", "/api/rooms", map[string]any{"kind": "private", "title": "Plans", "members": []string{"BOB"}}, ana)
	expect(t, "make a private room", resp, body, http.StatusCreated, "")
	var made struct{ Name, Kind, Title, Owner, Role string }
	json.Unmarshal(body, &made)
	if made.Kind != "private" || made.Title != "Plans" || made.Owner != "ana" || made.Role != "owner" || made.Name[0] != '~' {
		t.Fatalf("POST /api/rooms (private) = %s", body)
	}
	secret := made.Name
	onAna := socketAs(t, ts, ana)
	onAna.joinLive(secret)
	onAna.send(secret, "a-1", "the plan")

	for who, h := range map[string]http.Header{"ana": ana, "bob": bob} {
		if !slices.Contains(roomNames(t, ts, h), secret) {
			t.Errorf("%s's GET /api/rooms lacks the private room", who)
		}
	}
	for who, h := range map[string]http.Header{"cy": cy, "nobody": nil} {
		if slices.Contains(roomNames(t, ts, h), secret) {
			t.Errorf("%s's GET /api/rooms lists the private room", who)
		}
	}

	// Every path answers cy as if the room did not exist.
	nothere := "~aaaaaaaaaaaaaaaa"
	for _, path := range []string{"/api/rooms/%s/messages", "/api/rooms/%s", "/api/rooms/%s/members"} {
		for who, h := range map[string]http.Header{"cy": cy, "nobody": nil} {
			got, gotBody := ts.call(t, "GET", sprintf(path, secret), nil, h)
			want, wantBody := ts.call(t, "GET", sprintf(path, nothere), nil, h)
			expect(t, who+" GET "+path, got, gotBody, http.StatusNotFound, "not_found")
			if string(gotBody) != string(replaceName(wantBody, nothere, secret)) || want.StatusCode != got.StatusCode {
				t.Errorf("%s GET %s: %s, where a room that does not exist gives %s", who, path, gotBody, wantBody)
			}
		}
	}
	resp, body = ts.call(t, "GET", "/api/rooms/"+secret+"/messages", nil, bob)
	if expect(t, "bob reads the private room", resp, body, 200, ""); !json.Valid(body) || !contains(body, "the plan") {
		t.Errorf("bob's history of the private room = %s", body)
	}
	onCy := socketAs(t, ts, cy)
	onCy.writeJSON(map[string]any{"type": "join", "room": secret})
	e := onCy.waitFor("error", func(e event) bool { return e.Type == "error" })
	if e.Code != "not_found" {
		t.Errorf("cy's join of the private room = %s, want not_found", e.raw)
	}
	resp, body = ts.call(t, "PUT", "/api/rooms/"+secret+"/members/cy", nil, cy)
	expect(t, "cy adds herself", resp, body, http.StatusNotFound, "not_found")
	resp, body = ts.call(t, "PUT", "/api/rooms/"+secret+"/members/cy", nil, bob)
	expect(t, "bob, a member, adds cy", resp, body, http.StatusForbidden, "forbidden")
	resp, body = ts.call(t, "PATCH", "/api/rooms/"+secret, map[string]string{"topic": "mine now"}, cy)
	expect(t, "cy changes the topic", resp, body, http.StatusNotFound, "not_found")
	resp, body = ts.call(t, "PATCH", "/api/rooms/"+secret, map[string]string{"topic": "Q3", "description": "Plans.\nNo spoilers."}, ana)
	if expect(t, "ana changes the topic", resp, body, 200, ""); !contains(body, `"topic":"Q3"`) || !contains(body, `"description":"Plans.\nNo spoilers."`) {
		t.Errorf("PATCH topic and description = %s", body)
	}

	// Removed, bob is closed out at once and sees it no more.
	onBob := socketAs(t, ts, bob)
	onBob.joinLive(secret)
	resp, body = ts.call(t, "DELETE", "/api/rooms/"+secret+"/members/bob", nil, ana)
	expect(t, "ana removes bob", resp, body, http.StatusNoContent, "")
	onBob.waitClose(protocol.CloseAccessChanged)
	resp, body = ts.call(t, "GET", "/api/rooms/"+secret+"/messages", nil, bob)
	expect(t, "bob reads after removal", resp, body, http.StatusNotFound, "not_found")
	resp, body = ts.call(t, "PUT", "/api/rooms/"+secret+"/members/cy", nil, ana)
	expect(t, "ana adds cy", resp, body, http.StatusNoContent, "")
	resp, body = ts.call(t, "GET", "/api/rooms/"+secret+"/messages", nil, cy)
	expect(t, "cy reads once added", resp, body, 200, "")
	resp, body = ts.call(t, "DELETE", "/api/rooms/"+secret+"/members/cy", nil, cy)
	expect(t, "cy leaves", resp, body, http.StatusNoContent, "")

	// Guests make no private rooms and no direct conversations.
	g := mustGreet(t, ts, "zed")
	guest := http.Header{"Authorization": {"Bearer " + g.seen[0].Session}}
	resp, body = ts.call(t, "POST", "/api/rooms", map[string]any{"kind": "private", "title": "x"}, guest)
	expect(t, "a guest makes a private room", resp, body, http.StatusForbidden, "account_required")
	resp, body = ts.call(t, "POST", "/api/direct", map[string]any{"names": []string{"ana"}}, guest)
	expect(t, "a guest opens a direct conversation", resp, body, http.StatusForbidden, "account_required")
	resp, body = ts.call(t, "POST", "/api/rooms", map[string]any{"name": "~mine"}, guest)
	expect(t, "a public room under a server-made name", resp, body, http.StatusBadRequest, "invalid_room")
}

func TestDirectRoom(t *testing.T) {
	ts := accountServer(t, httpapi.Options{})
	ana, bob, cy := ts.signUp(t, "ana", "password 1"), ts.signUp(t, "bob", "password 2"), ts.signUp(t, "cy", "password 3")
	onBob := socketAs(t, ts, bob)
	onAna := socketAs(t, ts, ana)
	resp, body := ts.call(t, "POST", "/api/direct", map[string]any{"names": []string{"Bob"}}, ana)
	expect(t, "ana opens a conversation with bob", resp, body, http.StatusCreated, "")
	var dm struct{ Name, Kind string }
	json.Unmarshal(body, &dm)
	// bob learns at once that he may see it; ana, who made it, is not told.
	if e := onBob.waitFor("rooms", func(e event) bool { return e.Type == "rooms" }); e.Room != dm.Name {
		t.Errorf("bob's rooms event = %s, want the new conversation %s", e.raw, dm.Name)
	}
	onAna.writeJSON(map[string]any{"type": "ping"})
	if e := onAna.waitFor("pong", func(e event) bool { return e.Type == "pong" || e.Type == "rooms" }); e.Type != "pong" {
		t.Errorf("ana, who made the conversation, got %s", e.raw)
	}
	resp, body = ts.call(t, "POST", "/api/direct", map[string]any{"names": []string{"ana"}}, bob)
	var again struct{ Name string }
	json.Unmarshal(body, &again)
	if expect(t, "bob opens one with ana", resp, body, 200, ""); again.Name != dm.Name || dm.Kind != "direct" {
		t.Errorf("the direct rooms of ana and bob = %q and %q, want one", dm.Name, again.Name)
	}
	onBob.joinLive(dm.Name)
	onAna.joinLive(dm.Name)
	onAna.send(dm.Name, "a-1", "psst")
	onBob.waitFor("ana's message", func(e event) bool { return e.Type == "message" && e.Text == "psst" })
	if slices.Contains(roomNames(t, ts, cy), dm.Name) {
		t.Error("cy's room list holds ana and bob's conversation")
	}
	resp, body = ts.call(t, "POST", "/api/direct", map[string]any{"names": []string{"nobody"}}, ana)
	expect(t, "a conversation with no account", resp, body, http.StatusNotFound, "not_found")
	resp, body = ts.call(t, "POST", "/api/direct", map[string]any{"names": []string{"ANA"}}, ana)
	expect(t, "a conversation with oneself", resp, body, http.StatusBadRequest, "invalid")
	resp, body = ts.call(t, "PUT", "/api/rooms/"+dm.Name+"/members/cy", nil, ana)
	expect(t, "adding cy to a direct room", resp, body, http.StatusBadRequest, "invalid")
}

func sprintf(format, name string) string { return strings.Replace(format, "%s", name, 1) }

func replaceName(body []byte, from, to string) []byte {
	return []byte(strings.ReplaceAll(string(body), from, to))
}

func contains(body []byte, s string) bool { return strings.Contains(string(body), s) }

// TestArchiveAndDeleteRoom: an admin archives a public room, which stays
// readable and refuses messages with archived; an owner deletes a private
// room, whose people are closed out (4003), and which then answers 404.
// The default room and direct conversations are neither archived nor
// deleted.
func TestArchiveAndDeleteRoom(t *testing.T) {
	ts := accountServer(t, httpapi.Options{})
	root, ana, bob := ts.signUp(t, "root", "password 0"), ts.signUp(t, "ana", "password 1"), ts.signUp(t, "bob", "password 2")

	onBob := socketAs(t, ts, bob)
	onBob.joinLive("attic")
	onBob.send("attic", "b-1", "last words")
	resp, body := ts.call(t, "PATCH", "/api/rooms/attic", map[string]bool{"archived": true}, ana)
	expect(t, "a member archives a public room", resp, body, http.StatusForbidden, "forbidden")
	resp, body = ts.call(t, "PATCH", "/api/rooms/attic", map[string]bool{"archived": true}, root)
	expect(t, "an admin archives a public room", resp, body, http.StatusOK, "")
	var shown struct {
		ArchivedAt *string `json:"archivedAt"`
	}
	json.Unmarshal(body, &shown)
	if shown.ArchivedAt == nil {
		t.Errorf("PATCH archived = %s, want archivedAt", body)
	}
	onBob.writeJSON(map[string]any{"type": "send", "room": "attic", "clientId": "b-2", "text": "anyone?"})
	onBob.waitError("archived")
	if got := ts.history(t, "attic"); len(got) != 2 { // bob's join and message
		t.Errorf("history of the archived room = %v, want bob's join and message", got)
	}
	resp, body = ts.call(t, "PATCH", "/api/rooms/attic", map[string]bool{"archived": false}, root)
	expect(t, "an admin brings the room back", resp, body, http.StatusOK, "")
	onBob.send("attic", "b-2", "anyone?")

	for _, method := range []string{"PATCH", "DELETE"} {
		resp, body = ts.call(t, method, "/api/rooms/general", map[string]bool{"archived": true}, root)
		expect(t, method+" general", resp, body, http.StatusForbidden, "default_room")
	}
	resp, body = ts.call(t, "POST", "/api/direct", map[string]any{"names": []string{"bob"}}, ana)
	expect(t, "a direct room", resp, body, http.StatusCreated, "")
	var direct struct{ Name string }
	json.Unmarshal(body, &direct)
	for _, method := range []string{"PATCH", "DELETE"} {
		resp, body = ts.call(t, method, "/api/rooms/"+direct.Name, map[string]bool{"archived": true}, ana)
		expect(t, method+" a direct room", resp, body, http.StatusBadRequest, "invalid")
	}

	resp, body = ts.call(t, "POST", "/api/rooms", map[string]any{"kind": "private", "title": "Plans", "members": []string{"bob"}}, ana)
	expect(t, "make a private room", resp, body, http.StatusCreated, "")
	var made struct{ Name string }
	json.Unmarshal(body, &made)
	onBob.joinLive(made.Name)
	resp, body = ts.call(t, "DELETE", "/api/rooms/"+made.Name, nil, bob)
	expect(t, "a member deletes the private room", resp, body, http.StatusForbidden, "forbidden")
	resp, body = ts.call(t, "DELETE", "/api/rooms/"+made.Name, nil, ana)
	expect(t, "the owner deletes the private room", resp, body, http.StatusNoContent, "")
	onBob.waitClose(protocol.CloseAccessChanged)
	for _, path := range []string{"/api/rooms/%s", "/api/rooms/%s/messages", "/api/rooms/%s/members"} {
		resp, body = ts.call(t, "GET", sprintf(path, made.Name), nil, ana)
		expect(t, "GET "+path+" of the deleted room", resp, body, http.StatusNotFound, "not_found")
	}
	resp, body = ts.call(t, "DELETE", "/api/rooms/"+made.Name, nil, ana)
	expect(t, "delete it again", resp, body, http.StatusNotFound, "not_found")
	if slices.Contains(roomNames(t, ts, bob), made.Name) {
		t.Error("bob's GET /api/rooms lists the deleted room")
	}
}
