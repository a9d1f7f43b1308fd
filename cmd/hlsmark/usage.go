package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// usageError is a bad command line: main prints it on one line and exits 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

// helpRequest is what parsing returns for -h or --help: main prints the
// command's help on stdout and exits 0.
type helpRequest struct{ cl *commandLine }

func (helpRequest) Error() string { return "help requested" }

// helpFlags are the commands' flag sets, bound to values nobody reads, in
// the order `hlsmark -h` lists them.
var helpFlags = []func() *commandLine{
	func() *commandLine { return serveFlags(new(serveArgs)) },
	func() *commandLine { return edgeFlags(new(edgeArgs)) },
	func() *commandLine { return benchFlags(new(benchArgs)) },
	func() *commandLine { return healthcheckFlags(new(string)) },
}

// writeHelp writes `hlsmark -h`: the commands, then each one's help.
func writeHelp(w io.Writer) {
	fmt.Fprint(w, "usage: hlsmark <command> [flags]\n\ncommands:\n")
	for _, flags := range helpFlags {
		cl := flags()
		about, _, _ := strings.Cut(cl.about, "\n")
		fmt.Fprintf(w, "  %-12s %s\n", cl.Name(), about)
	}
	for _, flags := range helpFlags {
		fmt.Fprint(w, "\n")
		flags().writeHelp(w)
	}
}

// commandLine is one command's flag set, with its flags filed under
// headings for -h.
type commandLine struct {
	*flag.FlagSet
	about  string // what the command does: a one-line summary, then more lines if needed
	notes  string // what -h prints after the flags, if anything
	groups []flagGroup
}

// flagGroup is a heading of -h and the flags under it.
type flagGroup struct {
	title string
	names []string
}

// newCommandLine returns the flag set of `hlsmark name`. Its errors come
// back to the caller, which prints them on one line, and -h comes back as
// a helpRequest: the flag package prints nothing itself.
func newCommandLine(name, about string) *commandLine {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &commandLine{FlagSet: fs, about: about}
}

// group files the flags that register adds under title; -h lists the
// groups in the order they were made, and a group's flags by name.
func (cl *commandLine) group(title string, register func(fs *flag.FlagSet)) {
	before := map[string]bool{}
	cl.VisitAll(func(f *flag.Flag) { before[f.Name] = true })
	register(cl.FlagSet)
	g := flagGroup{title: title}
	cl.VisitAll(func(f *flag.Flag) {
		if !before[f.Name] {
			g.names = append(g.names, f.Name)
		}
	})
	cl.groups = append(cl.groups, g)
}

// parse parses args. It returns a helpRequest for -h or --help, and a
// usageError naming the flag as it was typed for anything else wrong.
func (cl *commandLine) parse(args []string) error {
	err := cl.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return helpRequest{cl}
	case err != nil:
		return usageError{redactPasswords(asTyped(err.Error(), args), args)}
	case cl.NArg() > 0:
		return usagef("unexpected argument %q", cl.Arg(0))
	}
	return nil
}

// asTyped rewrites a flag package error so that it names the flag the way
// it was typed: the package writes "-name" even for "--name". It also
// calls an unknown flag an unknown flag.
func asTyped(msg string, args []string) string {
	msg = strings.Replace(msg, "flag provided but not defined", "unknown flag", 1)
	for _, arg := range args {
		if arg == "--" {
			break
		}
		typed, _, _ := strings.Cut(arg, "=")
		if !strings.HasPrefix(typed, "--") || len(typed) == 2 {
			continue
		}
		// The package's messages end the name with a colon or the message.
		single := " " + typed[1:]
		if strings.HasSuffix(msg, single) {
			return strings.TrimSuffix(msg, single) + " " + typed
		}
		if i := strings.Index(msg, single+":"); i >= 0 {
			return msg[:i] + " " + typed + msg[i+len(single):]
		}
	}
	return msg
}

// writeHelp writes the command's help: what it does, then every flag
// under its group's heading, with its meaning and its default as the flag
// set holds it.
func (cl *commandLine) writeHelp(w io.Writer) {
	fmt.Fprintf(w, "usage: hlsmark %s [flags]\n\n%s\n", cl.Name(), cl.about)
	type entry struct{ synopsis, usage, def string }
	width := 0
	entries := map[string]entry{}
	cl.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		e := entry{synopsis: "--" + f.Name, usage: usage}
		if arg != "" {
			e.synopsis += " " + arg
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); f.DefValue != "" && !(ok && b.IsBoolFlag() && f.DefValue == "false") {
			e.def = " (default " + f.DefValue + ")"
		}
		width = max(width, len(e.synopsis))
		entries[f.Name] = e
	})
	indent := "\n" + strings.Repeat(" ", 2+width+2)
	for _, g := range cl.groups {
		fmt.Fprintf(w, "\n%s:\n", g.title)
		for _, name := range g.names {
			e := entries[name]
			fmt.Fprintf(w, "  %-*s  %s%s\n", width, e.synopsis, strings.ReplaceAll(e.usage, "\n", indent), e.def)
		}
	}
	if cl.notes != "" {
		fmt.Fprintf(w, "\n%s", cl.notes)
	}
}

// redactPasswords replaces, in msg, every value among args that is a URL
// with a password (a database's, a camera's) by the URL with the password
// as "xxxxx": the flag package quotes a refused value in its message,
// which goes to logs and terminals.
func redactPasswords(msg string, args []string) string {
	for _, arg := range args {
		_, v, _ := strings.Cut(arg, "=")
		for _, s := range []string{arg, v} {
			if r := redactedURL(s); r != s {
				msg = strings.ReplaceAll(msg, s, r)
			}
		}
	}
	return msg
}

// redactedURL returns s with its password replaced by "xxxxx" if it is a
// URL that has one, else s.
func redactedURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); !ok {
		return s
	}
	return u.Redacted()
}
