package hub

import (
	"context"
	"slices"
	"testing"
)

// TestLocalBroker: a publication reaches every subscriber of its room, and
// no one else, until each unsubscribes.
func TestLocalBroker(t *testing.T) {
	l := NewLocal()
	var got []string
	record := func(who string) func([]byte) {
		return func(msg []byte) { got = append(got, who+":"+string(msg)) }
	}
	unA := l.Subscribe("general", record("a"))
	unB := l.Subscribe("general", record("b"))
	unC := l.Subscribe("random", record("c"))
	publish := func(room, msg string) []string {
		t.Helper()
		got = nil
		if err := l.Publish(context.Background(), room, []byte(msg)); err != nil {
			t.Fatalf("Publish() = %v", err)
		}
		slices.Sort(got)
		return got
	}
	if g := publish("general", "1"); !slices.Equal(g, []string{"a:1", "b:1"}) {
		t.Errorf("publication to general reached %q, want a and b", g)
	}
	unA()
	if g := publish("general", "2"); !slices.Equal(g, []string{"b:2"}) {
		t.Errorf("after a unsubscribed, publication reached %q, want b", g)
	}
	unB()
	if g := publish("general", "3"); len(g) != 0 {
		t.Errorf("with no subscribers, publication reached %q", g)
	}
	if _, ok := l.subs["general"]; ok {
		t.Error("a room without subscribers is still held")
	}
	if g := publish("random", "4"); !slices.Equal(g, []string{"c:4"}) {
		t.Errorf("publication to random reached %q, want c", g)
	}
	unC()
}

// TestLocalBrokerUnsubscribeDuringPublish: a subscriber that unsubscribes
// another while a publication is delivered does not change who receives
// that publication.
func TestLocalBrokerUnsubscribeDuringPublish(t *testing.T) {
	l := NewLocal()
	var got []string
	var unB func()
	l.Subscribe("general", func(msg []byte) {
		got = append(got, "a")
		unB()
	})
	unB = l.Subscribe("general", func(msg []byte) { got = append(got, "b") })
	l.Publish(context.Background(), "general", []byte("x"))
	if !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("delivered to %q, want a then b", got)
	}
	got = nil
	l.Publish(context.Background(), "general", []byte("y"))
	if !slices.Equal(got, []string{"a"}) {
		t.Errorf("after b unsubscribed, delivered to %q, want a", got)
	}
}
