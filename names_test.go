package parley_test

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/parley-chat/parley"
)

// nameVector is one case of testdata/names.json.
type nameVector struct {
	Name  string `json:"name"`
	Valid bool   `json:"valid"`
	Why   string `json:"why"`
}

// TestNameVectors holds ValidateNick and ValidateRoomName to the vectors
// in testdata/names.json, which the web client's validate.test.ts reads
// too, so that the two sides agree on every case.
func TestNameVectors(t *testing.T) {
	b, err := os.ReadFile("testdata/names.json")
	if err != nil {
		t.Fatal(err)
	}
	var vectors struct {
		Nick []nameVector `json:"nick"`
		Room []nameVector `json:"room"`
	}
	if err := json.Unmarshal(b, &vectors); err != nil {
		t.Fatalf("testdata/names.json: %v", err)
	}
	if len(vectors.Nick) == 0 || len(vectors.Room) == 0 {
		t.Fatalf("testdata/names.json has %d nickname and %d room name vectors, want some of each", len(vectors.Nick), len(vectors.Room))
	}
	for _, set := range []struct {
		name     string
		vectors  []nameVector
		validate func(string) error
	}{
		{"ValidateNick", vectors.Nick, parley.ValidateNick},
		{"ValidateRoomName", vectors.Room, parley.ValidateRoomName},
	} {
		t.Run(set.name, func(t *testing.T) {
			for _, v := range set.vectors {
				err := set.validate(v.Name)
				call := fmt.Sprintf("%s(%+q)", set.name, v.Name)
				if (err == nil) != v.Valid {
					t.Errorf("%s = %v, want valid: %v (%s)", call, err, v.Valid, v.Why)
					continue
				}
				if err != nil && parley.KindOf(err) != parley.Invalid {
					t.Errorf("%s kind = %v, want invalid (%s)", call, parley.KindOf(err), v.Why)
				}
			}
		})
	}
}
