package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sdnli/sdnli/analyzer/audit"
	"github.com/sdnli/sdnli/analyzer/auth"
	"github.com/sdnli/sdnli/schema"
)

func init() {
	register("user", "manage analyzer accounts: add, list, passwd, disable, enable", runUser)
}

// stdin is where passwords are read; a variable for tests.
var stdin io.Reader = os.Stdin

const userUsage = `Usage: sdnli user <add|list|passwd|disable|enable> --db DSN [flags]

  add      --name NAME --role admin|analyst|auditor   create an account
  list                                                 list accounts
  passwd   --name NAME                                 set a new password
  disable  --name NAME                                 lock an account out (ends its sessions)
  enable   --name NAME                                 let it in again

Passwords are read from standard input (one line; typed twice, without
echo, when it is a terminal): there is no default password. Create the
first administrator with 'sdnli user add --role admin'. Every change is
written to the audit log with the operating-system user as actor.`

func runUser(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stdout, userUsage)
		if len(args) == 0 {
			return usageError{errors.New("missing sub-command")}
		}
		return nil
	}
	sub := args[0]
	fs := newFlagSet("user "+sub, "--db DSN [flags]", userUsage, stderr)
	dsn := fs.String("db", envDefault("SDNLI_DB", ""), "MySQL DSN (env SDNLI_DB)")
	name := fs.String("name", "", "user name (letters, digits, '.', '_', '-', '@'; at most 64)")
	role := fs.String("role", "", "role: admin, analyst or auditor")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	switch sub {
	case "add", "list", "passwd", "disable", "enable":
	default:
		return usageError{fmt.Errorf("unknown sub-command %q (add, list, passwd, disable, enable)", sub)}
	}
	if *dsn == "" {
		return usageError{errors.New("--db is required")}
	}
	if sub != "list" && *name == "" {
		return usageError{errors.New("--name is required")}
	}
	if sub == "add" && !auth.ValidRole(*role) {
		return usageError{fmt.Errorf("--role must be one of %s", strings.Join(auth.Roles, ", "))}
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := schema.Migrate(ctx, db); err != nil {
		return err
	}
	users := auth.NewUsers(db, 0)
	switch sub {
	case "list":
		return listUsers(ctx, users, stdout)
	case "add":
		pw, err := readPassword(stderr)
		if err != nil {
			return err
		}
		u, err := users.Create(ctx, *name, *role, pw)
		auditCLI(ctx, db, audit.ActionUserCreate, *name, err, map[string]string{"role": *role})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created %s (%s)\n", u.Name, u.Role)
	case "passwd":
		pw, err := readPassword(stderr)
		if err != nil {
			return err
		}
		err = users.SetPassword(ctx, *name, pw)
		if err == nil {
			err = endSessions(ctx, db, users, *name)
		}
		auditCLI(ctx, db, audit.ActionUserUpdate, *name, err, map[string]string{"password": "changed"})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %s changed\n", *name)
	case "disable", "enable":
		off := sub == "disable"
		err := users.SetDisabled(ctx, *name, off)
		if err == nil && off {
			err = endSessions(ctx, db, users, *name)
		}
		auditCLI(ctx, db, audit.ActionUserUpdate, *name, err, map[string]bool{"disabled": off})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s %sd\n", *name, sub)
	}
	return nil
}

func listUsers(ctx context.Context, users *auth.Users, stdout io.Writer) error {
	list, err := users.List(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tSTATE\tCREATED\tLAST LOGIN")
	for _, u := range list {
		state, last := "enabled", "never"
		if u.Disabled {
			state = "disabled"
		}
		if u.LastLoginAt != nil {
			last = u.LastLoginAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, state, u.CreatedAt.Format(time.RFC3339), last)
	}
	return tw.Flush()
}

func endSessions(ctx context.Context, db *sql.DB, users *auth.Users, name string) error {
	u, err := users.Get(ctx, name)
	if err != nil {
		return err
	}
	return auth.NewSessions(db).DeleteUser(ctx, u.ID)
}

// auditCLI records an account change made on the command line, with the
// operating-system user as the actor.
func auditCLI(ctx context.Context, db *sql.DB, action, target string, opErr error, detail any) {
	actor := "cli"
	if u, err := user.Current(); err == nil {
		actor = "cli:" + u.Username
	}
	e := audit.Entry{Actor: actor, ClientIP: "local", Action: action, Target: target, Outcome: audit.OutcomeOK}
	if opErr != nil {
		e.Outcome = audit.OutcomeFailure
		detail = map[string]any{"change": detail, "error": opErr.Error()}
	}
	if _, err := audit.New(db).Append(ctx, e, detail); err != nil {
		fmt.Fprintf(os.Stderr, "sdnli user: warning: %v\n", err)
	}
}

// readPassword reads one line from standard input; on a terminal it
// prompts twice with echo off.
func readPassword(stderr io.Writer) (string, error) {
	f, isFile := stdin.(*os.File)
	tty := false
	if isFile {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	r := bufio.NewReader(stdin)
	read := func(prompt string) (string, error) {
		if tty {
			fmt.Fprint(stderr, prompt)
			if echo(f, false) == nil {
				defer func() { _ = echo(f, true); fmt.Fprintln(stderr) }()
			}
		}
		line, err := r.ReadString('\n')
		if err != nil && (err != io.EOF || line == "") {
			return "", fmt.Errorf("reading the password from standard input: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	pw, err := read("Password: ")
	if err != nil {
		return "", err
	}
	if err := auth.CheckPasswordPolicy(pw); err != nil {
		return "", err
	}
	if tty {
		again, err := read("Again: ")
		if err != nil {
			return "", err
		}
		if again != pw {
			return "", errors.New("the two passwords differ")
		}
	}
	return pw, nil
}

// echo turns terminal echo on or off with stty (no terminal library
// needed for this one switch).
func echo(tty *os.File, on bool) error {
	arg := "-echo"
	if on {
		arg = "echo"
	}
	cmd := exec.Command("stty", arg)
	cmd.Stdin = tty
	return cmd.Run()
}
