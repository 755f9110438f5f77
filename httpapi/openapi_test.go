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

	"github.com/parley-chat/parley/httpapi"
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
	// Each route as "METHOD path", from get(mux, path, …) and
	// methods(mux, path, map[string]http.Handler{"METHOD": …, …}).
	var served, documented []string
	for _, m := range regexp.MustCompile(`get\(mux, "(/api/[^"]+)"`).FindAllSubmatch(routes, -1) {
		served = append(served, "GET "+string(m[1]))
	}
	for _, m := range regexp.MustCompile(`methods\(mux, "(/api/[^"]+)", map\[string\]http.Handler\{(.*)\}\)`).FindAllSubmatch(routes, -1) {
		for _, method := range regexp.MustCompile(`"([A-Z]+)":`).FindAllSubmatch(m[2], -1) {
			served = append(served, string(method[1])+" "+string(m[1]))
		}
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(served)
	slices.Sort(documented)
	if !slices.Equal(served, documented) {
		t.Errorf("routes.go serves %v; docs/openapi.json documents %v", served, documented)
	}

	ts := newTestServer(t, serverConfig{opts: httpapi.Options{PasswordParams: cheapPasswords, Signup: true}})
	ana := mustGreet(t, ts, "ana")
	ana.joinLive("general")
	ana.send("general", "a-1", "hello")
	admin := ts.signUp(t, "root", "correct horse")
	bob := ts.signUp(t, "bob", "battery staple")

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
			t.Errorf("%s: %v is not an object (%s)", path, v, name)
			return
		}
		for _, field := range schema.Required {
			if _, ok := obj[field]; !ok {
				t.Errorf("%s: %s lacks required field %q: %v", path, name, field, obj)
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

	// The requests made of each documented operation, in this order; a
	// GET without any is made of its path as it is, signed in as an admin.
	type request struct {
		url    string
		body   any
		header http.Header
	}
	signedOut := http.Header{}
	requests := []struct {
		op   string
		reqs []request
	}{
		{"GET /api/rooms/{room}/messages", []request{{url: "/api/rooms/general/messages"}, {url: "/api/rooms/nope/messages"}, {url: "/api/rooms/general/messages?limit=0"}}},
		{"GET /api/history", []request{{url: "/api/history?after=0"}, {url: "/api/history?before=x"}}},
		{"GET /api/account", []request{{url: "/api/account", header: admin}, {url: "/api/account", header: signedOut}}},
		{"GET /api/sessions", []request{{url: "/api/sessions", header: admin}, {url: "/api/sessions", header: signedOut}}},
		{"GET /api/read-markers", []request{{url: "/api/read-markers", header: admin}, {url: "/api/read-markers", header: signedOut}, {url: "/api/read-markers?limit=0", header: admin}}},
		{"POST /api/accounts", []request{
			{url: "/api/accounts", body: map[string]string{"name": "cy", "password": "12345678"}},
			{url: "/api/accounts", body: map[string]string{"name": "cy", "password": "12345678"}},
			{url: "/api/accounts", body: map[string]string{"name": "dee", "password": "1"}},
		}},
		{"POST /api/sessions", []request{
			{url: "/api/sessions", body: map[string]string{"name": "bob", "password": "battery staple"}},
			{url: "/api/sessions", body: map[string]string{"name": "bob", "password": "wrong"}},
			{url: "/api/sessions", body: map[string]string{"name": "bob", "password": "battery staple"}, header: http.Header{"Origin": {"https://evil.example"}}},
		}},
		{"PATCH /api/account", []request{
			{url: "/api/account", body: map[string]string{"displayName": "Bob B."}, header: bob},
			{url: "/api/account", body: map[string]string{"displayName": " "}, header: bob},
		}},
		{"PATCH /api/accounts/{name}", []request{
			{url: "/api/accounts/bob", body: map[string]bool{"admin": true}, header: admin},
			{url: "/api/accounts/nobody", body: map[string]bool{"admin": true}, header: admin},
		}},
		{"POST /api/tokens", []request{
			{url: "/api/tokens", body: map[string]string{"label": "bot"}, header: bob},
			{url: "/api/tokens", body: map[string]string{"expiresIn": "never"}, header: bob},
		}},
		{"POST /api/account/password", []request{
			{url: "/api/account/password", body: map[string]string{"current": "wrong", "new": "12345678"}, header: bob},
			{url: "/api/account/password", body: map[string]string{"current": "battery staple", "new": "new battery"}, header: bob},
		}},
		{"POST /api/rooms", []request{
			{url: "/api/rooms", body: map[string]string{"name": "dev", "topic": "builds"}, header: admin},
			{url: "/api/rooms", body: map[string]string{"name": "dev"}, header: admin},
			{url: "/api/rooms", body: map[string]string{"kind": "private", "title": "Plans"}, header: admin},
			{url: "/api/rooms", body: map[string]string{"name": "~x"}, header: admin},
		}},
		{"GET /api/rooms/{room}", []request{{url: "/api/rooms/general", header: admin}, {url: "/api/rooms/nope"}}},
		{"PATCH /api/rooms/{room}", []request{
			{url: "/api/rooms/general", body: map[string]string{"topic": "Hello"}, header: admin},
			{url: "/api/rooms/general", body: map[string]string{"topic": "Mine"}, header: bob},
			{url: "/api/rooms/nope", body: map[string]string{"topic": "x"}, header: admin},
			{url: "/api/rooms/dev", body: map[string]bool{"archived": true}, header: admin},
			{url: "/api/rooms/general", body: map[string]bool{"archived": true}, header: admin},
		}},
		{"DELETE /api/rooms/{room}", []request{
			{url: "/api/rooms/dev", header: admin},
			{url: "/api/rooms/dev", header: admin},
			{url: "/api/rooms/general", header: bob},
			{url: "/api/rooms/general", header: admin},
			{url: "/api/rooms/dev", header: signedOut},
		}},
		{"GET /api/rooms/{room}/members", []request{{url: "/api/rooms/general/members"}, {url: "/api/rooms/~nope/members"}}},
		{"PUT /api/rooms/{room}/members/{name}", []request{{url: "/api/rooms/general/members/bob", header: admin}, {url: "/api/rooms/~nope/members/bob", header: admin}}},
		{"DELETE /api/rooms/{room}/members/{name}", []request{{url: "/api/rooms/~nope/members/bob", header: admin}}},
		{"POST /api/direct", []request{
			{url: "/api/direct", body: map[string]any{"names": []string{"bob"}}, header: admin},
			{url: "/api/direct", body: map[string]any{"names": []string{"bob"}}, header: admin},
			{url: "/api/direct", body: map[string]any{"names": []string{}}, header: admin},
		}},
		{"DELETE /api/sessions/{id}", []request{
			{url: "/api/sessions/nope", header: bob},
			{url: "/api/sessions/current", header: bob},
			{url: "/api/sessions/current", header: bob},
		}},
	}
	sampled := map[string]bool{}
	for _, r := range requests {
		sampled[r.op] = true
	}
	for _, op := range documented {
		if !sampled[op] && strings.HasPrefix(op, "GET ") {
			requests = append(requests, struct {
				op   string
				reqs []request
			}{op, []request{{url: strings.TrimPrefix(op, "GET "), header: admin}}})
		} else if !sampled[op] {
			t.Errorf("%s has no sample request in this test", op)
		}
	}
	for _, r := range requests {
		method, path, _ := strings.Cut(r.op, " ")
		op, ok := doc.Paths[path][strings.ToLower(method)]
		if !ok {
			t.Errorf("docs/openapi.json does not document %s", r.op)
			continue
		}
		for _, req := range r.reqs {
			resp, body := ts.call(t, method, req.url, req.body, req.header)
			documented, ok := op.Responses[strconv.Itoa(resp.StatusCode)]
			if !ok {
				t.Errorf("%s %s = %d %s, which docs/openapi.json does not list for %s", method, req.url, resp.StatusCode, body, path)
				continue
			}
			if len(body) == 0 {
				if len(documented.Content) > 0 {
					t.Errorf("%s %s = %d with no body, but docs/openapi.json documents one", method, req.url, resp.StatusCode)
				}
				continue
			}
			schema := documented.Content["application/json"].Schema.name()
			if documented.Ref != "" {
				schema = "Error"
			}
			var v any
			if err := json.Unmarshal(body, &v); err != nil {
				t.Errorf("%s %s: %v", method, req.url, err)
				continue
			}
			check(method+" "+req.url, schema, v)
		}
	}
}
