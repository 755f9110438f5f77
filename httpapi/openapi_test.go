package httpapi_test

import (
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// openAPI is the part of docs/openapi.json the test checks.
type openAPI struct {
	Paths map[string]map[string]struct {
		Responses map[string]struct {
			Ref     string `json:"$ref"`
			Content map[string]struct {
				Schema schemaRef `json:"schema"`
			} `json:"content"`
		} `json:"responses"`
	} `json:"paths"`
	Components struct {
		Schemas map[string]struct {
			Required   []string             `json:"required"`
			Properties map[string]schemaRef `json:"properties"`
		} `json:"schemas"`
	} `json:"components"`
}

type schemaRef struct {
	Ref   string     `json:"$ref"`
	Items *schemaRef `json:"items"`
}

func (s schemaRef) name() string { return strings.TrimPrefix(s.Ref, "#/components/schemas/") }

// TestOpenAPIDescribesTheAPI keeps docs/openapi.json true: it documents
// exactly the /api routes of routes.go, and every documented GET answers a
// documented status with the documented required fields.
func TestOpenAPIDescribesTheAPI(t *testing.T) {
	raw, err := os.ReadFile("../docs/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPI
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("docs/openapi.json: %v", err)
	}

	routes, err := os.ReadFile("routes.go")
	if err != nil {
		t.Fatal(err)
	}
	var served, documented []string
	for _, m := range regexp.MustCompile(`get\(mux, "(/api/[^"]+)"`).FindAllSubmatch(routes, -1) {
		served = append(served, string(m[1]))
	}
	for path := range doc.Paths {
		documented = append(documented, path)
	}
	slices.Sort(served)
	slices.Sort(documented)
	if !slices.Equal(served, documented) {
		t.Errorf("routes.go serves %v; docs/openapi.json documents %v", served, documented)
	}

	ts := newTestServer(t, serverConfig{})
	ana := mustGreet(t, ts, "ana")
	ana.joinLive("general")
	ana.send("general", "a-1", "hello")

	// check verifies that v, decoded JSON, has the required fields of the
	// schema named name, recursively through arrays of objects.
	var check func(path, name string, v any)
	check = func(path, name string, v any) {
		schema, ok := doc.Components.Schemas[name]
		if !ok {
			t.Errorf("docs/openapi.json has no schema %q", name)
			return
		}
		obj, ok := v.(map[string]any)
		if !ok {
			t.Errorf("GET %s: %v is not an object (%s)", path, v, name)
			return
		}
		for _, field := range schema.Required {
			if _, ok := obj[field]; !ok {
				t.Errorf("GET %s: %s lacks required field %q: %v", path, name, field, obj)
			}
		}
		for field, prop := range schema.Properties {
			if prop.Items != nil && prop.Items.Ref != "" {
				items, _ := obj[field].([]any)
				for _, item := range items {
					check(path, prop.Items.name(), item)
				}
			}
		}
	}

	requests := map[string][]string{
		"/api/rooms/{room}/messages": {"/api/rooms/general/messages", "/api/rooms/nope/messages", "/api/rooms/general/messages?limit=0"},
		"/api/history":               {"/api/history?after=0", "/api/history?before=x"},
	}
	for path, ops := range doc.Paths {
		op, ok := ops["get"]
		if !ok {
			t.Errorf("docs/openapi.json: %s has no get", path)
			continue
		}
		urls := requests[path]
		if urls == nil {
			urls = []string{path}
		}
		for _, url := range urls {
			resp, body := ts.get(t, http.MethodGet, url)
			documented, ok := op.Responses[strconv.Itoa(resp.StatusCode)]
			if !ok {
				t.Errorf("GET %s = %d, which docs/openapi.json does not list for %s", url, resp.StatusCode, path)
				continue
			}
			schema := documented.Content["application/json"].Schema.name()
			if documented.Ref != "" {
				schema = "Error"
			}
			var v any
			if err := json.Unmarshal(body, &v); err != nil {
				t.Errorf("GET %s: %v", url, err)
				continue
			}
			check(url, schema, v)
		}
	}
}
