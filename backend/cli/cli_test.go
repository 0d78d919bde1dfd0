package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	p := func(out, errOut *bytes.Buffer) Program {
		return Program{Name: "tool", Usage: "usage: tool cmd\n", Stdout: out, Stderr: errOut,
			Describe: func(err error) string { return "described: " + err.Error() },
			Commands: map[string]Command{
				"ok":    func([]string) error { return nil },
				"usage": func([]string) error { return UsageError("--x is required") },
				"fail":  func([]string) error { return errors.New("disk full") },
				"args": func(args []string) error {
					if strings.Join(args, " ") != "a b" {
						return errors.New("wrong args")
					}
					return nil
				},
			}}
	}
	for _, tc := range []struct {
		args             []string
		want             int
		wantOut, wantErr string
	}{
		{nil, 2, "", "usage: tool cmd\n"},
		{[]string{"help"}, 0, "usage: tool cmd\n", ""},
		{[]string{"ok"}, 0, "", ""},
		{[]string{"args", "a", "b"}, 0, "", ""},
		{[]string{"usage"}, 2, "", "tool usage: --x is required\n"},
		{[]string{"fail"}, 1, "", "tool fail: described: disk full\n"},
		{[]string{"nope"}, 2, "", "tool: unknown command \"nope\"\n\nusage: tool cmd\n"},
	} {
		var out, errOut bytes.Buffer
		if got := p(&out, &errOut).Run(tc.args); got != tc.want || out.String() != tc.wantOut || errOut.String() != tc.wantErr {
			t.Errorf("Run(%q) = %d, %q, %q; want %d, %q, %q", tc.args, got, out.String(), errOut.String(), tc.want, tc.wantOut, tc.wantErr)
		}
	}
}
