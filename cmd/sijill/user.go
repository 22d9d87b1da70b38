package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/sijill/sijill/archive"
)

func runUser(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const help = `usage:
  sijill user add USERNAME --role ROLE      (password from SIJILL_USER_PASSWORD)
  sijill user passwd USERNAME               (new password from SIJILL_USER_PASSWORD)
  sijill user disable USERNAME
  sijill user list`
	if len(args) == 0 {
		fmt.Fprintln(stderr, help)
		return exitCode(2)
	}
	verb, rest := args[0], args[1:]
	var name string
	if verb != "list" {
		if len(rest) == 0 {
			fmt.Fprintln(stderr, help)
			return exitCode(2)
		}
		name, rest = rest[0], rest[1:]
	}
	fs := flag.NewFlagSet("user", flag.ContinueOnError)
	fs.SetOutput(stderr)
	role := fs.String("role", archive.RoleReader, "admin, secretary, reader or auditor")
	cfg, err := parseConfig(fs, rest, getenv)
	if err != nil {
		return exitCode(2)
	}
	store, err := openStore(ctx, cfg, newLogger(stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	password := getenv("SIJILL_USER_PASSWORD")
	switch verb {
	case "add":
		if _, err := store.CreateUser(ctx, "cli", name, password, *role); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "added %s (%s)\n", name, *role)
	case "passwd":
		if _, err := store.UpdateUser(ctx, "cli", name, archive.UserUpdate{Password: &password}); err != nil {
			return err
		}
		// Whoever held a session with the old password is out.
		if _, err := store.RevokeUserTokens(ctx, name, ""); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "changed the password of %s\n", name)
	case "disable":
		yes := true
		if _, err := store.UpdateUser(ctx, "cli", name, archive.UserUpdate{Disabled: &yes}); err != nil {
			return err
		}
		if _, err := store.RevokeUserTokens(ctx, name, ""); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "disabled %s\n", name)
	case "list":
		users, err := store.Users(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USERNAME\tROLE\tDISABLED")
		for _, u := range users {
			fmt.Fprintf(tw, "%s\t%s\t%v\n", u.Username, u.Role, u.Disabled)
		}
		return tw.Flush()
	default:
		fmt.Fprintln(stderr, help)
		return exitCode(2)
	}
	return nil
}
