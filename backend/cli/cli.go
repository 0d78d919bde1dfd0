// Package cli runs the subcommands of Outpost's command-line programs
// (outpost-admin, outpost-server, outpost-release) the same way: exit 0
// when the command succeeds, 2 for a command line that cannot run as
// typed, 1 for any other failure.
package cli

import (
	"errors"
	"fmt"
	"io"
)

// UsageError is a command line that cannot be run as typed (exit 2).
type UsageError string

func (u UsageError) Error() string { return string(u) }

// Command runs one subcommand with the arguments after its name.
type Command func(args []string) error

// Program is a command-line program and its subcommands.
type Program struct {
	Name     string
	Usage    string
	Commands map[string]Command
	// Describe words a failure for the operator; nil: the error's text.
	Describe       func(error) string
	Stdout, Stderr io.Writer
}

// Run runs the subcommand args[0] and returns the exit status. "help",
// "-h" and "--help" print the usage.
func (p Program) Run(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(p.Stderr, p.Usage)
		return 2
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "--help":
		fmt.Fprint(p.Stdout, p.Usage)
		return 0
	}
	cmd, ok := p.Commands[name]
	if !ok {
		fmt.Fprintf(p.Stderr, "%s: unknown command %q\n\n%s", p.Name, name, p.Usage)
		return 2
	}
	err := cmd(rest)
	var ue UsageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(p.Stderr, "%s %s: %s\n", p.Name, name, string(ue))
		return 2
	default:
		msg := err.Error()
		if p.Describe != nil {
			msg = p.Describe(err)
		}
		fmt.Fprintf(p.Stderr, "%s %s: %s\n", p.Name, name, msg)
		return 1
	}
}
