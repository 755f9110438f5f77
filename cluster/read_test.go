package cluster

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/redistest"
	"github.com/parley-chat/parley/protocol"
)

// TestReadMarkersAcrossReplicas runs two replicas on PostgreSQL and Redis,
// with one person in a tab on each: a mark on one reaches the other tab at
// once, through Redis, and the other replica lists it over REST.
func TestReadMarkersAcrossReplicas(t *testing.T) {
	pg := startPostgres(t)
	database, err := pg.CreateDatabase(t.Context(), "readmarkers")
	if err != nil {
		t.Fatal(err)
	}
	rd := redistest.Start(t)
	a := startReplica(t, "-database", database, "-redis-url", rd.URL())
	b := startReplica(t, "-database", database, "-redis-url", rd.URL())

	tab1 := dial(t, a.addr, "")
	w := tab1.hello("ana")
	tab1.join("general")
	tab2 := dial(t, b.addr, "")
	tab2.nick = "ana"
	tab2.write(protocol.Frame{Type: protocol.FrameHello, V: protocol.Version, Session: w.Session})
	tab2.waitFor("welcome", func(e protocol.Event) bool { return e.Type == protocol.EventWelcome })
	tab2.join("general")
	bob := dial(t, a.addr, "")
	bob.hello("bob")
	bob.join("general")
	ack := bob.send("general", "b-1", "hello")
	tab1.waitFor("bob's message", func(e protocol.Event) bool { return e.IsEntry() && e.Seq == ack.Seq })

	tab1.write(protocol.Frame{Type: protocol.FrameRead, Room: "general", Seq: &ack.Seq})
	e := tab2.waitFor("the read event", func(e protocol.Event) bool { return e.Type == protocol.EventRead })
	if e.Room != "general" || e.Seq != ack.Seq {
		t.Errorf("tab 2 on the other replica got %+v, want read of general up to %d", e, ack.Seq)
	}

	req, err := http.NewRequest("GET", "http://"+b.addr+"/api/read-markers", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+w.Session)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var got struct{ Markers []parley.ReadMarker }
	if err := json.Unmarshal(body, &got); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/read-markers on the other replica = %d %s", res.StatusCode, body)
	}
	if want := []parley.ReadMarker{{Room: "general", Seq: ack.Seq}}; !slices.Equal(got.Markers, want) {
		t.Errorf("GET /api/read-markers on the other replica = %s, want markers %v", body, want)
	}
}
