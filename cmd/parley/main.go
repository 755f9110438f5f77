// Command parley is the Parley chat server: one binary that serves the REST
// API, the WebSocket endpoint and the embedded web UI, with its data in an
// embedded SQLite database or in PostgreSQL, and, given a Redis
// (-redis-url), carries messages between replicas through it and shares who
// is online.
//
// Usage:
//
//	parley [serve] [flags]   serve the chat (the default command)
//	parley migrate [flags]   apply the database migrations and exit
//	parley migrate copy -from DB -to DB
//	                         copy a database into a new one, and verify
//	parley backup FILE       copy a SQLite database, while it serves, into FILE
//	parley user add [-admin] NAME
//	                         make an account (password on standard input)
//	parley user reset-password|deactivate|activate NAME
//	                         change an account, ending its sessions
//	parley token create NAME make a bearer token for a bot or a script
//	parley bench SCENARIO    measure a server under load
//	parley health [-url URL] ask a running server whether it is alive,
//	                         for container health checks
//	parley version           print the version and exit
//	parley help [command]    print help
//
// Every setting is a flag, a PARLEY_* environment variable, or a line of the
// file .env.<profile> or .env in the working directory, in that order of
// precedence; `parley serve -help` lists them with their defaults.
//
// This package reads the settings and wires the other packages together;
// it is the only one that sees them all, and so the one that copies one
// store into another of the other kind (copy.go).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Environ(), os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "parley: %v\n", err)
		os.Exit(1)
	}
}

// run runs the command that args name, with the environment environ
// ("KEY=value" strings, as os.Environ returns them), writing output for
// people to stdout and logs to stderr.
// It returns when the command is done, or, for serve, once SIGINT or SIGTERM
// has been received (or ctx is done) and the server has drained; a drained
// server returns nil.
func run(ctx context.Context, args []string, environ []string, stdin io.Reader, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Once shutdown has begun, a second signal ends the process at once.
	context.AfterFunc(ctx, stop)

	command := "serve"
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		command, args = "help", nil
	} else if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		command, args = args[0], args[1:]
	}

	if command == "migrate" && len(args) > 0 && args[0] == "copy" {
		command, args = "migrate copy", args[1:]
	}
	if (command == "user" || command == "token") && len(args) > 0 {
		if _, ok := accountCommands[command+" "+args[0]]; ok {
			command, args = command+" "+args[0], args[1:]
		}
	}
	if _, ok := accountCommands[command]; ok {
		return accountCommand(ctx, command, args, environ, stdin, stdout, stderr)
	}
	if command == "user" || command == "token" {
		return fmt.Errorf("parley %s needs a subcommand (run 'parley help')", strings.Join(append([]string{command}, args...), " "))
	}

	switch command {
	case "migrate copy":
		return migrateCopy(ctx, args, stdout, copyOptions{})
	case "serve", "migrate", "backup":
		cfg, err := parseConfig(command, args, environ)
		if errors.Is(err, flag.ErrHelp) {
			commandHelp(stdout, command)
			return nil
		}
		if err != nil {
			return err
		}
		logger := newLogger(stderr, cfg)
		for _, w := range cfg.warnings {
			logger.Warn(w)
		}
		switch command {
		case "migrate":
			return migrate(ctx, cfg, logger)
		case "backup":
			return backup(ctx, cfg, stdout)
		}
		return serve(ctx, cfg, logger)
	case "bench":
		return bench(ctx, args, stdout, stderr)
	case "health":
		return health(ctx, args, environ, stdout)
	case "version":
		if len(args) > 0 {
			return fmt.Errorf("version takes no arguments")
		}
		fmt.Fprintf(stdout, "parley %s (%s)\n", versionString(), runtime.Version())
		return nil
	case "help":
		switch {
		case len(args) == 0:
			help(stdout)
		case len(args) == 1 && (args[0] == "serve" || args[0] == "migrate" || args[0] == "backup"):
			commandHelp(stdout, args[0])
		case len(args) == 2 && args[0] == "migrate" && args[1] == "copy":
			copyHelp(stdout)
		case len(args) == 2 && accountCommands[args[0]+" "+args[1]] != "":
			accountHelp(stdout, args[0]+" "+args[1])
		case len(args) == 1 && args[0] == "bench":
			return bench(ctx, []string{"-help"}, stdout, stderr)
		case len(args) == 1 && args[0] == "health":
			fmt.Fprint(stdout, healthHelp)
		case len(args) == 1 && (args[0] == "version" || args[0] == "help"):
			help(stdout)
		default:
			return fmt.Errorf("no help for %q (run 'parley help')", args)
		}
		return nil
	}
	return fmt.Errorf("unknown command %q (run 'parley help')", command)
}

// version is the release, set when building with
// -ldflags "-X main.version=v1.2.3".
var version string

// versionString returns version, or the module version when parley was
// built with go install, or "devel".
func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// help writes the overall help to w.
func help(w io.Writer) {
	fmt.Fprint(w, `Parley is a self-hosted real-time chat server.

Usage:
  parley [serve] [flags]   serve the chat (the default command)
  parley migrate [flags]   apply the database migrations and exit
  parley migrate copy -from DB -to DB
                           copy everything a database holds into a new one,
                           SQLite to PostgreSQL or back, and verify the copy
                           (parley help migrate copy)
  parley backup FILE       copy the SQLite database, even while a server uses
                           it, into the new file FILE (parley help backup)
  parley user add [-admin] NAME
                           make an account; the password is read from
                           standard input (parley help user add)
  parley user reset-password NAME | deactivate NAME | activate NAME
                           change an account, ending its sessions
  parley token create [-label L] [-expires-in D] NAME
                           make a bearer token for a bot or a script
  parley bench SCENARIO    measure a server under load (parley help bench)
  parley health [-url URL] ask a running server's /api/health; exit 0 when
                           it answers 200, 1 otherwise (parley help health)
  parley version           print the version and exit
  parley help [command]    print this help, or a command's settings

`)
	settingsHelp(w, "serve")
}

// commandHelp writes the help of serve, migrate or backup to w.
func commandHelp(w io.Writer, command string) {
	switch command {
	case "serve":
		fmt.Fprint(w, `Usage: parley serve [flags]

Serve the chat: the REST API under /api, the WebSocket endpoint /ws and
the web UI, until SIGINT or SIGTERM, then drain and exit.

`)
	case "migrate":
		fmt.Fprint(w, `Usage: parley migrate [flags]

Open the database, apply any migrations it lacks, and exit. serve does the
same at start; migrate lets a deployment do it as a step of its own. Only
-database and the logging settings matter.

parley migrate copy -from DB -to DB copies everything one database holds
into a new one, such as a SQLite file into PostgreSQL, and verifies the
copy; parley help migrate copy says more.

`)
	case "backup":
		fmt.Fprint(w, `Usage: parley backup [flags] FILE

Copy the SQLite database that -database names into FILE, a new file: a
consistent copy of one moment (SQLite's VACUUM INTO), safe to take while
a server runs on the database, which keeps serving meanwhile. The copy is
checked (PRAGMA integrity_check) before the command reports it. FILE must
not exist. The database is not migrated: a backup taken before an upgrade
is the database as the old version left it. To restore, stop the server
and put the copy in place of the database file (and remove the old file's
-wal and -shm beside it). For PostgreSQL, use pg_dump. Only -database and
the logging settings matter.

`)
	}
	settingsHelp(w, command)
}

func settingsHelp(w io.Writer, command string) {
	fmt.Fprint(w, `Settings, each from the first of: its flag, its environment variable, the
file .env.<profile>, the file .env (both in the working directory, holding
lines such as PARLEY_ADDR=:9000), its default. The profile itself comes only
from -profile or PARLEY_PROFILE. Durations look like 15s, 500ms or 1m30s.
A PARLEY_ variable that names no setting is reported at start with the
nearest one; PARLEY_TEST_*, PARLEY_E2E_* and PARLEY_DEV_* (read by the
tests and the web client's tools) are left alone.

`)
	usage(w, newFlagSet(command, new(config)))
}
