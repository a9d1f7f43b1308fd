package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/hlsmark/hlsmark/pipeline/durable"
)

// configFile is a --config file as read: its top-level settings and its
// streams: entries, each key with the line it is on. Its keys are the
// long flag names of serve with '_' for '-'; a stream's name is its
// `name` (the flag --stream).
type configFile struct {
	path    string
	server  []setting
	entries []streamEntry
	// doc is the file as parsed, and list its streams: sequence, which
	// changes made through the API edit before the file is written back
	// (comments and the other entries kept).
	doc  yaml.Node
	list *yaml.Node
}

// streamEntry is one entry of the streams: list.
type streamEntry struct {
	line     int
	settings []setting
}

// setting is one key of a config file and its value, as text a flag
// takes.
type setting struct {
	key, value string
	// values are the items of a list given to a repeatable flag
	// (webhook): each sets the flag once.
	values []string
	line   int
}

// flag returns the name of the flag the key sets.
func (s setting) flag() string {
	if s.key == "name" {
		return "stream"
	}
	return strings.ReplaceAll(s.key, "_", "-")
}

// readConfigFile reads the YAML file at path. A file that is not YAML, or
// whose shape is not a mapping of settings with a streams: list of
// mappings, is refused naming the line.
func readConfigFile(path string) (*configFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--config: %v", errors.Unwrap(err))
	}
	f := &configFile{path: path}
	doc := &f.doc
	if err := yaml.Unmarshal(b, doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			return nil, usagef("%s:%s: %s", path, m[1], msg[len(m[0]):])
		}
		return nil, usagef("%s: %s", path, msg)
	}
	if len(doc.Content) == 0 {
		return nil, f.errorf(1, "empty: want a mapping with a streams: list")
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, f.errorf(top.Line, "want a mapping of settings with a streams: list")
	}
	pairs, err := f.mapping(top)
	if err != nil {
		return nil, err
	}
	for _, kv := range pairs {
		if kv.key.Value != "streams" {
			s, err := f.setting(kv.key, kv.value)
			if err != nil {
				return nil, err
			}
			f.server = append(f.server, s)
			continue
		}
		if kv.value.Kind != yaml.SequenceNode || len(kv.value.Content) == 0 {
			return nil, f.errorf(kv.key.Line, "key streams: want a list of streams, each a mapping")
		}
		f.list = kv.value
		for _, entry := range kv.value.Content {
			if entry.Kind != yaml.MappingNode {
				return nil, f.errorf(entry.Line, "streams: each stream is a mapping of its settings")
			}
			st := streamEntry{line: entry.Line}
			pairs, err := f.mapping(entry)
			if err != nil {
				return nil, err
			}
			for _, kv := range pairs {
				s, err := f.setting(kv.key, kv.value)
				if err != nil {
					return nil, err
				}
				st.settings = append(st.settings, s)
			}
			f.entries = append(f.entries, st)
		}
	}
	if f.entries == nil {
		return nil, f.errorf(top.Line, "no streams: list")
	}
	return f, nil
}

// yamlLine finds the line a YAML syntax error names.
var yamlLine = regexp.MustCompile(`^line (\d+): `)

// keyValue is one pair of a YAML mapping.
type keyValue struct{ key, value *yaml.Node }

// mapping returns the pairs of mapping node m, refusing a key given twice.
func (f *configFile) mapping(m *yaml.Node) ([]keyValue, error) {
	var pairs []keyValue
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, f.errorf(k.Line, "a key must be a plain name")
		}
		if line, dup := seen[k.Value]; dup {
			return nil, f.errorf(k.Line, "key %s: given twice (first on line %d)", k.Value, line)
		}
		seen[k.Value] = k.Line
		pairs = append(pairs, keyValue{k, v})
	}
	return pairs, nil
}

// setting returns the setting of one key. A value is a scalar, or for
// cors_origin a list of scalars (joined with commas, as the flag takes
// them), or for webhook a list of URLs.
func (f *configFile) setting(k, v *yaml.Node) (setting, error) {
	s := setting{key: k.Value, line: k.Line}
	switch {
	case v.Kind == yaml.ScalarNode:
		s.value = v.Value
	case v.Kind == yaml.SequenceNode && k.Value == "cors_origin":
		var items []string
		for _, item := range v.Content {
			if item.Kind != yaml.ScalarNode {
				return s, f.errorf(item.Line, "key %s: want a list of origins", k.Value)
			}
			items = append(items, item.Value)
		}
		s.value = strings.Join(items, ",")
	case v.Kind == yaml.SequenceNode && k.Value == "webhook":
		for _, item := range v.Content {
			if item.Kind != yaml.ScalarNode {
				return s, f.errorf(item.Line, "key %s: want a list of URLs", k.Value)
			}
			s.values = append(s.values, item.Value)
		}
	default:
		return s, f.errorf(k.Line, "key %s: want a single value", k.Value)
	}
	return s, nil
}

// applyServer sets the serve flags the file's top-level keys name, except
// those the command line set: a flag overrides the file. A stream's key
// at the top level, or a stream's flag on the command line, is refused:
// with --config the streams are the file's.
func (f *configFile) applyServer(cl *commandLine) error {
	perStream := streamFlagNames()
	for name := range perStream {
		if isSet(cl.FlagSet, name) {
			return usagef("--%s: a stream's setting; with --config, set it in the file's streams: entries", name)
		}
	}
	for _, s := range f.server {
		name := s.flag()
		switch {
		case perStream[name]:
			return f.errorf(s.line, "key %s: a stream's setting; put it in an entry of streams:", s.key)
		case name == "config" || cl.Lookup(name) == nil:
			return f.errorf(s.line, "key %s: unknown (keys are serve's long flag names with '_' for '-')", s.key)
		case isSet(cl.FlagSet, name):
			continue
		}
		values := s.values
		if values == nil {
			values = []string{s.value}
		}
		for _, v := range values {
			if err := cl.Set(name, v); err != nil {
				return f.errorf(s.line, "key %s: invalid value %q: %v", s.key, redactedURL(v), err)
			}
		}
	}
	return nil
}

// streamFlagNames returns the names of the flags of one stream.
func streamFlagNames() map[string]bool {
	names := map[string]bool{}
	cl := newCommandLine("stream", "")
	streamFlags(cl, new(streamArgs))
	cl.VisitAll(func(fl *flag.Flag) { names[fl.Name] = true })
	return names
}

// streams returns the streams of the file's streams: list, their folders
// under data, each checked as its flags would be. An error names the
// line and the key at fault.
func (f *configFile) streams(data string) ([]streamConfig, error) {
	var out []streamConfig
	named := map[string]int{}
	stdin := -1 // the stream reading standard input, if any
	for i, e := range f.entries {
		st, err := parseStream(e.settings, data)
		var ke *keyError
		switch {
		case errors.As(err, &ke) && st.Name != "":
			return nil, f.errorf(cmp.Or(ke.line, e.line), "streams[%d] (%s): %s", i, st.Name, ke.msg)
		case errors.As(err, &ke):
			return nil, f.errorf(cmp.Or(ke.line, e.line), "streams[%d]: %s", i, ke.msg)
		case err != nil:
			return nil, err
		}
		if first, dup := named[st.Name]; dup {
			return nil, f.errorf(e.lineOf("name"), "streams[%d]: name %s: taken by streams[%d]", i, st.Name, first)
		}
		named[st.Name] = i
		if st.stdin() {
			if stdin >= 0 {
				return nil, f.errorf(e.lineOf("input"), "streams[%d] (%s): key input: standard input is streams[%d]'s already", i, st.Name, stdin)
			}
			stdin = i
		}
		out = append(out, st)
	}
	return out, nil
}

// lineOf returns the line of the entry's key, or the entry's own line.
func (e streamEntry) lineOf(key string) int {
	for _, s := range e.settings {
		if s.key == key {
			return s.line
		}
	}
	return e.line
}

// keyError is a stream's setting refused: msg names its key, line is
// where it is (0 when it comes from no file, or the key is missing).
type keyError struct {
	line int
	msg  string
}

func (e *keyError) Error() string { return e.msg }

// parseStream returns the stream that settings (a config file's entry, or
// the body of PUT /api/streams/NAME) describe, its folder under data,
// checked as its flags would be. An error is a *keyError naming the key.
// The returned stream's Name is set as soon as the settings give it.
func parseStream(settings []setting, data string) (streamConfig, error) {
	cl := newCommandLine("stream", "")
	var a streamArgs
	streamFlags(cl, &a)
	lines := map[string]int{}
	for _, s := range settings {
		name := s.flag()
		if s.key == "stream" || cl.Lookup(name) == nil {
			return a.streamConfig, &keyError{s.line, fmt.Sprintf("key %s: unknown (keys are a stream's long flag names with '_' for '-', and name)", s.key)}
		}
		if err := cl.Set(name, s.value); err != nil {
			return a.streamConfig, &keyError{s.line, fmt.Sprintf("key %s: invalid value %q: %v", s.key, redactedURL(s.value), err)}
		}
		lines[name] = s.line
	}
	if _, ok := lines["stream"]; !ok {
		a.Name = ""
		return a.streamConfig, &keyError{0, "no name"}
	}
	st, err := a.resolve(cl.FlagSet, data)
	var ue usageError
	if !errors.As(err, &ue) {
		return st, err
	}
	// The check names a flag (--size): name the key (size) instead.
	m := flagInMessage.FindStringSubmatch(ue.msg)
	if m == nil {
		return st, &keyError{0, ue.msg}
	}
	key := strings.ReplaceAll(m[1], "-", "_")
	if m[1] == "stream" {
		key = "name"
	}
	return st, &keyError{lines[m[1]], "key " + key + ue.msg[len(m[0]):]}
}

// flagInMessage finds the flag a usage message starts with.
var flagInMessage = regexp.MustCompile(`^--([a-z0-9-]+)`)

// errorf returns a usage error naming the file and the line.
func (f *configFile) errorf(line int, format string, args ...any) error {
	return usagef("%s:%d: %s", f.path, line, fmt.Sprintf(format, args...))
}

// putEntry sets the entry of the stream called name to settings: in place
// of the entry of that name, or at the end of the list.
func (f *configFile) putEntry(name string, settings []setting) {
	entry := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	scalar := func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }
	entry.Content = append(entry.Content, scalar("name"), scalar(name))
	for _, s := range settings {
		if s.key != "name" {
			entry.Content = append(entry.Content, scalar(s.key), scalar(s.value))
		}
	}
	if i := f.entryIndex(name); i >= 0 {
		entry.HeadComment = f.list.Content[i].HeadComment
		f.list.Content[i] = entry
		return
	}
	f.list.Content = append(f.list.Content, entry)
}

// dropEntry removes the entry of the stream called name, if any.
func (f *configFile) dropEntry(name string) {
	if i := f.entryIndex(name); i >= 0 {
		f.list.Content = append(f.list.Content[:i], f.list.Content[i+1:]...)
	}
}

// entryIndex returns the index in the streams: list of the entry whose
// name is name, or -1.
func (f *configFile) entryIndex(name string) int {
	for i, entry := range f.list.Content {
		for j := 0; j+1 < len(entry.Content); j += 2 {
			if entry.Content[j].Value == "name" && entry.Content[j+1].Value == name {
				return i
			}
		}
	}
	return -1
}

// save writes the file back, durably: a crash leaves the old file or the
// new one, whole.
func (f *configFile) save() error {
	b, err := yaml.Marshal(&f.doc)
	if err != nil {
		return fmt.Errorf("config %s: %w", f.path, err)
	}
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(f.path); err == nil {
		mode = fi.Mode().Perm()
	}
	if err := durable.WriteFile(f.path, b, mode); err != nil {
		return fmt.Errorf("config %s: %w", f.path, err)
	}
	return nil
}
