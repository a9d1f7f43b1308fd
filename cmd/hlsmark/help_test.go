package main

import (
	"flag"
	"strings"
	"testing"
)

// TestHelpListsEveryFlag runs `hlsmark <command> -h` and `--help` for
// every command: exit 0, nothing on stderr, and on stdout an entry for
// every flag the command's flag set registers, with its meaning and, but
// for empty strings and false booleans, its default as the flag set holds
// it.
func TestHelpListsEveryFlag(t *testing.T) {
	for _, flags := range helpFlags {
		cl := flags()
		t.Run(cl.Name(), func(t *testing.T) {
			for _, h := range []string{"-h", "--help"} {
				r := runCLI(t, t.TempDir(), cl.Name(), h)
				if r.code != 0 || r.stderr != "" {
					t.Fatalf("%s %s: exit %d, stderr %q; want 0 and nothing", cl.Name(), h, r.code, r.stderr)
				}
				entries := helpEntries(r.stdout)
				n := 0
				cl.VisitAll(func(f *flag.Flag) {
					n++
					entry, ok := entries["--"+f.Name]
					if !ok {
						t.Errorf("%s %s lists no --%s:\n%s", cl.Name(), h, f.Name, r.stdout)
						return
					}
					_, usage := flag.UnquoteUsage(f)
					for _, line := range strings.Split(usage, "\n") {
						if !strings.Contains(entry, line) {
							t.Errorf("%s %s: the entry of --%s does not say %q:\n%s", cl.Name(), h, f.Name, line, entry)
						}
					}
					def := "(default " + f.DefValue + ")"
					if f.DefValue != "" && f.DefValue != "false" && !strings.HasSuffix(entry, def) {
						t.Errorf("%s %s: the entry of --%s does not end with %q:\n%s", cl.Name(), h, f.Name, def, entry)
					}
				})
				if n == 0 || len(entries) != n {
					t.Errorf("%s %s lists %d flags, the flag set has %d", cl.Name(), h, len(entries), n)
				}
			}
		})
	}
}

// helpEntries returns the flag entries of a help text by flag ("--addr"):
// each from its line, which starts with two spaces and the flag, through
// the lines indented deeper that continue it, joined by spaces.
func helpEntries(help string) map[string]string {
	entries := map[string]string{}
	var last string
	for _, line := range strings.Split(help, "\n") {
		switch {
		case strings.HasPrefix(line, "  --"):
			last = strings.Fields(line)[0]
			entries[last] = strings.TrimSpace(line)
		case last != "" && strings.HasPrefix(line, "   "):
			entries[last] += " " + strings.TrimSpace(line)
		default:
			last = ""
		}
	}
	return entries
}

// TestHelpOfEveryCommand runs `hlsmark -h`, `--help` and `help`: exit 0,
// nothing on stderr, and on stdout each command's own help in full.
func TestHelpOfEveryCommand(t *testing.T) {
	for _, h := range []string{"-h", "--help", "help"} {
		r := runCLI(t, t.TempDir(), h)
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("hlsmark %s: exit %d, stderr %q; want 0 and nothing", h, r.code, r.stderr)
		}
		for _, flags := range helpFlags {
			name := flags().Name()
			own := runCLI(t, t.TempDir(), name, "-h")
			if own.code != 0 || !strings.Contains(r.stdout, own.stdout) {
				t.Errorf("hlsmark %s does not hold `hlsmark %s -h` (exit %d):\n%s\nhlsmark %s printed:\n%s", h, name, own.code, own.stdout, h, r.stdout)
			}
		}
	}
}
