package main

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"strings"
)

// tokenEnv names the environment variable that can hold the bearer token,
// out of sight of the process list.
const tokenEnv = "HLSMARK_TOKEN"

// tokenNotes is what `serve -h` says about the token's sources.
const tokenNotes = `Environment:
  ` + tokenEnv + `  the bearer token, if neither --token nor --token-file is given

Giving both --token and --token-file is refused; either one overrides
` + tokenEnv + `.
`

// tokenArgs are the bearer token flags as typed.
type tokenArgs struct {
	token, file string
}

// register adds --token and --token-file to fs.
func (t *tokenArgs) register(fs *flag.FlagSet) {
	fs.StringVar(&t.token, "token", "", "bearer `token` marker POSTs must carry (empty: none, for local\nuse); other users of this machine can read it in the process\nlist: prefer --token-file or "+tokenEnv)
	fs.StringVar(&t.file, "token-file", "", "`file` holding the bearer token; a trailing newline is dropped")
}

// resolve returns the bearer token, "" for none: --token's value if the
// flag was given (even empty), else the first line of --token-file's file,
// else the environment's HLSMARK_TOKEN. It refuses, naming the source:
// both flags at once, a token file that cannot be read or is empty, an
// empty HLSMARK_TOKEN, and a token with spaces or control characters,
// which no client could send as it is (HTTP trims the spaces around a
// header's value and has no room for control characters).
func (t tokenArgs) resolve(set *flag.FlagSet, lookupEnv func(string) (string, bool)) (string, error) {
	source, token, err := t.find(set, lookupEnv)
	if err != nil {
		return "", err
	}
	if strings.ContainsFunc(token, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "", usagef("%s: the token holds a space, a line break or a control character; write it on one line, without spaces", source)
	}
	return token, nil
}

// find returns the token and where it came from, by resolve's precedence.
func (t tokenArgs) find(set *flag.FlagSet, lookupEnv func(string) (string, bool)) (source, token string, err error) {
	given := map[string]bool{}
	set.Visit(func(f *flag.Flag) { given[f.Name] = true })
	switch {
	case given["token"] && given["token-file"]:
		return "", "", usagef("--token and --token-file: give the token one way")
	case given["token"]:
		return "--token", t.token, nil
	case given["token-file"]:
		source = "--token-file " + t.file
		b, err := os.ReadFile(t.file)
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the message names the file already
		}
		if err != nil {
			return "", "", usagef("%s: %v", source, err)
		}
		token = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		if token == "" {
			return "", "", usagef("%s: the file is empty", source)
		}
		return source, token, nil
	}
	token, ok := lookupEnv(tokenEnv)
	if ok && token == "" {
		return "", "", usagef("%s is set but empty (unset it for no token)", tokenEnv)
	}
	return tokenEnv, token, nil
}
