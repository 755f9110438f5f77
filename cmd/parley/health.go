package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

const healthHelp = `Usage: parley health [-url URL] [-timeout D]

Ask a running server whether it is alive (GET /api/health) and exit with
status 0 when it answers 200, 1 otherwise, for container health checks:
the image has no shell and no curl, so its HEALTHCHECK runs this.

Without -url it asks http://127.0.0.1:PORT/api/health, where PORT (and the
host, when one is set) comes from the server's own -addr setting as serve
would read it: PARLEY_ADDR, the files .env.<profile> and .env in the
working directory, or :8080. When the server serves TLS itself
(PARLEY_TLS_CERT), it asks https:// instead, without checking the
certificate, which names the public host rather than 127.0.0.1.

  -url URL      the URL to ask instead
  -timeout D    how long to wait for the answer (default 3s)
`

// healthTimeout bounds parley health's request.
const healthTimeout = 3 * time.Second

// health asks a server's /api/health once and returns nil when it answers
// 200 OK, after writing one line about it to stdout. environ is the
// process's environment, as os.Environ returns it.
func health(ctx context.Context, args []string, environ []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("parley health", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	target := fs.String("url", "", "")
	timeout := fs.Duration("timeout", healthTimeout, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, healthHelp)
			return nil
		}
		return fmt.Errorf("%v (run 'parley help health')", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (run 'parley help health')", fs.Arg(0))
	}
	if *timeout <= 0 {
		return errors.New("health: -timeout must be positive")
	}
	insecure := false
	if *target == "" {
		cfg, err := parseConfig("serve", nil, environ)
		if err != nil {
			return err
		}
		u, err := healthURL(cfg.addr, cfg.tlsCert != "")
		if err != nil {
			return err
		}
		*target = u
		// The server's own certificate names its public host, not the
		// loopback address asked here; and the request carries nothing
		// secret.
		insecure = cfg.tlsCert != ""
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *target, nil)
	if err != nil {
		return fmt.Errorf("health: %v", err)
	}
	client := &http.Client{
		// A redirect is not a health answer.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: insecure}},
	}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("health: %v", err)
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 4<<10))
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("health: GET %s: %s", *target, res.Status)
	}
	fmt.Fprintf(stdout, "GET %s: %s\n", *target, res.Status)
	return nil
}

// healthURL returns the URL of /api/health on the server listening on addr
// (host:port), with https when it serves TLS: on the loopback address when
// addr names no host or every address.
func healthURL(addr string, https bool) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("health: setting addr %q: %v; pass -url", addr, err)
	}
	if port == "0" {
		return "", fmt.Errorf("health: setting addr %q picks a free port, which only the server's log says; pass -url", addr)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	scheme := "http"
	if https {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/api/health", nil
}
