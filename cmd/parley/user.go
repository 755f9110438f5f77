package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/hub"
	"github.com/parley-chat/parley/redis"
)

// The administrative commands of accounts, for operators: they open the
// database that the settings name, as migrate does, and change it
// directly, so they work whether or not a server runs.
//
//	parley user add [-admin] [-display-name NAME] NAME
//	parley user reset-password NAME
//	parley user deactivate NAME
//	parley user activate NAME
//	parley token create [-label LABEL] [-expires-in DURATION] NAME
//
// Passwords are read from standard input, one line, so that they are in
// no command line and no shell history. Sessions that a command ends are
// ended in the store at once; with -redis-url, the servers are told too,
// and close those sessions' connections at once, as when an admin does it
// on the web. Without Redis, a server's open connections of an ended
// session stay until they reconnect, when their session is refused.

// accountCommands are the commands of accounts, by name.
var accountCommands = map[string]string{
	"user add":            "make an account",
	"user reset-password": "set a new password, ending every session",
	"user deactivate":     "deactivate an account, ending every session",
	"user activate":       "reactivate an account",
	"token create":        "make a bearer token for a bot or a script",
}

// accountOptions are the flags of the account commands themselves, besides
// the settings.
type accountOptions struct {
	admin       bool
	displayName string
	label       string
	expiresIn   time.Duration
}

func (o *accountOptions) flagSet(command string) *flag.FlagSet {
	fs := flag.NewFlagSet("parley "+command, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	switch command {
	case "user add":
		fs.BoolVar(&o.admin, "admin", false, "Make the account an admin's.")
		fs.StringVar(&o.displayName, "display-name", "", "How the person is shown; empty shows the name.")
	case "token create":
		fs.StringVar(&o.label, "label", "", "Says which bot or script holds the token.")
		o.expiresIn = 365 * 24 * time.Hour
		fs.DurationVar(&o.expiresIn, "expires-in", o.expiresIn, "How long the token lasts, such as 720h.")
	}
	return fs
}

// splitAccountArgs separates args into the command's own flags, the
// settings' flags (with their values), and the one name the command
// takes.
func splitAccountArgs(command string, args []string, own *flag.FlagSet) (ownArgs, settings []string, name string, err error) {
	var c config
	settingsFS := newFlagSet("migrate", &c)
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "-h" || arg == "-help" || arg == "--help" {
			return nil, nil, "", flag.ErrHelp
		}
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			if name != "" {
				return nil, nil, "", fmt.Errorf("parley %s takes one name; got %q and %q", command, name, arg)
			}
			name = arg
			continue
		}
		flagName, _, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		var fs *flag.FlagSet
		var target *[]string
		switch {
		case own.Lookup(flagName) != nil:
			fs, target = own, &ownArgs
		case settingsFS.Lookup(flagName) != nil:
			fs, target = settingsFS, &settings
		default:
			return nil, nil, "", fmt.Errorf("unknown flag %s (run 'parley help %s')", arg, command)
		}
		*target = append(*target, arg)
		if b, ok := fs.Lookup(flagName).Value.(interface{ IsBoolFlag() bool }); hasValue || (ok && b.IsBoolFlag()) {
			continue
		}
		if i+1 == len(args) {
			return nil, nil, "", fmt.Errorf("flag %s needs a value", arg)
		}
		i++
		*target = append(*target, args[i])
	}
	if name == "" {
		return nil, nil, "", fmt.Errorf("parley %s needs the account's name", command)
	}
	return ownArgs, settings, name, nil
}

// accountCommand runs one of accountCommands.
func accountCommand(ctx context.Context, command string, args, environ []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var o accountOptions
	own := o.flagSet(command)
	ownArgs, settings, name, err := splitAccountArgs(command, args, own)
	if err == flag.ErrHelp {
		accountHelp(stdout, command)
		return nil
	}
	if err != nil {
		return err
	}
	if err := own.Parse(ownArgs); err != nil {
		return fmt.Errorf("%v (run 'parley help %s')", err, command)
	}
	cfg, err := parseConfig("migrate", settings, environ)
	if err != nil {
		return err
	}
	logger := newLogger(stderr, cfg)
	for _, w := range cfg.warnings {
		logger.Warn(w)
	}
	store, err := openStore(ctx, cfg.database, nil)
	if err != nil {
		return err
	}
	defer store.Close()

	var ended []string
	switch command {
	case "user add":
		password, err := readPassword(stdin)
		if err != nil {
			return err
		}
		a := &parley.Account{Name: name, DisplayName: o.displayName, Admin: o.admin,
			PasswordHash: parley.HashPassword(password, parley.DefaultPasswordParams)}
		if err := store.CreateAccount(ctx, a); err != nil {
			return fmt.Errorf("add %q: %w", name, err)
		}
		role := "account"
		if a.Admin {
			role = "admin account"
		}
		fmt.Fprintf(stdout, "made the %s %s\n", role, a.Name)
	case "user reset-password":
		password, err := readPassword(stdin)
		if err != nil {
			return err
		}
		hash := parley.HashPassword(password, parley.DefaultPasswordParams)
		if ended, err = store.UpdateAccount(ctx, name, parley.AccountUpdate{PasswordHash: &hash}); err != nil {
			return fmt.Errorf("reset the password of %q: %w", name, err)
		}
		fmt.Fprintf(stdout, "set a new password for %s; ended %s\n", name, plural(len(ended), "session"))
	case "user deactivate", "user activate":
		active := command == "user activate"
		if ended, err = store.UpdateAccount(ctx, name, parley.AccountUpdate{Active: &active}); err != nil {
			return fmt.Errorf("%s %q: %w", strings.TrimPrefix(command, "user "), name, err)
		}
		fmt.Fprintf(stdout, "%sd %s; ended %s\n", strings.TrimPrefix(command, "user "), name, plural(len(ended), "session"))
	case "token create":
		token, err := store.CreateAccountSession(ctx, name, parley.SessionToken, o.label, o.expiresIn)
		if err != nil {
			return fmt.Errorf("make a token for %q: %w", name, err)
		}
		// The token alone on standard output, for scripts; what it is on
		// standard error.
		fmt.Fprintln(stdout, token)
		fmt.Fprintf(stderr, "a bearer token of %s, lasting until %s; it is shown only now\n",
			name, time.Now().Add(o.expiresIn).UTC().Format(time.RFC3339))
	}
	return tellServers(ctx, logger, cfg, ended)
}

// tellServers tells the servers that share Redis to close the connections
// of the sessions ended.
func tellServers(ctx context.Context, logger *slog.Logger, cfg *config, ended []string) error {
	if len(ended) == 0 {
		return nil
	}
	if cfg.redisURL == "" {
		logger.Info("without -redis-url the servers are not told: connections of the ended sessions close when they next reconnect")
		return nil
	}
	broker, err := redis.NewBroker(cfg.redisURL, logger)
	if err != nil {
		return err
	}
	defer broker.Close()
	if err := hub.PublishEndedSessions(ctx, broker, ended...); err != nil {
		return fmt.Errorf("tell the servers of the ended sessions: %w", err)
	}
	return nil
}

// readPassword reads a password, the first line of r, and checks it.
func readPassword(r io.Reader) (string, error) {
	if r == nil {
		return "", fmt.Errorf("the password is read from standard input, which is empty")
	}
	line, err := bufio.NewReader(io.LimitReader(r, parley.MaxPasswordBytes+2)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read the password: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	if password == "" {
		return "", fmt.Errorf("the password is read from standard input, one line: none was given")
	}
	return password, parley.ValidatePassword(password)
}

// accountHelp writes the help of an account command to w.
func accountHelp(w io.Writer, command string) {
	usage := map[string]string{
		"user add":            "parley user add [-admin] [-display-name NAME] [settings] NAME",
		"user reset-password": "parley user reset-password [settings] NAME",
		"user deactivate":     "parley user deactivate [settings] NAME",
		"user activate":       "parley user activate [settings] NAME",
		"token create":        "parley token create [-label LABEL] [-expires-in DURATION] [settings] NAME",
	}[command]
	fmt.Fprintf(w, "Usage: %s\n\n%s, in the database that -database names.\n", usage, strings.ToUpper(accountCommands[command][:1])+accountCommands[command][1:])
	switch command {
	case "user add", "user reset-password":
		fmt.Fprint(w, "The password is read from standard input, one line, such as:\n  printf '%s\\n' \"$PASSWORD\" | "+usage+"\nIt must have at least 8 characters.\n")
	case "token create":
		fmt.Fprint(w, "The token is printed alone on standard output, once; present it as\nAuthorization: Bearer TOKEN. Revoke it on the account's sessions page, or\nwith DELETE /api/sessions/{id}.\n")
	}
	fmt.Fprint(w, `
Sessions the command ends close their connections at once on the servers
that share the Redis of -redis-url; without it, when they next reconnect.

`)
	var o accountOptions
	fs := o.flagSet(command)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprintln(w, "\nSettings: as for parley migrate (parley help migrate); -database and -redis-url matter.")
}
